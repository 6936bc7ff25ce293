/** The public contract of the catalog domain. Money is integer minor units (cents) in the store currency. */

export interface ProductDto {
	id: string;
	sku: string;
	name: string;
	description: string;
	priceCents: number;
	currency: string;
	category: string;
	imageUrl: string | null;
	/** false once archived: hidden from listings and from `catalog.get`, still returned by `catalog.getMany`. */
	active: boolean;
	createdAt: string;
	updatedAt: string;
}

/** `GET /api/admin/products?status=`: staff see archived products too. */
export const PRODUCT_STATUS_FILTERS = ["active", "archived", "all"] as const;
export type ProductStatusFilter = (typeof PRODUCT_STATUS_FILTERS)[number];

export const PRODUCT_SORTS = ["price", "-price", "name", "-name", "createdAt", "-createdAt"] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

export interface ListProductsParams {
	search?: string;
	category?: string;
	minPrice?: number;
	maxPrice?: number;
	/** Without it: by relevance when searching, else newest first. */
	sort?: ProductSort;
	page?: number;
	pageSize?: number;
}

export type { Page } from "../../lib/params";

export interface CategoryCount {
	category: string;
	productCount: number;
}

export interface CreateProductParams {
	sku: string;
	name: string;
	description?: string;
	priceCents: number;
	category: string;
	imageUrl?: string | null;
}

export type UpdateProductParams = { id: string } & Partial<Omit<CreateProductParams, "sku">> & { sku?: string };

export interface GetProductParams {
	id: string;
}

export interface GetManyProductsParams {
	ids: string[];
}

/** `catalog.productCreated` / `catalog.productUpdated` */
export interface ProductChangedEvent {
	product: ProductDto;
}

/** `catalog.productArchived` */
export interface ProductArchivedEvent {
	productId: string;
	sku: string;
}

/** `catalog.listAll` (GET /api/admin/products): the listing's filters with the products' status. */
export interface ListAllProductsParams extends ListProductsParams {
	status?: ProductStatusFilter;
}
