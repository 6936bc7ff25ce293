import os from "node:os";
import type { BrokerOptions, ServiceBroker, TransporterConfig } from "moleculer";
import type { AppConfig } from "./lib/config";
import { collectDeadLetters, replayDeadLetter } from "./lib/dead-letters";
import { MomentumRegenerator } from "./lib/errors";
import { RejectNulMiddleware } from "./lib/middlewares";

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
		replOptions: {
			customCommands: [
				{
					command: "dlq [id]",
					description: "List the dead letters of every service, or replay one: dlq <service:eventId>",
					async action(broker: ServiceBroker, args: string[]) {
						// typed as string[], but moleculer-repl passes { options, rawCommand, <named args> }
						const id = (args as unknown as { id?: string }).id;
						const call = <T>(action: string, params?: object) => broker.call<T, object>(action, params ?? {});
						if (id) {
							const replayed = await replayDeadLetter(broker, call, id);
							console.log(replayed ? `Replaying ${id}` : `No dead letter ${id}`);
							return;
						}
						const letters = await collectDeadLetters(broker, call);
						if (letters.length === 0) console.log("No dead letters.");
						for (const d of letters) console.log(`${d.id}  ${d.event}  attempts ${d.attempts}  ${d.receivedAt}\n    ${d.lastError ?? ""}`);
					}
				}
			]
		},
		metrics: { enabled: false },
		tracing: { enabled: false }
	};
}

export default brokerOptions;
