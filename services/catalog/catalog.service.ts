import crypto from "node:crypto";
import type { ActionCacheOptions, Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { AppConfig } from "../../app/config";
import { InvalidInputError, NotFoundError } from "../../lib/errors";
import { centsParam, lineParam, pageOf, pageParams, uuidParam } from "../../lib/params";
import { DbMixin, type DbThis } from "../../lib/mixins/db.mixin";
import type { CallerMeta } from "../identity/identity.types";
import { SkuTakenError } from "./catalog.errors";
import { catalogMigrations } from "./catalog.migrations";
import { inOrderOf, listProblems, MAX_LISTING_DEPTH, patchOf } from "./catalog.query";
import { CatalogRepository } from "./catalog.repository";
import {
	PRODUCT_SORTS,
	PRODUCT_STATUS_FILTERS,
	type CategoryCount,
	type CreateProductParams,
	type GetManyProductsParams,
	type GetProductParams,
	type ListAllProductsParams,
	type ListProductsParams,
	type ProductStatusFilter,
	type Page,
	type ProductArchivedEvent,
	type ProductChangedEvent,
	type ProductDto,
	type UpdateProductParams
} from "./catalog.types";
import { CATEGORIES, PRODUCT, PRODUCT_PAGE } from "./catalog.openapi";

interface CatalogSettings extends ServiceSettingSchema {
	rest: string;
	currency: string;
}
interface CatalogVars extends DbThis {
	repo: CatalogRepository;
}
interface CatalogMethods {
	/** One page of a listing, of the products of `status` (the public and the staff listing). */
	listPage(params: ListProductsParams, status: ProductStatusFilter): Promise<Page<ProductDto>>;
	/** Drops cached reads here at once (so the caller reads its own write) and on every other catalog node. */
	invalidateCache(ctx: Context): Promise<void>;
	/** A product changed: cached reads go, and `catalog.productUpdated` tells the others. */
	announceUpdate(ctx: Context, product: ProductDto): Promise<void>;
}
type CatalogThis = Service<CatalogSettings> & CatalogVars & CatalogMethods;
type Ctx<P> = Context<P, CallerMeta>;

/** The event every catalog instance answers by dropping its cached reads (and every gateway, its kept responses). */
export const CACHE_INVALIDATED = "catalog.cacheInvalidated";
const CACHE_TTL_SECONDS = 300;
export const MAX_GET_MANY = 500;

/** Longer parameter lists (getMany's ids) are keyed by their hash, so the cache does not hold keys of 20 kB. */
const MAX_PLAIN_KEY = 256;

/**
 * Cache entries keyed by the JSON of the named params. Moleculer's default key joins values with "|"
 * unescaped, so two different searches could share an entry; JSON cannot.
 */
function cached(keys: string[]): ActionCacheOptions {
	return {
		keys,
		ttl: CACHE_TTL_SECONDS,
		keygen: (action, _opts, ctx) => {
			const params = (ctx.params ?? {}) as Record<string, unknown>;
			const json = JSON.stringify(keys.map(k => params[k] ?? null));
			const key = json.length <= MAX_PLAIN_KEY ? json : crypto.createHash("sha256").update(json).digest("base64url");
			return `${action.name}:${key}`;
		}
	};
}

// NUL characters are refused for every action by RejectNulMiddleware (lib/middlewares.ts).
/** Catalog reads give up after this long (the broker default, REQUEST_TIMEOUT, is for everything else). */
const READ_TIMEOUT_MS = 5000;

const text = (min: number, max: number) => ({ type: "string", trim: true, min, max }) as const;

const productFields = {
	sku: {
		type: "string",
		trim: true,
		min: 1,
		max: 64,
		pattern: /^[A-Za-z0-9._-]+$/,
		messages: { stringPattern: "The 'sku' field may hold only letters, digits, '.', '_' and '-'." }
	},
	name: lineParam(1, 200),
	description: text(0, 5000),
	priceCents: centsParam,
	category: lineParam(1, 100),
	imageUrl: {
		type: "string",
		trim: true,
		max: 2048,
		nullable: true,
		pattern: /^https?:\/\/[^\s/?#\u0000]+[^\s\u0000]*$/i,
		messages: { stringPattern: "The 'imageUrl' field must be an http(s) URL." }
	}
} as const;

const opt = <T extends object>(rule: T) => ({ ...rule, optional: true }) as T & { optional: true };

/** The listing's parameters: the public one's, and (with `status`) the staff one's. */
const LIST_PARAMS = {
	$$strict: "remove",
	search: opt(text(1, 200)),
	category: opt(text(1, 100)),
	minPrice: { type: "number", integer: true, min: 0, max: Number.MAX_SAFE_INTEGER, optional: true, convert: true },
	maxPrice: { type: "number", integer: true, min: 0, max: Number.MAX_SAFE_INTEGER, optional: true, convert: true },
	sort: { type: "enum", values: [...PRODUCT_SORTS], optional: true },
	...pageParams,
	// page times pageSize is checked against MAX_LISTING_DEPTH by listProblems
	page: {
		...pageParams.page,
		max: MAX_LISTING_DEPTH,
		description: `A listing goes ${MAX_LISTING_DEPTH} products deep: page times pageSize at most ${MAX_LISTING_DEPTH}, else 422 (VALIDATION_ERROR, type pageTooDeep). Numeric text (a query string) is converted.`
	}
} as const;

/** What a listing answers at any size of catalog (the API reference shows it). */
const LISTING_LIMITS =
	`A listing goes ${MAX_LISTING_DEPTH} products deep, so no request walks a whole large catalog: page times pageSize is at most ${MAX_LISTING_DEPTH} ` +
	`(422 VALIDATION_ERROR, type pageTooDeep, past it), and \`total\` counts at most ${MAX_LISTING_DEPTH} (${MAX_LISTING_DEPTH} means that many or more). ` +
	`A search without \`sort\` ranks the newest ${MAX_LISTING_DEPTH} matches by relevance. Narrow a listing with a search, a category or a price range.`;

export function createCatalogService(config: AppConfig): ServiceSchema<CatalogSettings, CatalogMethods, CatalogVars> {
	return {
		name: "catalog",
		mixins: [DbMixin({ service: "catalog", config: config.database, migrations: catalogMigrations })],
		settings: {
			// routes are /api/products..., not /api/catalog/products...
			rest: "/",
			currency: config.store.currency
		},

		actions: {
			/** Active products: full-text search, category and price filters, sorting, paging (MAX_LISTING_DEPTH deep). Throws VALIDATION_ERROR (422). */
			list: {
				rest: "GET /products",
				summary: "List and search products",
				description: LISTING_LIMITS,
				responses: { 200: { description: "A page of active products", schema: PRODUCT_PAGE } },
				// a read: answered in milliseconds, or the catalog is in trouble and the caller should hear so soon
				timeout: READ_TIMEOUT_MS,
				visibility: "published",
				auth: "public",
				cache: cached(["search", "category", "minPrice", "maxPrice", "sort", "page", "pageSize"]),
				params: LIST_PARAMS,
				handler(this: CatalogThis, ctx: Ctx<ListProductsParams>): Promise<Page<ProductDto>> {
					return this.listPage(ctx.params, "active");
				}
			},

			/**
			 * Every product, archived ones too, for staff (`product.update`): the listing's filters and `status`
			 * (active, archived or all; default all). Never cached: staff see an archive at once. Throws
			 * VALIDATION_ERROR (422).
			 */
			listAll: {
				rest: "GET /admin/products",
				summary: "List products with archived ones (staff)",
				description: LISTING_LIMITS,
				responses: { 200: { description: "A page of products, archived ones included", schema: PRODUCT_PAGE } },
				timeout: READ_TIMEOUT_MS,
				visibility: "published",
				permission: "product.update",
				params: { status: { type: "enum", values: [...PRODUCT_STATUS_FILTERS], optional: true }, ...LIST_PARAMS },
				handler(this: CatalogThis, ctx: Ctx<ListAllProductsParams>): Promise<Page<ProductDto>> {
					return this.listPage(ctx.params, ctx.params.status ?? "all");
				}
			},

			/** An active product. Throws NOT_FOUND (404) for unknown or archived ones, VALIDATION_ERROR (422). Also used by other services. */
			get: {
				rest: "GET /products/:id",
				summary: "Get a product",
				responses: { 200: { description: "The product", schema: PRODUCT } },
				errors: { 404: ["NOT_FOUND"] },
				timeout: READ_TIMEOUT_MS,
				visibility: "published",
				auth: "public",
				cache: cached(["id"]),
				params: { id: uuidParam },
				async handler(this: CatalogThis, ctx: Ctx<GetProductParams>): Promise<ProductDto> {
					const product = await this.repo.findActive(ctx.params.id);
					if (!product) throw new NotFoundError("Product", ctx.params.id);
					return product;
				}
			},

			/** Products by id in the order asked, archived ones included (active=false); unknown ids are left out. One query. */
			getMany: {
				visibility: "public",
				cache: cached(["ids"]),
				params: { ids: { type: "array", items: uuidParam, min: 1, max: MAX_GET_MANY } },
				async handler(this: CatalogThis, ctx: Ctx<GetManyProductsParams>): Promise<ProductDto[]> {
					const ids = [...new Set(ctx.params.ids.map(id => id.toLowerCase()))];
					return inOrderOf(ctx.params.ids, await this.repo.findMany(ids));
				}
			},

			/** Categories of active products with how many each holds, sorted by name. */
			categories: {
				rest: "GET /categories",
				summary: "List categories with their product counts",
				responses: { 200: { description: "Categories of active products, by name", schema: CATEGORIES } },
				timeout: READ_TIMEOUT_MS,
				visibility: "published",
				auth: "public",
				cache: cached([]),
				params: { $$strict: "remove" },
				async handler(this: CatalogThis): Promise<{ items: CategoryCount[] }> {
					return { items: await this.repo.categories() };
				}
			},

			/** Creates a product (admin). Throws SKU_TAKEN (409), VALIDATION_ERROR (422). */
			create: {
				rest: "POST /products",
				summary: "Create a product",
				responses: { 201: { description: "Created", schema: PRODUCT, headers: { Location: "The product's URL" } } },
				errors: { 409: ["SKU_TAKEN"] },
				visibility: "published",
				permission: "product.store",
				params: {
					$$strict: "remove",
					...productFields,
					description: { ...productFields.description, optional: true, default: "" },
					imageUrl: opt(productFields.imageUrl)
				},
				async handler(this: CatalogThis, ctx: Ctx<CreateProductParams>): Promise<ProductDto> {
					const { sku, name, description, priceCents, category, imageUrl } = ctx.params;
					const product = await this.repo.insert({ sku, name, description: description ?? "", priceCents, category, imageUrl: imageUrl ?? null });
					if (!product) throw new SkuTakenError(sku);
					await this.invalidateCache(ctx);
					ctx.emit<ProductChangedEvent>("catalog.productCreated", { product }).catch(err =>
						this.logger.warn("Announcing catalog.productCreated failed:", err)
					);
					ctx.meta.$statusCode = 201;
					ctx.meta.$location = `/api/products/${product.id}`;
					return product;
				}
			},

			/** Changes any subset of an active product's fields (admin). Throws NOT_FOUND (404), SKU_TAKEN (409), VALIDATION_ERROR (422). */
			update: {
				rest: "PATCH /products/:id",
				summary: "Change a product",
				responses: { 200: { description: "The product as it is now", schema: PRODUCT } },
				errors: { 404: ["NOT_FOUND"], 409: ["SKU_TAKEN"] },
				visibility: "published",
				permission: "product.update",
				params: {
					$$strict: "remove",
					id: uuidParam,
					sku: opt(productFields.sku),
					name: opt(productFields.name),
					description: opt(productFields.description),
					priceCents: opt(productFields.priceCents),
					category: opt(productFields.category),
					imageUrl: opt(productFields.imageUrl)
				},
				async handler(this: CatalogThis, ctx: Ctx<UpdateProductParams>): Promise<ProductDto> {
					const { patch, problems } = patchOf(ctx.params);
					if (problems.length > 0) throw new InvalidInputError(problems);
					const outcome = await this.repo.update(ctx.params.id, patch);
					if (outcome === "not-found") throw new NotFoundError("Product", ctx.params.id);
					if (outcome === "sku-taken") throw new SkuTakenError(patch.sku ?? "");
					await this.announceUpdate(ctx, outcome);
					return outcome;
				}
			},

			/** Archives a product (admin): gone from listings and `get`, still in `getMany`. Answers 204. Throws NOT_FOUND (404), also when already archived. */
			archive: {
				rest: "DELETE /products/:id",
				summary: "Archive a product",
				responses: { 204: { description: "Archived" } },
				errors: { 404: ["NOT_FOUND"] },
				visibility: "published",
				permission: "product.delete",
				params: { id: uuidParam },
				async handler(this: CatalogThis, ctx: Ctx<GetProductParams>): Promise<null> {
					const archived = await this.repo.archive(ctx.params.id);
					if (!archived) throw new NotFoundError("Product", ctx.params.id);
					await this.invalidateCache(ctx);
					ctx.emit<ProductArchivedEvent>("catalog.productArchived", archived).catch(err =>
						this.logger.warn("Announcing catalog.productArchived failed:", err)
					);
					ctx.meta.$statusCode = 204;
					return null;
				}
			},

			/** Brings an archived product back into the catalog (staff). Answers the product. Throws NOT_FOUND (404) for unknown ones and ones not archived. */
			restore: {
				rest: "POST /products/:id/restore",
				summary: "Bring an archived product back",
				responses: { 200: { description: "The product, active again", schema: PRODUCT } },
				errors: { 404: ["NOT_FOUND"] },
				visibility: "published",
				permission: "product.delete",
				params: { $$strict: "remove", id: uuidParam },
				async handler(this: CatalogThis, ctx: Ctx<GetProductParams>): Promise<ProductDto> {
					const product = await this.repo.restore(ctx.params.id);
					if (!product) throw new NotFoundError("Product", ctx.params.id);
					await this.announceUpdate(ctx, product);
					return product;
				}
			},

			/** How many products exist, archived ones included (whether the demo data is needed). */
			count: {
				visibility: "public",
				async handler(this: CatalogThis): Promise<number> {
					return this.repo.count();
				}
			}
		},

		events: {
			/** Another instance changed the catalog: cached reads here may be stale. */
			[CACHE_INVALIDATED]: {
				async handler(this: CatalogThis) {
					await this.broker.cacher?.clean("catalog.**");
				}
			}
		},

		methods: {
			/** One page of the listing's filters over the products of `status`. Throws VALIDATION_ERROR (422). */
			async listPage(this: CatalogThis, params: ListProductsParams, status: ProductStatusFilter): Promise<Page<ProductDto>> {
				const { search, category, minPrice, maxPrice, sort } = params;
				const problems = listProblems(params);
				if (problems.length > 0) throw new InvalidInputError(problems);
				const { page, pageSize, offset } = pageOf(params);
				const found = await this.repo.list({ status, search, category, minPrice, maxPrice, sort }, { limit: pageSize, offset });
				return { ...found, page, pageSize };
			},

			async invalidateCache(this: CatalogThis, ctx: Context): Promise<void> {
				await this.broker.cacher?.clean("catalog.**");
				await ctx.broadcast(CACHE_INVALIDATED, {});
			},

			/** A product changed (edited, restored): cached reads go, and the others hear of it (an announcement that fails is logged). */
			async announceUpdate(this: CatalogThis, ctx: Context, product: ProductDto): Promise<void> {
				await this.invalidateCache(ctx);
				ctx.emit<ProductChangedEvent>("catalog.productUpdated", { product }).catch(err =>
					this.logger.warn("Announcing catalog.productUpdated failed:", err)
				);
			}
		},

		started(this: CatalogThis) {
			this.repo = new CatalogRepository(this.db, this.settings.currency);
		}
	};
}
