import { expect } from "chai";
import type { OrderDto } from "../../services/order/order.types";
import type { StockLevel } from "../../services/inventory/inventory.types";
import { eventually } from "./eventually";
import type { httpClient } from "./http";

type Request = ReturnType<typeof httpClient>;

/** Shop steps the checkout tests share: products with stock, carts, orders and waiting for the saga. */
export function checkoutSteps(request: Request, adminToken: () => string) {
	let seq = 0;
	return {
		/** A product in the catalog with `stock` units on hand. */
		async product(priceCents: number, stock: number, name = "Product"): Promise<string> {
			const created = await request("POST", "/api/products", {
				token: adminToken(),
				body: { sku: `ORD-${process.pid}-${Date.now()}-${++seq}`, name: `${name} ${seq}`, priceCents, category: "Test" }
			});
			expect(created.status, JSON.stringify(created.body)).to.equal(201);
			if (stock !== 0) await this.adjust(created.body.id, stock);
			return created.body.id;
		},

		async adjust(productId: string, delta: number): Promise<void> {
			const res = await request("POST", `/api/inventory/${productId}/adjustments`, { token: adminToken(), body: { delta, reason: "test stock" } });
			expect(res.status, JSON.stringify(res.body)).to.equal(200);
		},

		async stock(productId: string): Promise<StockLevel> {
			const res = await request("GET", `/api/inventory/${productId}`);
			expect(res.status).to.equal(200);
			return res.body;
		},

		async addToCart(token: string, productId: string, quantity: number): Promise<void> {
			const res = await request("POST", "/api/cart/items", { token, body: { productId, quantity } });
			expect(res.status, JSON.stringify(res.body)).to.equal(200);
		},

		placeOrder(token: string, paymentToken = "tok_visa", headers: Record<string, string> = {}, extra: object = {}) {
			return request("POST", "/api/orders", { token, headers, body: { paymentToken, ...extra } });
		},

		async order(token: string, id: string): Promise<OrderDto> {
			const res = await request("GET", `/api/orders/${id}`, { token });
			expect(res.status, JSON.stringify(res.body)).to.equal(200);
			return res.body.order;
		},

		/** Waits until the order is CONFIRMED or CANCELLED (and `also` holds), and answers it. */
		settled(token: string, id: string, also: (o: OrderDto) => boolean = () => true, timeoutMs = 15_000): Promise<OrderDto> {
			return eventually(async () => {
				const o = await this.order(token, id);
				expect(["CONFIRMED", "CANCELLED"], `order ${id} is ${o.status}`).to.include(o.status);
				expect(also(o), `order ${id}: ${JSON.stringify(o)}`).to.equal(true);
				return o;
			}, timeoutMs);
		}
	};
}
