import { defineEvents } from "../../lib/events";
import { centsSchema, currencySchema, textSchema, uuidSchema } from "../../lib/event-schemas";
import type { PaymentEvents } from "./payment.types";

const charge = {
	paymentId: uuidSchema,
	orderId: uuidSchema,
	userId: uuidSchema,
	amountCents: centsSchema,
	currency: currencySchema
} as const;
const chargeRequired = ["paymentId", "orderId", "userId", "amountCents", "currency"] as const;

/** Payment's answers to the checkout saga, correlated by order id. */
export const paymentEvents = defineEvents<PaymentEvents>("payment", {
	"payment.succeeded": {
		summary: "The order's charge went through: the order is confirmed (or, if it ended meanwhile, payment refunds it).",
		correlateBy: "orderId",
		schema: { type: "object", properties: charge, required: chargeRequired }
	},
	"payment.failed": {
		summary: "The order's charge was declined, and will not be tried again: the order is cancelled (payment_declined).",
		correlateBy: "orderId",
		schema: { type: "object", properties: { ...charge, declineCode: textSchema(100) }, required: [...chargeRequired, "declineCode"] }
	},
	"payment.refunded": {
		summary: "The order's charge was given back: the order records it and tells the customer (order.refunded).",
		correlateBy: "orderId",
		schema: { type: "object", properties: charge, required: chargeRequired }
	}
});
