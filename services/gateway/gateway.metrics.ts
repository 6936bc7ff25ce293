import type { MetricDef } from "../../lib/metrics";
import { LATENCY_BUCKETS } from "../../lib/metrics";

/** The gateway's metrics. `route` is the published pattern (/api/orders/:id), never the URL as sent. */
export const GATEWAY_METRICS = {
	requests: {
		type: "counter",
		name: "momentum_http_requests_total",
		description: "HTTP requests answered by the gateway, by route pattern, method and status class",
		labelNames: ["route", "method", "status"]
	},
	duration: {
		type: "histogram",
		name: "momentum_http_request_duration_seconds",
		description: "Time from an HTTP request's arrival to its answer, by route pattern, method and status class",
		labelNames: ["route", "method", "status"],
		buckets: LATENCY_BUCKETS
	}
} satisfies Record<string, MetricDef>;

/** Methods a label may carry; anything else is `other`. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export function methodLabel(method: string | undefined): string {
	return method && METHODS.has(method) ? method : "other";
}
