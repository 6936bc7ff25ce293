import type { FieldProblem } from "../../lib/errors";
import { MAX_CHARGE_CENTS, type PaymentEvents, type PaymentStatus } from "./payment.types";

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

/**
 * An order with a payment record is never charged again: its stored outcome is the answer. An order
 * voided by a cancellation that overtook its payment request is never charged at all.
 */
export function decideCharge(existing: PaymentFacts | undefined, voided = false): "charge" | "answer-stored" | "voided" {
	if (existing) return "answer-stored";
	return voided ? "voided" : "charge";
}

/**
 * What a repeated `order.paymentRequested` (the order's watchdog asking again) re-announces: the stored
 * outcome of the one charge. A refunded charge announces nothing: the order was cancelled meanwhile and
 * has been told `payment.refunded`.
 */
export function reannouncementOf(p: PaymentFacts): PaymentFact | undefined {
	return p.status === "REFUNDED" ? undefined : factOf(p);
}

export type CancellationDecision = "refund" | "void" | "nothing";

/**
 * `order.cancelled`: a charge that went through is given back; an order not charged yet is voided so a
 * late payment request charges nothing; a declined or already refunded charge needs nothing.
 */
export function decideCancellation(existing: Pick<PaymentFacts, "status"> | undefined): CancellationDecision {
	if (!existing) return "void";
	return existing.status === "SUCCEEDED" ? "refund" : "nothing";
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

export const MAX_TOKEN_LENGTH = 255;
export const MAX_AMOUNT_CENTS = MAX_CHARGE_CENTS;

/** Problems never quote the value they reject: the value may be a card token, and problems get logged. */
export function tokenProblem(token: unknown): FieldProblem | undefined {
	if (typeof token === "string" && token.length > 0 && token.length <= MAX_TOKEN_LENGTH) return undefined;
	return { field: "paymentToken", message: `The 'paymentToken' field must be a card token of 1 to ${MAX_TOKEN_LENGTH} characters.`, type: "string" };
}

/** What a charge needs: an `order.paymentRequested` payload. The token may be gone (scrubbed once used): only a charge needs it. */
export interface PaymentRequest {
	orderId: string;
	userId: string;
	amountCents: number;
	currency: string;
	paymentToken?: string;
}
