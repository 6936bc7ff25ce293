import { ServiceBroker } from "moleculer";
import brokerOptions from "../moleculer.config";
import { catalogIsEmpty, seedDemoData } from "../services/catalog/catalog.demo-data";
import type { AppConfig } from "./config";
import { startHealthServer, type HealthServer } from "./health";
import { readConfig } from "./read-config";
import { schemasFor } from "./services";

/**
 * Starts a Momentum node: the services named by SERVICES (all by default) in one broker.
 * `--repl` opens the Moleculer REPL on the same broker.
 */

/** Fills an empty catalog with the demo products (development default). Never fails the start. */
async function seedIfEmpty(broker: ServiceBroker, config: AppConfig): Promise<void> {
	if (!config.catalog.seedDemoData || !config.services.includes("catalog")) return;
	try {
		if (!(await catalogIsEmpty(broker))) return;
		await broker.waitForServices(["inventory"], 10_000).catch(() => broker.logger.warn("Inventory did not show up within 10 s"));
		await seedDemoData(broker, broker.logger);
	} catch (err) {
		broker.logger.error("Seeding the demo data failed:", err);
	}
}

async function main(): Promise<void> {
	const repl = process.argv.includes("--repl");
	const config = readConfig({ repl });
	const broker = new ServiceBroker(brokerOptions(config));
	let health: HealthServer | undefined;
	for (const schema of schemasFor(config, msg => broker.logger.warn(msg))) broker.createService(schema);

	let stopping = false;
	const shutdown = (signal: string) => {
		if (stopping) {
			broker.logger.warn(`${signal} again: exiting without waiting`);
			process.exit(1);
		}
		stopping = true;
		broker.logger.info(`${signal} received: finishing the work in flight, then stopping`);
		health?.markStopping();
		broker
			.stop()
			.then(() => health?.close())
			.then(
				() => process.exit(0),
				err => {
					broker.logger.error("Stopping failed:", err);
					process.exit(1);
				}
			);
	};
	process.on("SIGINT", () => shutdown("SIGINT"));
	process.on("SIGTERM", () => shutdown("SIGTERM"));

	try {
		await broker.start();
	} catch (err) {
		broker.logger.fatal("Start-up failed:", err);
		await broker.stop().catch(() => undefined);
		process.exit(1);
	}
	if (config.healthPort !== undefined) {
		health = await startHealthServer(broker, config.healthPort, config.gateway.host);
		broker.logger.info(`Health probes on http://${config.gateway.host}:${health.port}/health/ready`);
	}
	await seedIfEmpty(broker, config);
	if (repl) await broker.repl();
}

void main();
