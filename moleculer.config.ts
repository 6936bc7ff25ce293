import os from "node:os";
import { Errors, type BrokerOptions } from "moleculer";
import { BoundedCacher } from "./lib/bounded-cacher";
import type { AppConfig, TracingConfig } from "./app/config";
import { MomentumRegenerator } from "./lib/errors";
import { AnnouncedMiddleware, DatabaseOutageMiddleware, FailFastOnDisconnect, RejectNulMiddleware } from "./lib/middlewares";
import { TraceContextMiddleware } from "./lib/events";
import { replCommands, ReplOperatorMiddleware } from "./app/repl-commands";
import { transporterOptions } from "./lib/transporter";
import { metricsOptions } from "./lib/metrics";
import { jsonLogFormatter, QuietConsoleLogger } from "./lib/log-format";
import { spanTags } from "./lib/events";

/**
 * Moleculer tracing (TRACING_EXPORTER): spans of every action, of every event an inbox handles, and of the
 * outbox hand-offs, exported as Zipkin v2 JSON (Zipkin, Jaeger and the OpenTelemetry Collector read it).
 * Spans carry safe tags only (`spanTags`): never params, meta or responses, which hold tokens and passwords.
 */
function tracingOptions(t: TracingConfig): BrokerOptions["tracing"] {
	if (t.exporter === "off") return { enabled: false };
	return {
		enabled: true,
		sampling: { rate: t.sampleRate },
		events: false,
		// an error's data may quote what it refused (a card token): name, message and type only
		errorFields: ["name", "message", "code", "type"],
		stackTrace: false,
		tags: { action: spanTags, event: { params: false, meta: false } },
		exporter:
			t.exporter === "zipkin"
				? [{ type: "Zipkin", options: { baseURL: t.endpoint, interval: 1, payloadOptions: { debug: false, shared: false } } }]
				: [{ type: "Console", options: { width: 100 } }]
	};
}

/**
 * Broker options, derived from the validated config. One process in development (no transporter);
 * with TRANSPORTER set, the same services join a cluster.
 */
export function brokerOptions(config: AppConfig): BrokerOptions {
	return {
		namespace: "momentum",
		nodeID: config.nodeId ?? `${os.hostname()}-${process.pid}`,
		// NATS with its credentials, key files and TLS (lib/transporter.ts); another scheme's URL names its transporter
		transporter: config.transport ? transporterOptions(config.transport) : null,
		// LOG_FORMAT: text for people (development), one JSON object per line for log pipelines (production)
		// text: Moleculer's routine start-up lines only at LOG_LEVEL=debug (lib/log-format.ts)
		logger:
			config.logFormat === "json"
				? { type: "Console", options: { level: config.logLevel, colors: false, formatter: jsonLogFormatter } }
				: new QuietConsoleLogger({
						level: config.logLevel,
						colors: process.stdout.isTTY === true,
						moduleColors: false,
						formatter: "short",
						autoPadding: true
					}),
		// what a call may take unless its action says otherwise (catalog reads 5 s, placing an order 20 s)
		requestTimeout: config.requestTimeoutMs,
		// a node that vanished (kill -9, lost network) is noticed within 10 s rather than Moleculer's 30 s
		heartbeatInterval: 3,
		heartbeatTimeout: 10,
		// Retried only when the request was never taken: the chosen node was leaving the cluster (graceful
		// shutdown) or none was there yet. Nothing that may have run is ever repeated.
		retryPolicy: { enabled: true, retries: 3, delay: 100, maxDelay: 1000, factor: 2, check: err => err instanceof Errors.ServiceNotAvailableError },
		errorRegenerator: new MomentumRegenerator(),
		// Answers are frozen when stored (the cacher runs `clone` on set and on every hit; a frozen answer
		// passes through untouched): a caller that changes a cached result fails instead of changing it for
		// everyone else, and no hit pays for a deep copy.
		cacher: new BoundedCacher(config.cache), // CACHE_MAX_ENTRIES, CACHE_MAX_MB; least recently used first
		// main.ts owns the signals: it stops the broker, then the embedded database, then exits.
		skipProcessEventRegistration: true,
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		// A leaving node first tells the others it has no services, then waits this long before it refuses
		// requests, so callers have stopped choosing it by then.
		registry: { strategy: "RoundRobin", preferLocal: true, stopDelay: config.transport ? 1000 : 0 },
		middlewares: [RejectNulMiddleware, DatabaseOutageMiddleware, FailFastOnDisconnect, AnnouncedMiddleware, TraceContextMiddleware, ReplOperatorMiddleware],
		// `op`, `as`, `saga <orderId>` and `dlq [id]` in `npm run repl`; its `call`s run as the operator (ReplOperatorMiddleware)
		replOptions: { customCommands: replCommands },
		// METRICS: Moleculer's and the shop's metrics, rendered at /metrics on HEALTH_PORT (lib/metrics.ts)
		metrics: metricsOptions(config.metrics),
		tracing: tracingOptions(config.tracing)
	};
}

export default brokerOptions;
