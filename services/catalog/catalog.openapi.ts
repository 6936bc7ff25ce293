import { component, pageComponent } from "../../lib/openapi";

/** The catalog's answers as JSON Schema (catalog.types.ts), for the API reference. */

const timestamp = { type: "string", format: "date-time" };

export const PRODUCT = component("Product", {
	type: "object",
	description: "A product. Money is integer minor units (cents) in the store currency.",
	required: ["id", "sku", "name", "description", "priceCents", "currency", "category", "imageUrl", "active", "createdAt", "updatedAt"],
	properties: {
		id: { type: "string", format: "uuid" },
		sku: { type: "string" },
		name: { type: "string" },
		description: { type: "string" },
		priceCents: { type: "integer", minimum: 0 },
		currency: { type: "string", pattern: "^[A-Z]{3}$" },
		category: { type: "string" },
		imageUrl: { type: ["string", "null"] },
		active: { type: "boolean", description: "false once archived: hidden from listings." },
		createdAt: timestamp,
		updatedAt: timestamp
	}
});

export const PRODUCT_PAGE = pageComponent("ProductPage", PRODUCT);

export const CATEGORIES = component("Categories", {
	type: "object",
	required: ["items"],
	properties: {
		items: {
			type: "array",
			items: {
				type: "object",
				required: ["category", "productCount"],
				properties: { category: { type: "string" }, productCount: { type: "integer", minimum: 0 } }
			}
		}
	}
});
