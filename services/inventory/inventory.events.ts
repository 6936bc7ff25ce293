import { defineEvents } from "../../lib/events";
import { instantSchema, uuidSchema } from "../../lib/event-schemas";
import type { InventoryEvents } from "./inventory.types";

/** Inventory's answers to the checkout saga's `order.created`, correlated by order id. */
export const inventoryEvents = defineEvents<InventoryEvents>("inventory", {
	"inventory.reserved": {
		summary: "Every line of the order is held until `expiresAt`: the order asks for payment.",
		correlateBy: "orderId",
		schema: { type: "object", properties: { orderId: uuidSchema, expiresAt: instantSchema }, required: ["orderId", "expiresAt"] }
	},
	"inventory.reservationFailed": {
		summary: "The order's lines could not be held, and none is: the order is cancelled (out_of_stock). `shortages` names the short lines.",
		correlateBy: "orderId",
		schema: {
			type: "object",
			properties: {
				orderId: uuidSchema,
				shortages: {
					type: "array",
					maxItems: 500,
					items: {
						type: "object",
						properties: { productId: uuidSchema, requested: { type: "integer", minimum: 1 }, available: { type: "integer", minimum: 0 } },
						required: ["productId", "requested", "available"]
					}
				}
			},
			required: ["orderId", "shortages"]
		}
	}
});
