import crypto from "node:crypto";
import { ServiceBroker, type Service } from "moleculer";
import brokerOptions from "../../moleculer.config";
import { loadConfig, type AppConfig } from "../../app/config";
import { type Env } from "../../lib/config";
import { schemasFor } from "../../app/services";
import { gatewayPort } from "../../services/gateway/gateway.service";
import { TEST_ADMIN } from "./auth";
import type { TestDatabase } from "./database";

/** A test configuration: random secret, fast bcrypt, ports from the OS, quiet logs, no rate limits. */
export function testConfig(db: TestDatabase | undefined, env: Env = {}): AppConfig {
	return loadConfig({
		NODE_ENV: "test",
		JWT_SECRET: crypto.randomBytes(32).toString("hex"),
		BCRYPT_ROUNDS: "4",
		PORT: "0",
		HOST: "127.0.0.1",
		IDENTITY_GRPC_PORT: "0",
		IDENTITY_GRPC_HOST: "127.0.0.1",
		LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "fatal",
		DATABASE_URL: db?.url,
		ADMIN_EMAIL: TEST_ADMIN.email,
		ADMIN_PASSWORD: TEST_ADMIN.password,
		// every test client is 127.0.0.1: tests of the limits themselves turn them on
		RATE_LIMIT_API: "off",
		RATE_LIMIT_AUTH: "off",
		...env
	});
}

export interface RunningShop {
	broker: ServiceBroker;
	config: AppConfig;
	/** e.g. http://127.0.0.1:41234 (only when the gateway runs). */
	baseUrl: string;
	/** Bound gRPC port (only when identity runs). */
	grpcPort: number;
	stop: () => Promise<void>;
}

/** Starts a broker with the services the config names, exactly as `npm start` does, on free ports. */
export async function startShop(
	config: AppConfig,
	extraServices: Partial<import("moleculer").ServiceSchema>[] = [],
	/** Middlewares added after the shop's own (tests use them to lose or fail event hand-offs). */
	middlewares: import("moleculer").Middleware[] = []
): Promise<RunningShop> {
	const options = brokerOptions(config);
	const broker = new ServiceBroker({
		...options,
		middlewares: [...(options.middlewares ?? []), ...middlewares],
		nodeID: `test-${process.pid}-${crypto.randomBytes(3).toString("hex")}`
	});
	for (const schema of schemasFor(config, () => undefined)) broker.createService(schema);
	for (const schema of extraServices) broker.createService(schema as import("moleculer").ServiceSchema);
	await broker.start();
	const find = (name: string): Service | undefined => broker.services.find(s => s.name === name);
	const gateway = find("gateway");
	const grpc = find("identity-grpc") as (Service & { port: number }) | undefined;
	return {
		broker,
		config,
		baseUrl: gateway ? `http://127.0.0.1:${gatewayPort(gateway)}` : "",
		grpcPort: grpc?.port ?? 0,
		stop: () => broker.stop()
	};
}
