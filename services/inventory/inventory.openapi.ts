import { component, pageComponent } from "../../lib/openapi";

/** Inventory's answers as JSON Schema (inventory.types.ts), for the API reference. */

const units = { type: "integer", minimum: 0 };

export const STOCK_LEVEL = component("StockLevel", {
	type: "object",
	description: "A product's stock: `available` is `onHand - reserved`, what can still be sold.",
	required: ["productId", "onHand", "reserved", "available"],
	properties: { productId: { type: "string", format: "uuid" }, onHand: units, reserved: units, available: { type: "integer" } }
});

/** One product's adjustment ledger, newest first. */
export const ADJUSTMENT_PAGE = pageComponent(
	"AdjustmentPage",
	component("Adjustment", {
		type: "object",
		required: ["id", "productId", "delta", "reason", "onHandAfter", "actorId", "createdAt"],
		properties: {
			id: { type: "string", format: "uuid" },
			productId: { type: "string", format: "uuid" },
			delta: { type: "integer", description: "Units received (positive) or removed (negative)." },
			reason: { type: "string" },
			onHandAfter: units,
			actorId: { type: ["string", "null"], format: "uuid", description: "Who made it; null for the system (reservation commits, demo data)." },
			createdAt: { type: "string", format: "date-time" }
		}
	})
);
