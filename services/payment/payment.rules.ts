import type { PaymentEvents, PaymentResult, PaymentStatus } from "./payment.types";

/** Pure payment decisions: no I/O, so each one is testable on its own. */

/** The provider idempotency keys: one charge and one refund per order, whoever asks and how often. */
export const chargeKey = (orderId: string): string => `order:${orderId}`;
export const refundKey = (orderId: string): string => `refund:${orderId}`;

/** What a stored payment looks like to these rules. */
export interface PaymentFacts {
	id: string;
	orderId: string;
	userId: string;
	amountCents: number;
	currency: string;
	status: PaymentStatus;
	declineCode: string | null;
}

/** An order with a payment record is never charged again: its stored outcome is the answer. */
export function decideCharge(existing: PaymentFacts | undefined): "charge" | "answer-stored" {
	return existing ? "answer-stored" : "charge";
}

export type RefundDecision = "not-found" | "not-refundable" | "unchanged" | "refund";

export function decideRefund(existing: Pick<PaymentFacts, "status"> | undefined): RefundDecision {
	if (!existing) return "not-found";
	switch (existing.status) {
		case "SUCCEEDED":
			return "refund";
		case "REFUNDED":
			return "unchanged";
		case "DECLINED":
			return "not-refundable";
	}
}

export function resultOf(p: PaymentFacts): PaymentResult {
	const result: PaymentResult = { paymentId: p.id, orderId: p.orderId, status: p.status };
	if (p.declineCode !== null) result.declineCode = p.declineCode;
	return result;
}

export type PaymentFact = { [E in keyof PaymentEvents]: { event: E; payload: PaymentEvents[E] } }[keyof PaymentEvents];

/** The fact a newly recorded payment state announces. */
export function factOf(p: PaymentFacts): PaymentFact {
	const base = { paymentId: p.id, orderId: p.orderId, userId: p.userId, amountCents: p.amountCents, currency: p.currency };
	switch (p.status) {
		case "SUCCEEDED":
			return { event: "payment.succeeded", payload: base };
		case "DECLINED":
			return { event: "payment.failed", payload: { ...base, declineCode: p.declineCode ?? "unknown" } };
		case "REFUNDED":
			return { event: "payment.refunded", payload: base };
	}
}
