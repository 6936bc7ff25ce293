import { component } from "../../lib/openapi";

/** Inventory's answers as JSON Schema (inventory.types.ts), for the API reference. */

const units = { type: "integer", minimum: 0 };

export const STOCK_LEVEL = component("StockLevel", {
	type: "object",
	description: "A product's stock: `available` is `onHand - reserved`, what can still be sold.",
	required: ["productId", "onHand", "reserved", "available"],
	properties: { productId: { type: "string", format: "uuid" }, onHand: units, reserved: units, available: { type: "integer" } }
});
