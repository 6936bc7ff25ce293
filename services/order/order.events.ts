import { defineEvents } from "../../lib/events";
import { centsSchema, currencySchema, emailSchema, textSchema, uuidSchema } from "../../lib/event-schemas";
import { CANCEL_REASONS, type OrderEvents } from "./order.types";

/**
 * The order service's events: the commands and outcomes of the checkout saga (order orchestrates; inventory,
 * payment, cart and notification react). Every one is correlated by its order id.
 */

const MAX_LINES = 500;

const stockLine = {
	type: "object",
	properties: { productId: uuidSchema, quantity: { type: "integer", minimum: 1, maximum: 1_000_000 } },
	required: ["productId", "quantity"]
} as const;

const orderLine = {
	type: "object",
	properties: {
		productId: uuidSchema,
		sku: textSchema(100),
		name: textSchema(200),
		quantity: { type: "integer", minimum: 1, maximum: 1_000_000 },
		unitPriceCents: centsSchema,
		lineTotalCents: centsSchema
	},
	required: ["productId", "sku", "name", "quantity", "unitPriceCents", "lineTotalCents"]
} as const;

const customer = {
	type: "object",
	properties: { email: emailSchema, name: textSchema(200), phone: { type: ["string", "null"], maxLength: 32 } },
	required: ["email", "name", "phone"]
} as const;

/** What order.confirmed, order.refunded and order.cancelled tell about the order. */
const orderFacts = {
	orderId: uuidSchema,
	userId: uuidSchema,
	customer,
	items: { type: "array", items: orderLine, minItems: 1, maxItems: MAX_LINES },
	totalCents: centsSchema,
	currency: currencySchema
} as const;
const orderFactsRequired = ["orderId", "userId", "customer", "items", "totalCents", "currency"] as const;

export const orderEvents = defineEvents<OrderEvents>("order", {
	"order.created": {
		summary: "An order was placed: inventory holds its lines (all or none), cart lets go of them.",
		correlateBy: "orderId",
		schema: {
			type: "object",
			properties: {
				orderId: uuidSchema,
				userId: uuidSchema,
				items: { type: "array", items: stockLine, minItems: 1, maxItems: MAX_LINES },
				totalCents: centsSchema,
				currency: currencySchema
			},
			required: ["orderId", "userId", "items", "totalCents", "currency"]
		}
	},
	"order.paymentRequested": {
		summary: "The order's stock is held: payment charges it, once per order. The card token is a secret, scrubbed once payment has answered.",
		correlateBy: "orderId",
		secrets: ["paymentToken"],
		schema: {
			type: "object",
			properties: {
				orderId: uuidSchema,
				userId: uuidSchema,
				amountCents: { ...centsSchema, minimum: 1 },
				currency: currencySchema,
				paymentToken: { type: "string", minLength: 1, maxLength: 255 }
			},
			required: ["orderId", "userId", "amountCents", "currency", "paymentToken"]
		}
	},
	"order.confirmed": {
		summary: "Paid and final: inventory commits the reservation, notification tells the customer.",
		correlateBy: "orderId",
		schema: { type: "object", properties: orderFacts, required: orderFactsRequired }
	},
	"order.cancelled": {
		summary:
			"The order will not be fulfilled: inventory gives the stock back, payment refunds or voids, notification tells the customer. `previousStatus` says what each must undo.",
		correlateBy: "orderId",
		schema: {
			type: "object",
			properties: {
				...orderFacts,
				// an open set to consumers: a reason added later must never keep a charge from being refunded
				reason: { type: "string", minLength: 1, maxLength: 100, examples: [...CANCEL_REASONS] },
				previousStatus: { type: "string", enum: ["PENDING", "STOCK_RESERVED", "CONFIRMED"] }
			},
			required: [...orderFactsRequired, "reason", "previousStatus"]
		}
	},
	"order.refunded": {
		summary: "Payment gave the order's money back (after payment.refunded): notification tells the customer.",
		correlateBy: "orderId",
		schema: { type: "object", properties: orderFacts, required: orderFactsRequired }
	}
});
