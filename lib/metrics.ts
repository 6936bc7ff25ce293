import { MetricReporters, type BrokerOptions, type ServiceBroker } from "moleculer";

/**
 * Prometheus metrics on the health port (lib/health.ts serves them at `/metrics`).
 *
 * The shop's own metrics are Moleculer metrics (`broker.metrics.register`, then `increment`, `set`,
 * `observe`) named the Prometheus way from the start: snake_case, base units (seconds, bytes), `_total` on
 * counters, `momentum_` first. Every label has a bounded set of values (a route pattern, a status class, an
 * event name, a service): never a user id, an order id, an address or a URL as sent.
 *
 * Moleculer's Prometheus reporter opens an HTTP server of its own; `ScrapeReporter` renders the same text
 * without one, and only metrics that pass `promtool check metrics`: the shop's own, and a few of Moleculer's
 * built-ins under conventional names (its gauges ending in `_total`, its milliseconds and its summaries
 * dressed as histograms would not).
 *
 * With METRICS=off the registry is disabled: `register` answers null and every handle here does nothing.
 */

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDef {
	type: MetricType;
	/** e.g. momentum_http_requests_total */
	name: string;
	description: string;
	labelNames?: readonly string[];
	/** Histograms: upper bounds, in the metric's unit. */
	buckets?: readonly number[];
}

export type Labels = Record<string, string | number>;

/** What instrumented code holds: no-ops when metrics are off. */
export interface MetricHandle {
	inc(labels?: Labels, value?: number): void;
	set(value: number, labels?: Labels): void;
	observe(value: number, labels?: Labels): void;
}

const NOOP: MetricHandle = { inc: () => undefined, set: () => undefined, observe: () => undefined };

/** Seconds, from a few milliseconds to a minute: HTTP requests. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds, from a tenth of a second to the saga's give-up time: how long an order's saga takes. */
export const SAGA_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800];

/** The caches' metrics: the action cacher (`actions`, lib/bounded-cacher.ts) and the gateway's responses (`responses`). */
export const CACHE_METRICS = {
	lookups: {
		type: "counter",
		name: "momentum_cache_lookups_total",
		description: "Cache lookups, by cache and result (hit or miss)",
		labelNames: ["cache", "result"]
	},
	evictions: {
		type: "counter",
		name: "momentum_cache_evictions_total",
		description: "Entries a cache dropped to stay within its bounds (entries or bytes), by cache",
		labelNames: ["cache"]
	}
} satisfies Record<string, MetricDef>;

export function metricsEnabled(broker: ServiceBroker): boolean {
	return broker.metrics?.isEnabled() === true;
}

/**
 * Registers the definitions (once per broker: several services of one node share a metric) and answers a
 * handle per name.
 */
export function defineMetrics<K extends string>(broker: ServiceBroker, defs: Record<K, MetricDef>): Record<K, MetricHandle> {
	const handles = {} as Record<K, MetricHandle>;
	for (const [key, def] of Object.entries(defs) as [K, MetricDef][]) handles[key] = defineMetric(broker, def);
	return handles;
}

/**
 * Histograms in seconds are kept in milliseconds (and rendered back in seconds): Moleculer keys a histogram's
 * buckets by their bound as text on every observation, and whole numbers of milliseconds make that cheap,
 * where 0.005-style bounds cost microseconds per request on the gateway's hot path.
 */
const KEPT_IN_MILLISECONDS = new Set<string>();

export function defineMetric(broker: ServiceBroker, def: MetricDef): MetricHandle {
	if (!metricsEnabled(broker)) return NOOP;
	const registry = broker.metrics;
	const inMs = def.type === "histogram" && def.name.endsWith("_seconds");
	if (!registry.hasMetric(def.name)) {
		registry.register({
			type: def.type,
			name: def.name,
			description: def.description,
			labelNames: def.labelNames ? [...def.labelNames] : [],
			...(def.buckets ? { buckets: def.buckets.map(b => (inMs ? Math.round(b * 1000) : b)) } : {}),
			rate: false
		} as never);
		if (inMs) KEPT_IN_MILLISECONDS.add(def.name);
	}
	const name = def.name;
	return {
		inc: (labels, value = 1) => void registry.increment(name, labels, value),
		set: (value, labels) => void registry.set(name, value, labels),
		observe: inMs ? (value, labels) => void registry.observe(name, value * 1000, labels) : (value, labels) => void registry.observe(name, value, labels)
	};
}

/** Gauges computed when Prometheus scrapes (a backlog, a pool's use): run by `renderMetrics`. */
export type Collector = () => Promise<void> | void;

const collectors = new WeakMap<ServiceBroker, Set<Collector>>();

/** Runs `collect` before every scrape of this node; answers the function that stops that. */
export function onScrape(broker: ServiceBroker, collect: Collector): () => void {
	if (!metricsEnabled(broker)) return () => undefined;
	let set = collectors.get(broker);
	if (!set) collectors.set(broker, (set = new Set()));
	set.add(collect);
	return () => set.delete(collect);
}

/** How long a collector may take before the scrape goes on with the values it had (a slow database). */
const COLLECT_TIMEOUT_MS = 2000;

/**
 * Moleculer's built-in metrics that are rendered, under the name they get. Histograms in milliseconds are
 * turned into seconds. The rest (gauges ending in `_total`, byte counts named `.total`, os.* that say
 * nothing about the shop) are left out.
 */
const BUILT_INS: Record<string, { name: string; type?: MetricType; scale?: number; help: string }> = {
	"moleculer.request.total": { name: "moleculer_requests_total", help: "Action calls handled by this node" },
	"moleculer.request.error.total": { name: "moleculer_request_errors_total", help: "Action calls handled by this node that failed" },
	"moleculer.request.active": { name: "moleculer_requests_active", help: "Action calls in progress on this node" },
	"moleculer.request.time": { name: "moleculer_request_duration_seconds", scale: 1 / 1000, help: "Time action calls took on this node" },
	"moleculer.request.timeout.total": { name: "moleculer_request_timeouts_total", help: "Action calls that timed out" },
	"moleculer.request.retry.attempts.total": { name: "moleculer_request_retries_total", help: "Action calls retried" },
	"moleculer.event.received.total": { name: "moleculer_events_received_total", help: "Events received by this node's handlers" },
	"moleculer.event.received.error.total": { name: "moleculer_event_errors_total", help: "Event handlers that failed" },
	"moleculer.transit.requests.active": { name: "moleculer_transit_requests_active", help: "Requests this node waits on over the transporter" },
	"moleculer.transporter.packets.sent.total": { name: "moleculer_transporter_packets_sent_total", help: "Packets sent over the transporter" },
	"moleculer.transporter.packets.received.total": {
		name: "moleculer_transporter_packets_received_total",
		help: "Packets received over the transporter"
	},
	"moleculer.registry.nodes.online.total": { name: "moleculer_nodes_online", type: "gauge", help: "Nodes of the cluster this node sees online" },
	"process.memory.rss": { name: "process_resident_memory_bytes", help: "Resident memory of the process in bytes" },
	"process.memory.heap.size.used": { name: "nodejs_heap_used_bytes", help: "V8 heap in use in bytes" },
	"process.memory.heap.size.total": { name: "nodejs_heap_size_bytes", help: "V8 heap size in bytes" },
	"process.uptime": { name: "process_uptime_seconds", type: "gauge", help: "Seconds since the process started" }
};

interface Snapshot {
	labels: Record<string, unknown>;
	value?: number | null;
	count?: number;
	sum?: number;
	buckets?: Record<string, number>;
}
interface StoredMetric {
	name: string;
	type: string;
	description?: string;
	snapshot(): Snapshot[];
}

/**
 * Moleculer's Prometheus reporter without its HTTP server: the health server asks it for the text.
 * (Moleculer wants `reporter` instances in the broker options; this one opens nothing.)
 */
export class ScrapeReporter extends MetricReporters.Prometheus {
	override init(registry: never): void {
		// BaseReporter.init keeps the registry, broker and logger; Prometheus.init would listen on a port
		(MetricReporters.Base.prototype.init as (r: unknown) => void).call(this, registry);
		(this as unknown as { defaultLabels: object }).defaultLabels = {};
	}

	override stop(): Promise<void> {
		return Promise.resolve();
	}

	/** The text exposition format (version 0.0.4) of the shop's metrics and of the built-ins above. */
	render(): string {
		const out: string[] = [];
		const fmt = (v: number | null | undefined) => (v == null || Number.isNaN(v) ? "NaN" : String(v));
		const labels = (l: Record<string, unknown>, extra?: Record<string, string>) => {
			const all = { ...l, ...extra };
			const keys = Object.keys(all).filter(k => all[k] !== undefined && all[k] !== null);
			if (keys.length === 0) return "";
			// Moleculer's own labels are camelCase (errorName): snake_case, as Prometheus has them
			return `{${keys.map(k => `${snakeCase(k)}="${escapeLabel(String(all[k]))}"`).join(",")}}`;
		};
		const store = (this.registry as unknown as { store: Map<string, StoredMetric> }).store;
		for (const metric of store.values()) {
			const own = metric.name.startsWith("momentum_");
			const builtIn = BUILT_INS[metric.name];
			if (!own && !builtIn) continue;
			const name = own ? metric.name : builtIn.name;
			const type = own ? metric.type : (builtIn.type ?? metric.type);
			// milliseconds become seconds by a division, which keeps bounds such as 0.005 exact
			const per = builtIn?.scale ? 1 / builtIn.scale : KEPT_IN_MILLISECONDS.has(metric.name) ? 1000 : 1;
			const snapshot = metric.snapshot();
			if (snapshot.length === 0) continue;
			out.push(`# HELP ${name} ${(own ? metric.description : builtIn.help) ?? name}`);
			out.push(`# TYPE ${name} ${type}`);
			for (const item of snapshot) {
				if (metric.type === "histogram") {
					if (!item.buckets) continue;
					for (const [le, n] of Object.entries(item.buckets).sort((a, b) => Number(a[0]) - Number(b[0])))
						out.push(`${name}_bucket${labels(item.labels, { le: String(Number(le) / per) })} ${fmt(n)}`);
					out.push(`${name}_bucket${labels(item.labels, { le: "+Inf" })} ${fmt(item.count)}`);
					out.push(`${name}_sum${labels(item.labels)} ${fmt((item.sum ?? 0) / per)}`);
					out.push(`${name}_count${labels(item.labels)} ${fmt(item.count)}`);
				} else {
					out.push(`${name}${labels(item.labels)} ${fmt(item.value == null ? item.value : item.value / per)}`);
				}
			}
		}
		return out.join("\n") + "\n";
	}
}

function snakeCase(name: string): string {
	return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

function escapeLabel(s: string): string {
	return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** The reporter the broker was given (moleculer.config.ts), if metrics are on. */
export function scrapeReporter(broker: ServiceBroker): ScrapeReporter | undefined {
	if (!metricsEnabled(broker)) return undefined;
	const reporters = (broker.metrics as unknown as { reporter?: unknown[] }).reporter ?? [];
	return reporters.find((r): r is ScrapeReporter => r instanceof ScrapeReporter);
}

/** Runs the collectors (each bounded in time), then renders. Undefined when metrics are off. */
export async function renderMetrics(broker: ServiceBroker): Promise<string | undefined> {
	const reporter = scrapeReporter(broker);
	if (!reporter) return undefined;
	const pending = [...(collectors.get(broker) ?? [])].map(collect =>
		Promise.race([
			Promise.resolve()
				.then(collect)
				.catch(err => broker.logger.debug("A metrics collector failed:", (err as Error).message)),
			new Promise<void>(resolve => setTimeout(resolve, COLLECT_TIMEOUT_MS).unref())
		])
	);
	await Promise.all(pending);
	return reporter.render();
}

/** Broker options for the metrics (moleculer.config.ts): the scrape reporter, Moleculer's process metrics. */
export function metricsOptions(enabled: boolean): BrokerOptions["metrics"] {
	return enabled ? { enabled: true, reporter: [new ScrapeReporter({}) as never], collectProcessMetrics: true } : { enabled: false };
}

/** `2xx`, `4xx`, ...: HTTP status as a bounded label. */
export function statusClass(status: number): string {
	return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "other";
}
