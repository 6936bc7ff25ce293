import type { EmailVerificationRequestedEvent, EmailVerifiedEvent, PasswordResetRequestedEvent } from "../identity/identity.types";
import type { OrderCancelledEvent, OrderConfirmedEvent, OrderLine, OrderRefundedEvent } from "../order/order.types";
import type { OrderLineData, SendParams } from "./notification.types";

/**
 * Pure: what each saga fact tells the customer. The dedupe key names the order's fact, never the envelope,
 * so a fact delivered again or re-asked under a new envelope id still notifies once.
 */

function lineData(line: OrderLine): OrderLineData {
	return { name: line.name, quantity: line.quantity, lineTotalCents: line.lineTotalCents };
}

export function orderConfirmedNotice(e: OrderConfirmedEvent): SendParams {
	return orderNotice("orderConfirmed", e);
}

export function paymentRefundedNotice(e: OrderRefundedEvent): SendParams {
	return orderNotice("paymentRefunded", e);
}

/** A message about a whole order (its lines and total), once per order and template. */
function orderNotice(template: "orderConfirmed" | "paymentRefunded", e: OrderConfirmedEvent): SendParams {
	return {
		userId: e.userId,
		template,
		data: { name: e.customer.name, orderId: e.orderId, items: e.items.map(lineData), totalCents: e.totalCents, currency: e.currency },
		email: e.customer.email,
		phone: e.customer.phone,
		dedupeKey: `${template}:${e.orderId}`
	};
}

export function orderCancelledNotice(e: OrderCancelledEvent): SendParams {
	return {
		userId: e.userId,
		template: "orderCancelled",
		data: {
			name: e.customer.name,
			orderId: e.orderId,
			items: e.items.map(lineData),
			totalCents: e.totalCents,
			currency: e.currency,
			cancelReason: e.reason,
			previousStatus: e.previousStatus
		},
		email: e.customer.email,
		phone: e.customer.phone,
		dedupeKey: `orderCancelled:${e.orderId}`
	};
}

/** A verified address gets the welcome, once per account whatever it verifies later (a new address). */
export function welcomeNotice(e: EmailVerifiedEvent): SendParams {
	return { userId: e.userId, template: "welcome", data: { name: e.name }, email: e.email, phone: e.phone, dedupeKey: `welcome:${e.userId}` };
}

/** The link that verifies an address, to that address only; one message per link (named by its id, not its token). */
export function verifyEmailNotice(e: EmailVerificationRequestedEvent, publicUrl: string): SendParams {
	return {
		userId: e.userId,
		template: "verifyEmail",
		data: { url: `${publicUrl}/verify-email`, linkToken: e.linkToken, expiresAt: e.expiresAt },
		email: e.email,
		dedupeKey: `verifyEmail:${e.tokenId}`
	};
}

export function resetPasswordNotice(e: PasswordResetRequestedEvent, publicUrl: string): SendParams {
	return {
		userId: e.userId,
		template: "resetPassword",
		data: { url: `${publicUrl}/reset-password`, linkToken: e.linkToken, expiresAt: e.expiresAt },
		email: e.email,
		dedupeKey: `resetPassword:${e.tokenId}`
	};
}
