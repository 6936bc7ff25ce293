import type { ServiceBroker } from "moleculer";
import type { ServiceDatabase } from "./database";
import { defineMetrics, onScrape, type MetricDef, type MetricHandle } from "./metrics";

/**
 * Metrics of the reliable events (lib/outbox.ts, lib/inbox.ts), labelled by the service whose tables they
 * describe and the event's name. Backlogs are counted when Prometheus scrapes: one aggregate query per table.
 */
export const EVENT_METRICS = {
	outboxWaiting: {
		type: "gauge",
		name: "momentum_outbox_waiting",
		description: "Outbox rows not yet handed to every consumer, by producing service and event",
		labelNames: ["service", "event"]
	},
	outboxOldest: {
		type: "gauge",
		name: "momentum_outbox_oldest_waiting_seconds",
		description: "Age of the oldest outbox row not yet handed to every consumer (0 when none waits), by producing service",
		labelNames: ["service"]
	},
	handOffFailures: {
		type: "counter",
		name: "momentum_outbox_handoff_failures_total",
		description: "Hand-offs of an outbox row to a consumer that failed (tried again later), by producer, event and consumer",
		labelNames: ["service", "event", "consumer"]
	},
	inboxBacklog: {
		type: "gauge",
		name: "momentum_inbox_backlog",
		description: "Inbox events received and not yet handled (PENDING), by consuming service and event",
		labelNames: ["service", "event"]
	},
	deadLetters: {
		type: "gauge",
		name: "momentum_inbox_dead_letters",
		description: "Inbox events given up on (DEAD) and waiting for an operator, by consuming service and event",
		labelNames: ["service", "event"]
	},
	attempts: {
		type: "counter",
		name: "momentum_inbox_handling_attempts_total",
		description: "Attempts to handle an inbox event, by consuming service and event",
		labelNames: ["service", "event"]
	},
	failures: {
		type: "counter",
		name: "momentum_inbox_handling_failures_total",
		description: "Attempts to handle an inbox event that failed (retried, or dead-lettered after the last), by consuming service and event",
		labelNames: ["service", "event"]
	}
} satisfies Record<string, MetricDef>;

/** What the outbox and the inbox call as they work; no-ops with METRICS=off. */
export interface EventMetrics {
	handOffFailed(event: string, consumer: string): void;
	attempted(event: string): void;
	failed(event: string): void;
}

/**
 * The metrics of one service's outbox and inbox. `produces` and `handles` name every event the gauges
 * report (0 when none waits), so the series stay the same from scrape to scrape. Answers the hooks and the
 * function that stops the counting at scrape time.
 */
export function eventMetrics(
	broker: ServiceBroker,
	service: string,
	db: () => ServiceDatabase | undefined,
	produces: readonly string[],
	handles: readonly string[]
): { hooks: EventMetrics; stop: () => void } {
	const m: Record<keyof typeof EVENT_METRICS, MetricHandle> = defineMetrics(broker, EVENT_METRICS);
	const stop = onScrape(broker, async () => {
		const database = db();
		if (!database) return;
		const [outbox, inbox] = await Promise.all([
			produces.length === 0
				? []
				: database.query<{ event: string; n: number; age: number }>(
						`SELECT event, count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age
						 FROM outbox WHERE published_at IS NULL GROUP BY event`
					),
			handles.length === 0
				? []
				: database.query<{ event: string; status: string; n: number }>(
						`SELECT event, status, count(*)::int AS n FROM inbox WHERE status <> 'HANDLED' GROUP BY event, status`
					)
		]);
		if (produces.length > 0) {
			for (const event of produces) m.outboxWaiting.set(outbox.find(r => r.event === event)?.n ?? 0, { service, event });
			m.outboxOldest.set(Math.max(0, ...outbox.map(r => Number(r.age) || 0)), { service });
		}
		for (const event of handles) {
			const count = (status: string) => inbox.find(r => r.event === event && r.status === status)?.n ?? 0;
			m.inboxBacklog.set(count("PENDING"), { service, event });
			m.deadLetters.set(count("DEAD"), { service, event });
		}
	});
	const known = new Set(handles);
	// an event name from the wire is a label only when this service handles it (a bounded set)
	const label = (event: string) => (known.has(event) ? event : "other");
	return {
		hooks: {
			handOffFailed: (event, consumer) => m.handOffFailures.inc({ service, event, consumer }),
			attempted: event => m.attempts.inc({ service, event: label(event) }),
			failed: event => m.failures.inc({ service, event: label(event) })
		},
		stop
	};
}
