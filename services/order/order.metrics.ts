import type { ServiceBroker } from "moleculer";
import type { Transaction } from "sequelize";
import { defineMetrics, onScrape, SAGA_BUCKETS, type MetricDef, type MetricHandle } from "../../lib/metrics";
import { whenCommitted } from "../../lib/database";
import type { ServiceDatabase } from "../../lib/database";
import { CANCEL_REASONS, ORDER_STATUSES, type CancelReason, type OrderStatus } from "./order.types";

/** The saga's metrics. Orders are counted, never named: no order or user id is a label. */
export const ORDER_METRICS = {
	byStatus: {
		type: "gauge",
		name: "momentum_orders",
		description: "Orders in the order service's database, by status (counted when scraped)",
		labelNames: ["status"]
	},
	sagaDuration: {
		type: "histogram",
		name: "momentum_saga_duration_seconds",
		description: "Time from an order's placing (PENDING) to its end, by outcome (confirmed or cancelled)",
		labelNames: ["outcome"],
		buckets: SAGA_BUCKETS
	},
	cancelled: {
		type: "counter",
		name: "momentum_orders_cancelled_total",
		description: "Orders cancelled, by reason",
		labelNames: ["reason"]
	},
	busy: {
		type: "counter",
		name: "momentum_orders_refused_busy_total",
		description: "Orders refused with 503 ORDERS_BUSY because ORDER_MAX_IN_FLIGHT orders were in flight"
	}
} satisfies Record<string, MetricDef>;

export type OrderMetrics = Record<keyof typeof ORDER_METRICS, MetricHandle> & { stop(): void };

/** Registers the saga's metrics, and the count of orders by status run at every scrape (one aggregate query). */
export function orderMetrics(broker: ServiceBroker, db: () => ServiceDatabase | undefined): OrderMetrics {
	const m = defineMetrics(broker, ORDER_METRICS);
	const stop = onScrape(broker, async () => {
		const database = db();
		if (!database) return;
		const rows = await database.query<{ status: OrderStatus; n: number }>(`SELECT status, count(*)::int AS n FROM orders GROUP BY status`);
		for (const status of ORDER_STATUSES) m.byStatus.set(rows.find(r => r.status === status)?.n ?? 0, { status });
	});
	return { ...m, stop };
}

/** Once `t` commits: an order that ended, with how long its saga took, and why it was cancelled. */
export function recordSagaEnd(m: OrderMetrics, t: Transaction, to: "CONFIRMED" | "CANCELLED", placedAt: string, reason: CancelReason | undefined): void {
	whenCommitted(t, () => {
		m.sagaDuration.observe(Math.max(0, Date.now() - Date.parse(placedAt)) / 1000, { outcome: to.toLowerCase() });
		if (to === "CANCELLED") m.cancelled.inc({ reason: reason && CANCEL_REASONS.includes(reason) ? reason : "other" });
	});
}
