import crypto from "node:crypto";
import type { ServiceBroker } from "moleculer";
import type { EventEnvelope } from "../../lib/events";
import type { DeadLetter } from "../../lib/inbox";
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Hands one saga event to `service` as the producer's outbox relay does (`<service>.receiveEvent`, a new
 * envelope every time, like a fresh fact or the order watchdog's re-ask), has its inbox handle what is due
 * (`<service>.drainInbox`) until this event is handled or dead-lettered, and answers which, with the
 * attempts and last error. Failed attempts are retried as the inbox's retry policy says, so a test that
 * expects a dead letter should configure few attempts (EVENT_MAX_ATTEMPTS) and a short backoff.
 *
 * The outcome is read as an operator reads it: the order's event trail (`<service>.eventTrail`), or, for
 * a payload without a UUID `orderId`, the dead letters (such an event is found only once dead-lettered).
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
	const envelope: EventEnvelope<OrderEvents[E]> = { id: crypto.randomUUID(), event, source: "order", occurredAt: new Date().toISOString(), data };
	await broker.call(`${service}.receiveEvent`, envelope);
	const orderId = (data as { orderId?: unknown } | null)?.orderId;
	return eventually(async () => {
		await broker.call(`${service}.drainInbox`);
		const outcome = await inboxOutcome(broker, service, envelope.id, typeof orderId === "string" && UUID.test(orderId) ? orderId : undefined);
		if (!outcome) throw new Error(`${service} has not finished with ${event} ${envelope.id}`);
		return outcome;
	}, timeoutMs);
}

/** The event's outcome as operators see it: the order's event trail, or (a payload without an order id) the dead letters. */
async function inboxOutcome(broker: ServiceBroker, service: string, id: string, orderId: string | undefined): Promise<Delivery | undefined> {
	if (orderId) {
		const trail = await broker.call<TrailEntry[], { orderId: string }>(`${service}.eventTrail`, { orderId });
		const entry = trail.find(e => e.direction === "received" && e.eventId === id);
		if (entry?.status !== "HANDLED" && entry?.status !== "DEAD") return undefined;
		return { id, status: entry.status, attempts: entry.attempts ?? 0, lastError: entry.lastError ?? null, handledBy: entry.handledBy };
	}
	const dead = (await broker.call<DeadLetter[]>(`${service}.deadLetters`)).find(d => d.eventId === id);
	return dead && { id, status: "DEAD", attempts: dead.attempts, lastError: dead.lastError };
}
