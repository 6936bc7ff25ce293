import type { AddressInfo } from "node:net";
import { ServiceBroker, type Logger } from "moleculer";
import brokerOptions from "../moleculer.config";
import { catalogIsEmpty, seedDemoData } from "../services/catalog/catalog.demo-data";
import { type AppConfig } from "./config";
import { ConfigError, redactUrl } from "../lib/config";
import { setWarmingUp, startHealthServer, type HealthServer } from "../lib/health";
import { installProcessGuard, START_FAILURE_EXIT_MS } from "../lib/process-guard";
import { readConfig } from "./read-config";
import { MAIN_COMMAND, readArgs } from "./cli";
import { readyBanner } from "./banner";
import { schemasFor } from "./services";

/**
 * Starts a Momentum node: the services named by SERVICES (all by default) in one broker.
 * `--repl` opens the Moleculer REPL on the same broker.
 */

/** Fills an empty catalog with the demo products (development default). Never fails the start. */
async function seedIfEmpty(broker: ServiceBroker, config: AppConfig, log: Logger): Promise<void> {
	if (!config.catalog.seedDemoData || !config.services.includes("catalog")) return;
	try {
		if (!(await catalogIsEmpty(broker))) return;
		await broker.waitForServices(["inventory"], 10_000).catch(() => log.warn("Inventory did not show up within 10 s"));
		await seedDemoData(broker, log);
	} catch (err) {
		log.error("Seeding the demo data failed:", err);
	}
}

/** The banner once the node is ready: text for people; one line in JSON logs. */
function announceReady(broker: ServiceBroker, config: AppConfig, log: Logger, health: HealthServer | undefined, repl: boolean): void {
	const shown = (host: string) => (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host);
	const gateway = broker.getLocalService("gateway") as unknown as { server?: { address(): AddressInfo | string | null } } | undefined;
	const gatewayAddress = gateway?.server?.address();
	const grpc = broker.getLocalService("identity-grpc") as unknown as { port?: number } | undefined;
	const lines = readyBanner({
		env: config.env,
		services: config.services.length,
		apiBase: gatewayAddress && typeof gatewayAddress === "object" ? `http://${shown(config.gateway.host)}:${gatewayAddress.port}` : undefined,
		catalog: config.services.includes("catalog"),
		pages: config.gateway.pages,
		reference: true,
		healthBase: health ? `http://${shown(config.gateway.host)}:${health.port}` : undefined,
		metrics: config.metrics,
		grpc: grpc?.port ? { address: `${shown(config.identity.grpcHost)}:${grpc.port}`, tls: !!config.identity.grpcTls } : undefined,
		adminEmail: config.identity.admin?.email,
		repl
	});
	if (config.logFormat === "json") log.info(lines.map(l => l.trim()).join("; "));
	else console.log(`\n${lines.join("\n")}\n`);
}

/** Every start on a bus without credentials says so: whoever reaches it can call every action. */
function warnIfBusIsOpen(log: Logger, config: AppConfig): void {
	const t = config.transport;
	if (!t || t.authenticated) return;
	const where = t.url
		.split(/[,;]/)
		.map(u => redactUrl(u.trim()))
		.join(",");
	const how =
		t.kind === "amqp" || t.kind === "amqps"
			? "Put a user and password in the URL (amqp://user:password@host:5672/vhost), not RabbitMQ's guest/guest"
			: "Put them in the URL (nats://user:password@host:4222) or set NATS_CREDS_FILE / NATS_NKEY_SEED_FILE";
	log.warn(
		config.env === "production"
			? `TRANSPORTER_INSECURE=true: this node joins ${where} without credentials, so any process that reaches it can join namespace "momentum" and call every action of every service. Keep it on a private network, or give the bus credentials (README, "Running on several nodes").`
			: `TRANSPORTER ${where} has no credentials: any process that reaches the bus can join namespace "momentum" and call every action of every service. ${how}; production refuses to start like this unless TRANSPORTER_INSECURE=true.`
	);
}

async function main(): Promise<void> {
	const repl = readArgs(MAIN_COMMAND).has("--repl");
	const config = readConfig({ repl });
	let options;
	try {
		options = brokerOptions(config);
	} catch (err) {
		// an unreadable or malformed NATS credentials, key or certificate file
		if (!(err instanceof ConfigError)) throw err;
		console.error(err.message);
		process.exit(1);
	}
	const broker = new ServiceBroker(options);
	// the shop's own lines (Moleculer's BROKER module is quiet at info: lib/log-format.ts)
	const log = broker.getLogger("momentum");
	installProcessGuard(log);
	warnIfBusIsOpen(log, config);
	let health: HealthServer | undefined;
	for (const schema of schemasFor(config, msg => log.warn(msg))) broker.createService(schema);

	let stopping = false;
	const shutdown = (signal: string) => {
		if (stopping) {
			log.warn(`${signal} again: exiting without waiting`);
			process.exit(1);
		}
		stopping = true;
		log.info(`${signal} received: finishing the work in flight, then stopping`);
		health?.markStopping();
		broker
			.stop()
			.then(() => health?.close())
			.then(
				() => process.exit(0),
				err => {
					log.error("Stopping failed:", err);
					process.exit(1);
				}
			);
	};
	process.on("SIGINT", () => shutdown("SIGINT"));
	process.on("SIGTERM", () => shutdown("SIGTERM"));

	try {
		// until the demo catalog is seeded the node is not ready and its gateway answers 503 (lib/health.ts)
		setWarmingUp(broker, true);
		await broker.start();
	} catch (err) {
		log.fatal("Start-up failed:", err);
		// Exit non-zero within seconds so a supervisor restarts the node, even when stopping hangs (a client
		// polling /health/ready over keep-alive holds the HTTP server open).
		setTimeout(() => process.exit(1), START_FAILURE_EXIT_MS).unref();
		await broker.stop().catch(() => undefined);
		process.exit(1);
	}
	if (config.healthPort !== undefined) {
		try {
			health = await startHealthServer(broker, config.healthPort, config.gateway.host);
		} catch (err) {
			// a second `npm start` on one machine: development goes on without probes and metrics
			if (config.env !== "development") throw err;
			log.warn(`No health probes or metrics: port ${config.healthPort} is taken (${(err as Error).message}); set HEALTH_PORT to another port`);
		}
	}
	await seedIfEmpty(broker, config, log);
	setWarmingUp(broker, false);
	announceReady(broker, config, log, health, repl);
	if (repl) await broker.repl();
}

void main();
