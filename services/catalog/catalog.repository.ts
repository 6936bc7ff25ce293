import type { ServiceDatabase } from "../../lib/database";
import { buildUpdate, listStatements, PRODUCT_COLUMNS as COLUMNS, type ListFilters, type ProductPatch } from "./catalog.query";
import type { CategoryCount, Page, ProductDto } from "./catalog.types";

/** The only code that touches the `catalog` schema. Answers plain objects. */

interface ProductRow {
	id: string;
	sku: string;
	name: string;
	description: string;
	price_cents: number;
	category: string;
	image_url: string | null;
	active: boolean;
	created_at: Date;
	updated_at: Date;
}

export interface NewProduct {
	sku: string;
	name: string;
	description: string;
	priceCents: number;
	category: string;
	imageUrl: string | null;
}

const UNIQUE_VIOLATION = "23505";

function isUniqueViolation(err: unknown): boolean {
	const e = err as { parent?: { code?: string }; original?: { code?: string } };
	return (e?.parent?.code ?? e?.original?.code) === UNIQUE_VIOLATION;
}

export class CatalogRepository {
	/** `currency`: the store's one currency, stamped on every product. */
	constructor(
		private readonly db: ServiceDatabase,
		private readonly currency: string
	) {}

	private toDto(row: ProductRow): ProductDto {
		return {
			id: row.id,
			sku: row.sku,
			name: row.name,
			description: row.description,
			priceCents: row.price_cents,
			currency: this.currency,
			category: row.category,
			imageUrl: row.image_url,
			active: row.active,
			createdAt: row.created_at.toISOString(),
			updatedAt: row.updated_at.toISOString()
		};
	}

	/** Inserts a product; answers undefined when the SKU is taken (case-insensitively). */
	async insert(p: NewProduct): Promise<ProductDto | undefined> {
		const rows = await this.db.execute<ProductRow>(
			`INSERT INTO products (sku, name, description, price_cents, category, image_url) VALUES ($1, $2, $3, $4, $5, $6)
			 ON CONFLICT ((lower(sku))) DO NOTHING
			 RETURNING ${COLUMNS}`,
			[p.sku, p.name, p.description, p.priceCents, p.category, p.imageUrl]
		);
		return rows[0] && this.toDto(rows[0]);
	}

	/** Applies a patch to an active product. Answers "not-found" for unknown or archived ones, "sku-taken" on a duplicate SKU. */
	async update(id: string, patch: ProductPatch): Promise<ProductDto | "not-found" | "sku-taken"> {
		const { set, bind } = buildUpdate(patch, 1);
		try {
			const rows = await this.db.execute<ProductRow>(`UPDATE products SET ${set} WHERE id = $1 AND active RETURNING ${COLUMNS}`, [id, ...bind]);
			return rows[0] ? this.toDto(rows[0]) : "not-found";
		} catch (err) {
			if (isUniqueViolation(err)) return "sku-taken";
			throw err;
		}
	}

	/** Archives an active product; answers undefined when it is unknown or already archived. */
	async archive(id: string): Promise<{ productId: string; sku: string } | undefined> {
		const [row] = await this.db.execute<{ id: string; sku: string }>(
			`UPDATE products SET active = false, updated_at = now() WHERE id = $1 AND active RETURNING id, sku`,
			[id]
		);
		return row && { productId: row.id, sku: row.sku };
	}

	/** Brings an archived product back; answers undefined when it is unknown or not archived. */
	async restore(id: string): Promise<ProductDto | undefined> {
		const [row] = await this.db.execute<ProductRow>(
			`UPDATE products SET active = true, updated_at = now() WHERE id = $1 AND NOT active RETURNING ${COLUMNS}`,
			[id]
		);
		return row && this.toDto(row);
	}

	/** An active product. */
	async findActive(id: string): Promise<ProductDto | undefined> {
		const [row] = await this.db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = $1 AND active`, [id]);
		return row && this.toDto(row);
	}

	/** Products by id, archived ones included, in no particular order. */
	async findMany(ids: string[]): Promise<ProductDto[]> {
		const rows = await this.db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = ANY($1::uuid[])`, [ids]);
		return rows.map(r => this.toDto(r));
	}

	/** One page of the products matching the filters (active ones unless `status` says otherwise), with the total (counted up to MAX_LISTING_DEPTH). */
	async list(filters: ListFilters, page: { limit: number; offset: number }): Promise<Omit<Page<ProductDto>, "page" | "pageSize">> {
		const q = listStatements(filters, page);
		const [rows, [count]] = await Promise.all([
			// planned for these very filters: how many products a search word or a category matches decides the plan
			this.db.queryPlanned<ProductRow>(q.rows.text, q.rows.values),
			this.db.queryPlanned<{ total: number }>(q.count.text, q.count.values)
		]);
		return { items: rows.map(r => this.toDto(r)), total: count.total };
	}

	/**
	 * Active products per category. Categories that differ only in case are one category (as the filter
	 * treats them), shown with the spelling that sorts first.
	 */
	async categories(): Promise<CategoryCount[]> {
		return this.db.query<CategoryCount>(
			`SELECT min(category) AS category, count(*)::int AS "productCount" FROM products WHERE active
			 GROUP BY lower(category) ORDER BY lower(category), min(category)`
		);
	}

	/** Every product, archived ones included. */
	async count(): Promise<number> {
		const [row] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM products`);
		return row.total;
	}
}
