import { component } from "../../lib/openapi";

/** The cart's answers as JSON Schema (cart.types.ts), for the API reference. */

const cents = { type: "integer", minimum: 0 };

export const CART = component("Cart", {
	type: "object",
	description: "The caller's cart with current prices and availability; lines of archived products are left out.",
	required: ["items", "totalCents", "currency"],
	properties: {
		items: {
			type: "array",
			items: {
				type: "object",
				required: ["productId", "sku", "name", "quantity", "unitPriceCents", "lineTotalCents", "available"],
				properties: {
					productId: { type: "string", format: "uuid" },
					sku: { type: "string" },
					name: { type: "string" },
					quantity: { type: "integer", minimum: 1 },
					unitPriceCents: cents,
					lineTotalCents: cents,
					available: { type: "integer", minimum: 0, description: "Units available right now." }
				}
			}
		},
		totalCents: cents,
		currency: { type: "string", pattern: "^[A-Z]{3}$" }
	}
});
