/** The public contract of the cart domain. */

export interface CartLine {
	productId: string;
	sku: string;
	name: string;
	quantity: number;
	unitPriceCents: number;
	lineTotalCents: number;
	/** Units available right now (inventory). */
	available: number;
}

export interface CartDto {
	items: CartLine[];
	totalCents: number;
	currency: string;
}

export interface AddItemParams {
	productId: string;
	quantity: number;
}

export interface SetQuantityParams {
	productId: string;
	quantity: number;
}

export interface ProductRef {
	productId: string;
}

/** `cart.get` / `cart.clear` for other services (the order snapshots and then empties a user's cart). */
export interface UserRef {
	userId: string;
}

/** `cart.removeOrdered`: the lines of a placed order leave the cart (once per order). */
export interface RemoveOrderedParams {
	userId: string;
	orderId: string;
	items: { productId: string; quantity: number }[];
}
