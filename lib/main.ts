import { ServiceBroker } from "moleculer";
import brokerOptions from "../moleculer.config";
import { ConfigError, loadConfig, type AppConfig } from "./config";
import { devJwtSecret } from "./dev-secret";
import { schemasFor } from "./services";
import path from "node:path";

/**
 * Starts a Momentum node: the services named by SERVICES (all by default) in one broker.
 * `--repl` opens the Moleculer REPL on the same broker.
 */
function readConfig(): AppConfig {
	const env = process.env;
	const production = env.NODE_ENV === "production";
	const dataDir = path.resolve(env.DATA_DIR?.trim() || ".data");
	try {
		return loadConfig(env, { devJwtSecret: !production && !env.JWT_SECRET ? devJwtSecret(dataDir) : undefined });
	} catch (err) {
		if (err instanceof ConfigError) {
			console.error(err.message);
			process.exit(1);
		}
		throw err;
	}
}

async function main(): Promise<void> {
	const config = readConfig();
	const broker = new ServiceBroker(brokerOptions(config));
	for (const schema of schemasFor(config, msg => broker.logger.warn(msg))) broker.createService(schema);

	let stopping = false;
	const shutdown = (signal: string) => {
		if (stopping) {
			broker.logger.warn(`${signal} again: exiting without waiting`);
			process.exit(1);
		}
		stopping = true;
		broker.logger.info(`${signal} received: finishing the work in flight, then stopping`);
		broker.stop().then(
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
	if (process.argv.includes("--repl")) await broker.repl();
}

void main();
