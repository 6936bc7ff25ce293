import { component, pageComponent } from "../../lib/openapi";
import { CANCEL_REASONS, ORDER_STATUSES } from "./order.types";

/** The order's answers as JSON Schema (order.types.ts), for the API reference. */

const cents = { type: "integer", minimum: 0 };
const timestamp = { type: "string", format: "date-time" };
const status = { enum: [...ORDER_STATUSES] };
const reason = { enum: [...CANCEL_REASONS] };

export const SHIPPING_ADDRESS = component("ShippingAddress", {
	type: "object",
	required: ["name", "line1", "city", "postalCode", "country"],
	properties: {
		name: { type: "string" },
		line1: { type: "string" },
		line2: { type: "string" },
		city: { type: "string" },
		region: { type: "string" },
		postalCode: { type: "string" },
		country: { type: "string", pattern: "^[A-Z]{2}$", description: "ISO 3166-1 alpha-2." }
	}
});

export const ORDER = component("Order", {
	type: "object",
	description:
		"An order: PENDING, then STOCK_RESERVED, then CONFIRMED once paid; CANCELLED (with `cancelReason`) from any state before. Lines keep the names and prices of when it was placed.",
	required: [
		"id",
		"userId",
		"status",
		"cancelReason",
		"items",
		"totalCents",
		"currency",
		"shippingAddress",
		"paymentStatus",
		"history",
		"createdAt",
		"updatedAt"
	],
	properties: {
		id: { type: "string", format: "uuid" },
		userId: { type: "string", format: "uuid" },
		status,
		cancelReason: { enum: [...CANCEL_REASONS, null] },
		items: {
			type: "array",
			items: {
				type: "object",
				required: ["productId", "sku", "name", "quantity", "unitPriceCents", "lineTotalCents"],
				properties: {
					productId: { type: "string", format: "uuid" },
					sku: { type: "string" },
					name: { type: "string" },
					quantity: { type: "integer", minimum: 1 },
					unitPriceCents: cents,
					lineTotalCents: cents
				}
			}
		},
		totalCents: cents,
		currency: { type: "string", pattern: "^[A-Z]{3}$" },
		shippingAddress: { anyOf: [SHIPPING_ADDRESS, { type: "null" }] },
		paymentStatus: { enum: ["SUCCEEDED", "DECLINED", "REFUNDED", null] },
		history: {
			type: "array",
			items: { type: "object", required: ["status", "at"], properties: { status, at: timestamp, reason } }
		},
		createdAt: timestamp,
		updatedAt: timestamp
	}
});

/** `{ order }`: what placing, reading and cancelling an order answer. */
export const ORDER_ENVELOPE = component("OrderEnvelope", { type: "object", required: ["order"], properties: { order: ORDER } });

export const ORDER_PAGE = pageComponent("OrderPage", ORDER);

/** `order.saga`: the order and the events about it (lib/outbox.ts `TrailEntry`). */
export const SAGA_TRAIL = component("SagaTrail", {
	type: "object",
	required: ["order", "events", "unreachable"],
	properties: {
		order: ORDER,
		events: {
			type: "array",
			items: {
				type: "object",
				required: ["service", "direction", "eventId", "event", "at", "status"],
				properties: {
					service: { type: "string" },
					direction: { enum: ["sent", "received"] },
					eventId: { type: "string", format: "uuid" },
					event: { type: "string", examples: ["order.created"] },
					at: timestamp,
					status: { type: "string", description: "sent: PUBLISHED or WAITING (for a consumer); received: PENDING, HANDLED or DEAD." },
					deliveredTo: { type: "array", items: { type: "string" }, description: "sent: the services that have it." },
					attempts: { type: "integer", minimum: 0 },
					lastError: { type: ["string", "null"] },
					handledBy: { type: ["string", "null"], description: "received: the node that handled it." }
				}
			}
		},
		unreachable: { type: "array", items: { type: "string" }, description: "Services whose records could not be read." }
	}
});
