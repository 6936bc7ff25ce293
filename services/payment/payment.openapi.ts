import { component, pageComponent } from "../../lib/openapi";

/** Payment's answers as JSON Schema (payment.types.ts), for the API reference. */

export const PAYMENT = component("Payment", {
	type: "object",
	description: "The one charge of an order: SUCCEEDED or DECLINED (with `declineCode`), REFUNDED after SUCCEEDED.",
	required: ["id", "orderId", "amountCents", "currency", "status", "declineCode", "createdAt", "updatedAt"],
	properties: {
		id: { type: "string", format: "uuid" },
		orderId: { type: "string", format: "uuid" },
		amountCents: { type: "integer", minimum: 0 },
		currency: { type: "string", pattern: "^[A-Z]{3}$" },
		status: { enum: ["SUCCEEDED", "DECLINED", "REFUNDED"] },
		declineCode: { type: ["string", "null"], description: "card_declined, insufficient_funds, invalid_token, ..." },
		createdAt: { type: "string", format: "date-time" },
		updatedAt: { type: "string", format: "date-time" }
	}
});

export const PAYMENT_PAGE = pageComponent("PaymentPage", PAYMENT);
