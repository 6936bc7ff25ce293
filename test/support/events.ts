import crypto from "node:crypto";
import type { ServiceBroker } from "moleculer";
import type { EventEnvelope } from "../../lib/events";
import type { TrailEntry } from "../../lib/outbox";
import type { OrderEvents } from "../../services/order/order.types";
import { eventually } from "./eventually";

/** What a service's inbox did with a delivered event, once it is done with it. */
export interface Delivery {
	/** The envelope's id. */
	id: string;
	/** HANDLED: its effect is committed. DEAD: every attempt failed; it waits for an operator. */
	status: "HANDLED" | "DEAD";
	attempts: number;
	/** Why the last attempt failed (null once handled). */
	lastError: string | null;
	/** The node that handled it (HANDLED only). */
	handledBy?: string | null;
}

/**
 * Hands one saga event to `service` as the producer's outbox relay does (`<service>.receiveEvent`, a new
 * envelope every time, like a fresh fact or the order watchdog's re-ask), has its inbox handle what is due
 * (`<service>.drainInbox`) until this event is handled or dead-lettered, and answers which, with the
 * attempts and last error. Failed attempts are retried as the inbox's retry policy says, so a test that
 * expects a dead letter should configure few attempts (EVENT_MAX_ATTEMPTS) and a short backoff.
 *
 * The outcome is read as an operator reads it: the event trail (`<service>.eventTrail`) of its correlation
 * id (the order id, or the envelope's own id for a payload without one).
 *
 * The one place the tests build an envelope for these steps: a change of the envelope's format is made here.
 * `data` is what the order service writes for `event`; a test of a malformed payload casts its own.
 */
export async function deliver<E extends keyof OrderEvents>(
	broker: ServiceBroker,
	service: string,
	event: E,
	data: OrderEvents[E],
	timeoutMs = 10_000
): Promise<Delivery> {
	const id = crypto.randomUUID();
	const orderId = (data as { orderId?: unknown } | null)?.orderId;
	const correlationId = typeof orderId === "string" ? orderId : id;
	const envelope: EventEnvelope<OrderEvents[E]> = { id, event, source: "order", occurredAt: new Date().toISOString(), correlationId, data };
	await broker.call(`${service}.receiveEvent`, envelope);
	return eventually(async () => {
		await broker.call(`${service}.drainInbox`);
		const outcome = await inboxOutcome(broker, service, envelope.id, correlationId);
		if (!outcome) throw new Error(`${service} has not finished with ${event} ${envelope.id}`);
		return outcome;
	}, timeoutMs);
}

/** The event's outcome as operators see it: the event trail of its correlation id. */
async function inboxOutcome(broker: ServiceBroker, service: string, id: string, correlationId: string): Promise<Delivery | undefined> {
	const trail = await broker.call<TrailEntry[], { correlationId: string }>(`${service}.eventTrail`, { correlationId });
	const entry = trail.find(e => e.direction === "received" && e.eventId === id);
	if (entry?.status !== "HANDLED" && entry?.status !== "DEAD") return undefined;
	return { id, status: entry.status, attempts: entry.attempts ?? 0, lastError: entry.lastError ?? null, handledBy: entry.handledBy };
}
