import type { FieldProblem } from "../../lib/errors";
import { pageOf } from "../../lib/params";
import type { ProductSort, ProductStatusFilter, UpdateProductParams } from "./catalog.types";

/**
 * Pure rules of the catalog: how a listing becomes SQL, and how a patch becomes an UPDATE.
 * No I/O here; the repository runs what these build.
 */

export interface ListFilters {
	/** Which products: active ones (the default, all a shopper sees), archived ones, or all (staff). */
	status?: ProductStatusFilter;
	search?: string;
	category?: string;
	minPrice?: number;
	maxPrice?: number;
	sort?: ProductSort;
}

export interface ListQuery {
	/** `WHERE ...` over the products of the filter's status (active ones by default); its parameters are `bind`. */
	where: string;
	bind: unknown[];
	/** The ORDER BY list, always ending with `id` so pages never overlap or skip. */
	orderBy: string;
	/** An extra select-list item for the relevance rank, when searching. */
	rank?: string;
}

const SORT_SQL: Record<ProductSort, string> = {
	price: "price_cents ASC, id ASC",
	"-price": "price_cents DESC, id ASC",
	name: "lower(name) ASC, id ASC",
	"-name": "lower(name) DESC, id ASC",
	createdAt: "created_at ASC, id ASC",
	"-createdAt": "created_at DESC, id ASC"
};

export function buildListQuery(f: ListFilters): ListQuery {
	const bind: unknown[] = [];
	const param = (v: unknown): string => {
		bind.push(v);
		return `$${bind.length}`;
	};
	const conditions = f.status === "all" ? ["true"] : f.status === "archived" ? ["NOT active"] : ["active"];
	let rank: string | undefined;
	if (f.search !== undefined) {
		const q = `websearch_to_tsquery('english', ${param(f.search)})`;
		conditions.push(`search_vector @@ ${q}`);
		rank = `ts_rank(search_vector, ${q})`;
	}
	if (f.category !== undefined) conditions.push(`lower(category) = lower(${param(f.category)})`);
	// bigint: a filter beyond the largest price is legal and must not overflow an integer parameter
	if (f.minPrice !== undefined) conditions.push(`price_cents >= ${param(f.minPrice)}::bigint`);
	if (f.maxPrice !== undefined) conditions.push(`price_cents <= ${param(f.maxPrice)}::bigint`);

	let orderBy: string;
	if (f.sort) orderBy = SORT_SQL[f.sort];
	else if (rank) orderBy = "rank DESC, created_at DESC, id ASC";
	else orderBy = SORT_SQL["-createdAt"];

	return { where: conditions.join(" AND "), bind, orderBy, rank };
}

/** The columns a listing answers (the repository maps them to ProductDto). */
export const PRODUCT_COLUMNS = "id, sku, name, description, price_cents, category, image_url, active, created_at, updated_at";

export interface Statement {
	text: string;
	values: unknown[];
}

/**
 * How deep a listing goes: its pages reach the first MAX_LISTING_DEPTH products of any order, its `total`
 * counts at most this many, and a search ranks this many matches by relevance (the newest ones). Every
 * listing request then costs at most about this many index entries, however large the catalog: an anonymous
 * caller cannot make one request walk 100,000 products. Shoppers narrow a listing with a search or filters.
 */
export const MAX_LISTING_DEPTH = 1000;

/** The order in which a search picks the matches it ranks (the newest), and the count walks them. */
const CANDIDATE_ORDER = SORT_SQL["-createdAt"];

/**
 * The two statements of one listing page, exactly as the repository runs them: the page's rows, and the
 * total (counted up to MAX_LISTING_DEPTH). Both walk the listing's own order, so each stops after at most
 * MAX_LISTING_DEPTH products (an index does the walking; see catalog.migrations.ts).
 */
export function listStatements(f: ListFilters, page: { limit: number; offset: number }): { rows: Statement; count: Statement } {
	const q = buildListQuery(f);
	const n = q.bind.length;
	const depth = `$${n + 3}`;
	const byRank = q.rank !== undefined && f.sort === undefined;
	const rows: Statement = byRank
		? {
				// rank only the newest MAX_LISTING_DEPTH matches: ts_rank over every match of a common word is a scan
				text: `SELECT ${PRODUCT_COLUMNS}, ${q.rank} AS rank FROM (
					SELECT ${PRODUCT_COLUMNS}, search_vector FROM products WHERE ${q.where} ORDER BY ${CANDIDATE_ORDER} LIMIT ${depth}
				 ) AS matches ORDER BY ${q.orderBy} LIMIT $${n + 1} OFFSET $${n + 2}`,
				values: [...q.bind, page.limit, page.offset, MAX_LISTING_DEPTH]
			}
		: {
				text: `SELECT ${PRODUCT_COLUMNS} FROM products WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT $${n + 1} OFFSET $${n + 2}`,
				values: [...q.bind, page.limit, page.offset]
			};
	const countOrder = byRank ? CANDIDATE_ORDER : q.orderBy;
	return {
		rows,
		count: {
			text: `SELECT count(*)::int AS total FROM (SELECT 1 FROM products WHERE ${q.where} ORDER BY ${countOrder} LIMIT $${n + 1}) AS counted`,
			values: [...q.bind, MAX_LISTING_DEPTH]
		}
	};
}

/** Problems with a listing's filters and page that the parameter schema cannot express. */
export function listProblems(f: ListFilters & { page?: number; pageSize?: number }): FieldProblem[] {
	const problems: FieldProblem[] = [];
	if (f.minPrice !== undefined && f.maxPrice !== undefined && f.minPrice > f.maxPrice) {
		problems.push({ field: "minPrice", message: "The 'minPrice' field must not be greater than 'maxPrice'.", type: "priceRange" });
	}
	const { page, pageSize } = pageOf(f);
	if (page * pageSize > MAX_LISTING_DEPTH) {
		problems.push({
			field: "page",
			message: `A listing goes ${MAX_LISTING_DEPTH} products deep: 'page' times 'pageSize' must be at most ${MAX_LISTING_DEPTH} (narrow it with a search or filters).`,
			type: "pageTooDeep"
		});
	}
	return problems;
}

export type ProductPatch = Partial<{
	sku: string;
	name: string;
	description: string;
	priceCents: number;
	category: string;
	imageUrl: string | null;
}>;

const COLUMNS: Record<keyof ProductPatch, string> = {
	sku: "sku",
	name: "name",
	description: "description",
	priceCents: "price_cents",
	category: "category",
	imageUrl: "image_url"
};
const PATCHABLE = Object.keys(COLUMNS) as (keyof ProductPatch)[];
/** Fields that may be cleared with null. The validator lets null through optional fields, so the rest are checked here. */
const NULLABLE = new Set<keyof ProductPatch>(["imageUrl"]);

/** The fields a PATCH changes, or the problems that make it invalid (nothing to change, a required field set to null). */
export function patchOf(params: UpdateProductParams): { patch: ProductPatch; problems: FieldProblem[] } {
	const patch: Record<string, unknown> = {};
	const problems: FieldProblem[] = [];
	for (const field of PATCHABLE) {
		const value = (params as Record<string, unknown>)[field];
		if (value === undefined) continue;
		if (value === null && !NULLABLE.has(field)) {
			problems.push({ field, message: `The '${field}' field cannot be null.`, type: "required" });
			continue;
		}
		patch[field] = value;
	}
	if (problems.length === 0 && Object.keys(patch).length === 0) {
		problems.push({ field: "body", message: `Give at least one field to change: ${PATCHABLE.join(", ")}.`, type: "emptyPatch" });
	}
	return { patch: patch as ProductPatch, problems };
}

/** `SET` clause and parameters for a patch; parameter numbering starts after `offset` already bound ones. */
export function buildUpdate(patch: ProductPatch, offset: number): { set: string; bind: unknown[] } {
	const sets: string[] = [];
	const bind: unknown[] = [];
	for (const field of PATCHABLE) {
		if (!(field in patch) || patch[field] === undefined) continue;
		bind.push(patch[field]);
		sets.push(`${COLUMNS[field]} = $${offset + bind.length}`);
	}
	sets.push("updated_at = now()");
	return { set: sets.join(", "), bind };
}

/** Orders found products as the ids were asked for, once each; ids not found are simply absent. */
export function inOrderOf<T extends { id: string }>(ids: string[], found: T[]): T[] {
	const byId = new Map(found.map(p => [p.id.toLowerCase(), p]));
	const seen = new Set<string>();
	const out: T[] = [];
	for (const id of ids) {
		const key = id.toLowerCase();
		const p = byId.get(key);
		if (p && !seen.has(key)) {
			seen.add(key);
			out.push(p);
		}
	}
	return out;
}
