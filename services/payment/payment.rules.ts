import type { FieldProblem } from "../../lib/errors";
import { MAX_CHARGE_CENTS, type PaymentEvents, type PaymentResult, type PaymentStatus } from "./payment.types";

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

export const MAX_TOKEN_LENGTH = 255;
export const MAX_AMOUNT_CENTS = MAX_CHARGE_CENTS;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURRENCY = /^[A-Z]{3}$/;

/** Problems never quote the value they reject: the value may be a card token, and problems get logged. */
export function tokenProblem(token: unknown): FieldProblem | undefined {
	if (typeof token === "string" && token.length > 0 && token.length <= MAX_TOKEN_LENGTH) return undefined;
	return { field: "paymentToken", message: `The 'paymentToken' field must be a card token of 1 to ${MAX_TOKEN_LENGTH} characters.`, type: "string" };
}

/** An `order.paymentRequested` payload, checked. The token may be absent: only a charge needs it. */
export interface PaymentRequest {
	orderId: string;
	userId: string;
	amountCents: number;
	currency: string;
	paymentToken?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

function fieldsOf(data: unknown): Record<string, unknown> | undefined {
	return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

function uuidProblem(fields: Record<string, unknown>, field: string): FieldProblem[] {
	const v = fields[field];
	return typeof v === "string" && UUID.test(v) ? [] : [{ field, message: `The '${field}' field must be a UUID.`, type: "uuid" }];
}

/**
 * Checks an `order.paymentRequested` payload. A token that is there must be well-formed; one that is
 * missing is left to the charge (a repeated request for an order already charged does not need it).
 */
export function parsePaymentRequest(data: unknown): Parsed<PaymentRequest> {
	const f = fieldsOf(data);
	if (!f) return { ok: false, problems: [{ field: "data", message: "The event data must be an object.", type: "object" }] };
	const problems = [...uuidProblem(f, "orderId"), ...uuidProblem(f, "userId")];
	const { amountCents, currency, paymentToken } = f;
	if (typeof amountCents !== "number" || !Number.isInteger(amountCents) || amountCents < 1 || amountCents > MAX_AMOUNT_CENTS) {
		problems.push({ field: "amountCents", message: `The 'amountCents' field must be an integer from 1 to ${MAX_AMOUNT_CENTS}.`, type: "number" });
	}
	if (typeof currency !== "string" || !CURRENCY.test(currency)) {
		problems.push({ field: "currency", message: "The 'currency' field must be an ISO 4217 code such as BRL.", type: "string" });
	}
	const bad = paymentToken === undefined ? undefined : tokenProblem(paymentToken);
	if (bad) problems.push(bad);
	if (problems.length > 0) return { ok: false, problems };
	const value: PaymentRequest = {
		orderId: f.orderId as string,
		userId: f.userId as string,
		amountCents: amountCents as number,
		currency: currency as string
	};
	if (paymentToken !== undefined) value.paymentToken = paymentToken as string;
	return { ok: true, value };
}

export interface Cancellation {
	orderId: string;
	/** Kept with a void marker for operators; not checked against the order's list of reasons. */
	reason: string | null;
}

const MAX_REASON_LENGTH = 100;

/**
 * Checks an `order.cancelled` payload. Only the order id matters to payment: a reason it does not know
 * must never keep a charge from being refunded.
 */
export function parseCancellation(data: unknown): Parsed<Cancellation> {
	const f = fieldsOf(data);
	if (!f) return { ok: false, problems: [{ field: "data", message: "The event data must be an object.", type: "object" }] };
	const problems = uuidProblem(f, "orderId");
	if (problems.length > 0) return { ok: false, problems };
	const reason = typeof f.reason === "string" && f.reason.length > 0 ? f.reason.slice(0, MAX_REASON_LENGTH) : null;
	return { ok: true, value: { orderId: f.orderId as string, reason } };
}
