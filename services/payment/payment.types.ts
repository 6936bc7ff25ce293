import type { Page } from "../../lib/params";

/** The public contract of the payment domain. */

/** The most one charge may be, in minor units; an order above it cannot be paid and is refused when placed. */
export const MAX_CHARGE_CENTS = 1_000_000_000;

/** SUCCEEDED and DECLINED are the outcomes of the one charge an order gets; REFUNDED follows SUCCEEDED. */
export type PaymentStatus = "SUCCEEDED" | "DECLINED" | "REFUNDED";

/** Why the card network declined: `card_declined`, `insufficient_funds`, `invalid_token`, ... */
export type DeclineCode = string;

/** One payment record as its owner (or an admin) sees it. */
export interface PaymentDto {
	id: string;
	orderId: string;
	amountCents: number;
	currency: string;
	status: PaymentStatus;
	declineCode: DeclineCode | null;
	createdAt: string;
	updatedAt: string;
}

export interface ListPaymentsParams {
	orderId?: string;
	page?: number;
	pageSize?: number;
}

export type PaymentPage = Page<PaymentDto>;

/** `payment.succeeded`: an order's charge went through. */
export interface PaymentSucceededEvent {
	paymentId: string;
	orderId: string;
	userId: string;
	amountCents: number;
	currency: string;
}

/** `payment.failed`: an order's charge was declined (it will not be tried again for that order). */
export interface PaymentFailedEvent extends PaymentSucceededEvent {
	declineCode: DeclineCode;
}

/** `payment.refunded`: an order's charge was given back. */
export type PaymentRefundedEvent = PaymentSucceededEvent;

/** Event names and payloads, for producers and consumers alike. */
export interface PaymentEvents {
	"payment.succeeded": PaymentSucceededEvent;
	"payment.failed": PaymentFailedEvent;
	"payment.refunded": PaymentRefundedEvent;
}
