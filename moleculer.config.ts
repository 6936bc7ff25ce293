import os from "node:os";
import type { BrokerOptions, TransporterConfig } from "moleculer";
import type { AppConfig } from "./lib/config";
import { MomentumRegenerator } from "./lib/errors";
import { RejectNulMiddleware } from "./lib/middlewares";
import { replCommands } from "./lib/repl-commands";

/**
 * Broker options, derived from the validated config. One process in development (no transporter);
 * with TRANSPORTER set, the same services join a cluster.
 */
export function brokerOptions(config: AppConfig): BrokerOptions {
	return {
		namespace: "momentum",
		nodeID: config.nodeId ?? `${os.hostname()}-${process.pid}`,
		// a connection string such as nats://127.0.0.1:4222 names the transporter by its scheme
		transporter: (config.transporter as TransporterConfig["type"] | undefined) ?? null,
		logger: {
			type: "Console",
			options: { level: config.logLevel, colors: process.stdout.isTTY === true, moduleColors: false, formatter: "short", autoPadding: true }
		},
		requestTimeout: 30_000,
		retryPolicy: { enabled: false },
		errorRegenerator: new MomentumRegenerator(),
		// cloned answers: a caller that changes a cached result must not change it for everyone else
		cacher: { type: "Memory", options: { clone: true } },
		// main.ts owns the signals: it stops the broker, then the embedded database, then exits.
		skipProcessEventRegistration: true,
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		registry: { strategy: "RoundRobin", preferLocal: true },
		middlewares: [RejectNulMiddleware],
		// `saga <orderId>` and `dlq [id]` in `npm run repl`
		replOptions: { customCommands: replCommands },
		metrics: { enabled: false },
		tracing: { enabled: false }
	};
}

export default brokerOptions;
