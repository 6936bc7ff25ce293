import type { ProductDto } from "../catalog/catalog.types";
import type { StockLevel } from "../inventory/inventory.types";
import type { CartDto, CartLine } from "./cart.types";
import type { StoredLine } from "./cart.repository";

/**
 * Pure: the cart a shopper sees, from the stored lines and the current catalog and inventory.
 * Lines whose product is gone or archived are left out (they cannot be bought).
 */
export function buildCartView(lines: StoredLine[], products: ProductDto[], levels: StockLevel[], currency: string): CartDto {
	const byId = new Map(products.map(p => [p.id, p]));
	const stock = new Map(levels.map(l => [l.productId, l.available]));
	const items: CartLine[] = [];
	for (const line of lines) {
		const product = byId.get(line.productId);
		if (!product || !product.active) continue;
		items.push({
			productId: product.id,
			sku: product.sku,
			name: product.name,
			quantity: line.quantity,
			unitPriceCents: product.priceCents,
			lineTotalCents: product.priceCents * line.quantity,
			available: stock.get(product.id) ?? 0
		});
	}
	return { items, totalCents: items.reduce((sum, i) => sum + i.lineTotalCents, 0), currency };
}
