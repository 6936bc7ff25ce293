import type { Middleware } from "moleculer";
import { DatabaseUnavailableError, InvalidInputError, isDatabaseUnavailable } from "./errors";

function isPlainObject(value: unknown): value is Record<string, unknown> {
	if (!value || typeof value !== "object") return false;
	const proto = Object.getPrototypeOf(value);
	return proto === Object.prototype || proto === null;
}

/**
 * The first path in `value` to a string `bad` says yes to, if any. Looks into plain data only (JSON-like
 * objects and arrays, not requests or class instances), at most `depth` levels deep; keys `skip` names are
 * not looked into.
 */
export function findText(value: unknown, bad: (text: string) => boolean, skip: ReadonlySet<string> = NONE, path = "", depth = 32): string | undefined {
	if (typeof value === "string") return bad(value) ? path || "(value)" : undefined;
	if (depth === 0) return undefined;
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) {
			const hit = findText(value[i], bad, skip, `${path}[${i}]`, depth - 1);
			if (hit) return hit;
		}
	} else if (isPlainObject(value)) {
		for (const [k, v] of Object.entries(value)) {
			if (skip.has(k)) continue;
			const hit = findText(v, bad, skip, path ? `${path}.${k}` : k, depth - 1);
			if (hit) return hit;
		}
	}
	return undefined;
}
const NONE: ReadonlySet<string> = new Set();

/** The first path in `value` to a string holding a NUL character, if any. */
export function findNul(value: unknown): string | undefined {
	return findText(value, t => t.includes("\u0000"));
}

/**
 * Control characters other than tab and line breaks (C0, DEL, C1), and the bidirectional embeddings,
 * overrides and isolates that make text display as something other than what it is (a name that forges a
 * log line, a product whose name reads backwards).
 */
const UNSAFE_TEXT = /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** Passwords are compared, never shown: whatever a user typed in one is theirs (NUL aside). */
const SECRET_KEYS: ReadonlySet<string> = new Set(["password", "currentPassword", "newPassword"]);

/** The first path to a string holding a control or bidirectional control character, if any. */
export function findUnsafeText(value: unknown): string | undefined {
	return findText(value, t => UNSAFE_TEXT.test(t), SECRET_KEYS);
}

/**
 * No text with a NUL character reaches an action, whichever door it came through (HTTP, gRPC, REPL):
 * PostgreSQL cannot store it, and nothing a shopper types contains one. What comes from outside (published
 * actions) carries no other control characters or bidirectional overrides either. Answers 422 naming the field.
 * Internal calls and events are not held to the second rule: they carry data already stored.
 */
export const RejectNulMiddleware: Middleware = {
	name: "RejectNul",
	localAction(handler, action) {
		const published = (action as { visibility?: string }).visibility === "published";
		return function rejectNul(this: unknown, ctx) {
			const field = findNul(ctx.params);
			if (field) throw new InvalidInputError([{ field, message: `The '${field}' field must not contain NUL characters.`, type: "string" }]);
			if (published) {
				const unsafe = findUnsafeText(ctx.params);
				if (unsafe) {
					throw new InvalidInputError([
						{ field: unsafe, message: `The '${unsafe}' field must not contain control characters or bidirectional overrides.`, type: "string" }
					]);
				}
			}
			return handler.call(this as never, ctx);
		};
	}
};

/**
 * An action whose database does not answer (PostgreSQL restarting, unreachable, out of connections) fails
 * with 503 DATABASE_UNAVAILABLE and Retry-After, a passing outage the caller may retry, instead of a 500
 * with a stack for every request while it lasts.
 */
export const DatabaseOutageMiddleware: Middleware = {
	name: "DatabaseOutage",
	localAction(handler) {
		return function databaseOutage(this: unknown, ctx) {
			let result: unknown;
			try {
				result = handler.call(this as never, ctx);
			} catch (err) {
				throw isDatabaseUnavailable(err) ? new DatabaseUnavailableError() : err;
			}
			if (result instanceof Promise) return result.catch(err => Promise.reject(isDatabaseUnavailable(err) ? new DatabaseUnavailableError() : err));
			return result;
		};
	}
};

interface PendingRequest {
	nodeID: string;
}
interface TransitInternals {
	pendingRequests: Map<string, PendingRequest>;
	removePendingRequestByNodeID(nodeID: string): void;
	tx?: { client?: { status?: () => AsyncIterable<{ type: string }> } };
}

/**
 * When this node's connection to the bus drops, the answers to its requests in flight are lost with it: they
 * are rejected at once (503 REQUEST_REJECTED) instead of each waiting out its timeout, so the caller hears
 * within milliseconds that it may try again. (Moleculer does the same for a peer it has declared gone, which
 * takes the heartbeat timeout.) NATS reports the drop in its status stream; RabbitMQ's transporter
 * (lib/amqp-transporter.ts) as the local event `$transporter.lost`.
 */
export const FailFastOnDisconnect: Middleware = {
	name: "FailFastOnDisconnect",
	async started(broker) {
		const transit = (broker as unknown as { transit?: TransitInternals }).transit;
		if (!transit) return;
		const failInFlight = () => {
			const nodes = new Set([...transit.pendingRequests.values()].map(r => r.nodeID));
			if (nodes.size > 0) broker.logger.warn(`Lost the cluster bus: failing the requests in flight to ${[...nodes].join(", ")} now`);
			for (const nodeID of nodes) transit.removePendingRequestByNodeID(nodeID);
		};
		broker.localBus.on("$transporter.lost", failInFlight);
		const status = transit.tx?.client?.status?.bind(transit.tx.client);
		if (!status) return;
		void (async () => {
			for await (const s of status()) if (s.type === "disconnect") failInFlight();
		})().catch(err => broker.logger.warn("Watching the bus connection failed:", err));
	}
};

interface AnnouncedBroker {
	transit?: unknown;
	services: { name: string }[];
	/** The cluster has been told which services this node runs (lib/health.ts waits for it). */
	$announced?: boolean;
}

/**
 * Marks the node announced once it has broadcast its service list (an INFO packet naming every local
 * service). Moleculer sends that packet a second after the last service registers (its debounce), and until
 * it goes out the other nodes do not know this one: a broadcast (`identity.accessChanged`, a logout) misses
 * it, and what it keeps from that time would outlive the change. Readiness waits for it (lib/health.ts).
 * Without a transporter a node is announced from the start.
 */
export const AnnouncedMiddleware: Middleware = {
	name: "Announced",
	created(broker: unknown) {
		const b = broker as unknown as AnnouncedBroker;
		b.$announced = !b.transit;
	},
	transitPublish(this: unknown, next: (packet: { type: string; target?: string | null; payload?: { services?: { name: string }[] } }) => Promise<void>) {
		// bound to the transit
		const broker = (this as { broker: AnnouncedBroker }).broker;
		return async (packet: { type: string; target?: string | null; payload?: { services?: { name: string }[] } }) => {
			await next(packet);
			if (broker.$announced || packet.type !== "INFO" || packet.target) return;
			const sent = new Set((packet.payload?.services ?? []).map(s => s.name));
			if (broker.services.length > 0 && broker.services.every(s => sent.has(s.name))) broker.$announced = true;
		};
	}
} as unknown as Middleware;
