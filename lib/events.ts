/**
 * Facts that must not be lost travel as envelopes: written to the producer's outbox in the same
 * transaction as the change they describe, relayed with Moleculer balanced events, and recorded by each
 * consumer in its inbox (deduplicated by `id`) before they are handled with retries.
 */
export interface EventEnvelope<T = unknown> {
	/** Unique per fact: consumers deduplicate on it. */
	id: string;
	event: string;
	/** The service that wrote it. */
	source: string;
	occurredAt: string;
	data: T;
}

/**
 * Which services must receive each reliable event. The relay keeps an event until every service named
 * here has taken it (one instance each), so a consumer that is down gets it when it comes back.
 * An event not listed goes to whoever listens at the time.
 */
export const EVENT_ROUTES: Record<string, readonly string[]> = {
	// account mails; the link requests carry a secret token (`linkToken`) and go to notification only
	"identity.emailVerificationRequested": ["notification"],
	"identity.passwordResetRequested": ["notification"],
	"identity.emailVerified": ["notification"],
	// the checkout saga: order orchestrates, the others react (services/order/order.types.ts)
	"order.created": ["inventory", "cart"],
	"order.paymentRequested": ["payment"],
	"order.confirmed": ["inventory", "notification"],
	"order.cancelled": ["inventory", "payment", "notification"],
	"inventory.reserved": ["order"],
	"inventory.reservationFailed": ["order"],
	"payment.succeeded": ["order"],
	"payment.failed": ["order"],
	"payment.refunded": ["order"],
	"order.refunded": ["notification"]
};

/** The action through which a service with an inbox takes events (`<service>.receiveEvent`), acknowledging each. */
export const RECEIVE_ACTION = "receiveEvent";

export function routesOf(event: string): readonly string[] | undefined {
	return EVENT_ROUTES[event];
}

/** Exponential backoff with jitter: base, 2x base, 4x base, ... capped, each within +-20 %. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
	const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
	return Math.round(exp * (0.8 + 0.4 * random()));
}

/** Payload fields that carry secrets: they travel to their consumer but are never shown (dead-letter listings). */
const SECRET_FIELDS = ["paymentToken", "linkToken"];

/** The envelope as operators may see it: secret fields of `data` replaced by "[redacted]". */
export function redacted(envelope: EventEnvelope): EventEnvelope {
	const data = envelope.data;
	if (typeof data !== "object" || data === null || !SECRET_FIELDS.some(f => f in data)) return envelope;
	const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
	for (const f of SECRET_FIELDS) if (f in copy) copy[f] = "[redacted]";
	return { ...envelope, data: copy };
}
