import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../lib/embedded-postgres";
import { DEMO_PRODUCTS } from "../../services/catalog/catalog.demo-data";
import { client, type Client } from "./http";
import { freePort, onCleanUp, portOpen, rssBytes, sleep, startProc, type Proc } from "./proc";
import { CLUSTER_GROUPS } from "../../app/cluster-groups";
import { privateNatsConfig } from "../../lib/nats-config";

/** The shop as users run it: real `node --import tsx app/main.ts` processes, configured by environment. */

export const ROOT = path.resolve(__dirname, "..", "..");

export const ADMIN = { email: "bench-admin@example.com", password: "bench-admin-password" };

/** Variables of ours that must not leak from the caller's environment into the shop's. */
const SHOP_VARIABLES =
	/^(DATABASE_URL|[A-Z]+_DATABASE_URL|TRANSPORTER|SERVICES|NODE_ID|HEALTH_PORT|NATS_URL|PORT|HOST|DATA_DIR|JWT_SECRET|NODE_ENV|LOG_LEVEL|SEED_DEMO_DATA|METRICS|ADMIN_EMAIL|ADMIN_PASSWORD|BCRYPT_ROUNDS|IDENTITY_GRPC_PORT|IDENTITY_GRPC_HOST|SAGA_.*|EVENT_.*|PAYMENT_SIM_.*|SMTP_URL|TWILIO_.*|DATABASE_POOL_MAX|RATE_LIMIT_.*|TRUSTED_PROXIES|CORS_ORIGINS|LOGIN_.*|BCRYPT_.*|CACHE_.*|NATS_.*|TRANSPORTER_INSECURE|REQUIRE_EMAIL_VERIFICATION|PUBLIC_URL|EMAIL_VERIFICATION_TTL|PASSWORD_RESET_TTL|TRACING_.*)$/;

function baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [k, v] of Object.entries(process.env)) if (!SHOP_VARIABLES.test(k)) env[k] = v;
	for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
	return env;
}

export interface ShopOptions {
	/** Where the embedded PostgreSQL and the development files live. */
	dataDir: string;
	/** A server to use instead of the embedded one. */
	databaseUrl?: string;
	jwtSecret: string;
	/** Extra node flags, e.g. --cpu-prof. */
	nodeArgs?: string[];
	/** A folder to keep every shop process's whole output in (<name>.log). */
	logDir?: string;
	/** Variables to set on top of the benchmark's own (a tool trying a setting). */
	env?: Record<string, string>;
	log: (msg: string) => void;
}

export interface Shop {
	kind: "single" | "cluster";
	baseUrl: string;
	http: Client;
	procs: Proc[];
	/** The database the shop's services use (for the baseline and for reading results). */
	databaseUrl: string;
	/** Summed VmRSS of the shop's node processes. */
	rss(): number;
	stop(): Promise<void>;
}

function shopEnv(o: ShopOptions, extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
	return baseEnv({
		NODE_ENV: "production",
		JWT_SECRET: o.jwtSecret,
		LOG_LEVEL: "warn",
		HOST: "127.0.0.1",
		IDENTITY_GRPC_HOST: "127.0.0.1",
		SEED_DEMO_DATA: "true",
		BCRYPT_ROUNDS: "10",
		// every benchmark client is 127.0.0.1: per-client limits would measure the limits, not the shop
		RATE_LIMIT_API: "off",
		RATE_LIMIT_AUTH: "off",
		// the benchmark's customers never open their verification mails: production's default would refuse their orders
		REQUIRE_EMAIL_VERIFICATION: "false",
		ADMIN_EMAIL: ADMIN.email,
		ADMIN_PASSWORD: ADMIN.password,
		DATA_DIR: o.dataDir,
		DATABASE_URL: o.databaseUrl,
		...extra,
		...o.env
	});
}

async function waitReady(url: string, procs: Proc[], timeoutMs = 120_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		for (const p of procs) if (!p.running()) throw new Error(`${p.name} exited during start-up:\n${p.tail()}`);
		try {
			const res = await fetch(url);
			if (res.status === 200) return;
		} catch {
			// not listening yet
		}
		await sleep(250);
	}
	throw new Error(`not ready within ${timeoutMs / 1000} s (${url}):\n${procs.map(p => `[${p.name}]\n${p.tail()}`).join("\n")}`);
}

/** If a shop process died without stopping its embedded PostgreSQL, stop it (adopting it first). */
async function stopOrphanedEmbedded(dataDir: string): Promise<void> {
	const pidFile = path.join(dataDir, "postgres", "pgdata", "postmaster.pid");
	if (!fs.existsSync(pidFile)) return;
	const server = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "postgres") });
	await server.stop();
}

/** One process running every service: `node --import tsx app/main.ts`, as `npm start` does. */
export async function startSingle(o: ShopOptions): Promise<Shop> {
	const port = await freePort();
	const grpcPort = await freePort();
	const env = shopEnv(o, { PORT: String(port), IDENTITY_GRPC_PORT: String(grpcPort) });
	const proc = startProc("shop", process.execPath, [...(o.nodeArgs ?? []), "--import", "tsx", "app/main.ts"], {
		cwd: ROOT,
		env,
		logFile: o.logDir && path.join(o.logDir, `${path.basename(o.dataDir)}.log`),
		onStop: () => stopOrphanedEmbedded(o.dataDir)
	});
	const baseUrl = `http://127.0.0.1:${port}`;
	await waitReady(`${baseUrl}/health/ready`, [proc]);
	let databaseUrl = o.databaseUrl;
	if (!databaseUrl) {
		// the shop started (and owns) its embedded server; this only learns its address
		const server = await startEmbeddedPostgres({ dataDir: path.join(o.dataDir, "postgres") });
		databaseUrl = server.url("momentum");
	}
	const http = client(baseUrl);
	return {
		kind: "single",
		baseUrl,
		http,
		procs: [proc],
		databaseUrl,
		rss: () => rssBytes(proc.pid) ?? NaN,
		async stop() {
			http.close();
			await proc.stop();
		}
	};
}

/**
 * A nats-server of our own on a free loopback port, requiring a random user and password as deployments do
 * (a production node refuses an open bus); undefined when the binary is missing.
 */
export async function startNats(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
	const { execFileSync } = await import("node:child_process");
	try {
		execFileSync("nats-server", ["--version"], { stdio: "ignore" });
	} catch {
		return undefined;
	}
	const config = privateNatsConfig(await freePort());
	const proc = startProc("nats", "nats-server", ["-c", config.file]);
	const deadline = Date.now() + 10_000;
	while (!(await portOpen(config.port))) {
		if (!proc.running() || Date.now() > deadline) throw new Error(`nats-server did not start:\n${proc.tail()}`);
		await sleep(100);
	}
	return {
		url: config.url,
		stop: async () => {
			await proc.stop();
			fs.rmSync(config.dir, { recursive: true, force: true });
		}
	};
}

/** An executable on PATH or in Debian's sbin folders (servers live in /usr/sbin). */
function findExecutable(name: string): string | undefined {
	for (const dir of [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), "/usr/local/sbin", "/usr/sbin"]) {
		const file = path.join(dir, name);
		try {
			fs.accessSync(file, fs.constants.X_OK);
			return file;
		} catch {
			// not here
		}
	}
	return undefined;
}

/**
 * The machine's RabbitMQ (127.0.0.1:5672, or RABBITMQ_PORT) as the cluster's bus: a fresh virtual host and a
 * user with a random password (on rabbitmqctl's stdin), deleted by `stop` (and at exit). The server itself is
 * never started or stopped here: it may be shared. Undefined, with the reason, when there is none to use.
 */
export async function startRabbitMq(): Promise<{ url: string; stop: () => Promise<void> } | string> {
	const { execFileSync } = await import("node:child_process");
	const ctl = findExecutable("rabbitmqctl");
	const port = Number(process.env.RABBITMQ_PORT || 5672);
	if (!ctl) return "`rabbitmqctl` is not installed (e.g. `apt-get install rabbitmq-server`)";
	if (!(await portOpen(port))) return `no RabbitMQ answers at 127.0.0.1:${port} (start it: \`rabbitmq-server -detached\`)`;
	const run = (args: string[], input = "") => execFileSync(ctl, ["-q", ...args], { input, stdio: ["pipe", "ignore", "pipe"], timeout: 60_000 });
	const id = crypto.randomBytes(4).toString("hex");
	const vhost = `momentum-bench-${id}`;
	const user = `momentum-bench-${id}`;
	const password = crypto.randomBytes(24).toString("hex");
	const remove = () => {
		for (const args of [
			["delete_vhost", vhost],
			["delete_user", user]
		]) {
			try {
				run(args);
			} catch {
				// not made, or gone
			}
		}
	};
	const forget = onCleanUp(`RabbitMQ virtual host ${vhost}`, async () => remove(), remove);
	try {
		run(["add_vhost", vhost]);
		run(["add_user", user], `${password}\n`);
		run(["set_permissions", "-p", vhost, user, ".*", ".*", ".*"]);
	} catch (err) {
		remove();
		forget();
		return `rabbitmqctl cannot manage the RabbitMQ at 127.0.0.1:${port}: ${String((err as { stderr?: Buffer }).stderr ?? err).split("\n")[0]}`;
	}
	return {
		url: `amqp://${user}:${password}@127.0.0.1:${port}/${vhost}`,
		stop: async () => {
			remove();
			forget();
		}
	};
}

/**
 * The shop split over processes like `npm run cluster`: gateway, identity, catalog+inventory+cart and
 * order+payment+notification, joined over the bus `natsUrl` names (NATS or RabbitMQ), sharing one database (an embedded server started here
 * unless `databaseUrl` names one).
 */
export async function startCluster(o: ShopOptions & { natsUrl: string }): Promise<Shop> {
	let embedded: EmbeddedServer | undefined;
	let databaseUrl = o.databaseUrl;
	if (!databaseUrl) {
		embedded = await startEmbeddedPostgres({ dataDir: path.join(o.dataDir, "postgres"), database: "momentum" });
		const server = embedded;
		onCleanUp("cluster PostgreSQL", () => server.stop());
		databaseUrl = embedded.url("momentum");
	}
	const port = await freePort();
	const procs: Proc[] = [];
	const healthUrls: string[] = [];
	for (const group of CLUSTER_GROUPS) {
		const healthPort = await freePort();
		const env = shopEnv(o, {
			TRANSPORTER: o.natsUrl,
			SERVICES: group.services,
			NODE_ID: `bench-${group.node}-${process.pid}`,
			DATABASE_URL: databaseUrl,
			HEALTH_PORT: String(healthPort),
			PORT: group.node === "gateway" ? String(port) : "0",
			IDENTITY_GRPC_PORT: group.node === "identity" ? String(await freePort()) : "0",
			// one seeding node: the catalog's
			SEED_DEMO_DATA: group.node === "catalog" ? "true" : "false"
		});
		procs.push(
			startProc(`cluster-${group.node}`, process.execPath, [...(o.nodeArgs ?? []), "--import", "tsx", "app/main.ts"], {
				cwd: ROOT,
				env,
				logFile: o.logDir && path.join(o.logDir, `cluster-${group.node}.log`)
			})
		);
		healthUrls.push(`http://127.0.0.1:${healthPort}/health/ready`);
	}
	for (const url of healthUrls) await waitReady(url, procs);
	const baseUrl = `http://127.0.0.1:${port}`;
	await waitReady(`${baseUrl}/health/ready`, procs);
	const http = client(baseUrl);
	await waitForRoutes(http, procs);
	return {
		kind: "cluster",
		baseUrl,
		http,
		procs,
		databaseUrl,
		rss: () => procs.reduce((sum, p) => sum + (rssBytes(p.pid) ?? NaN), 0),
		async stop() {
			http.close();
			// the gateway first, the nodes behind it after, like a rolling stop
			await Promise.all(procs.map(p => p.stop()));
			await embedded?.stop();
		}
	};
}

/**
 * The gateway learns the other nodes' routes from service discovery: wait until every route the benchmark
 * uses answers something other than 404 (no such route yet) or 503 (no instance yet).
 */
async function waitForRoutes(http: Client, procs: Proc[], timeoutMs = 60_000): Promise<void> {
	const probes: [string, string][] = [
		["POST", "/api/auth/login"],
		["GET", "/api/products"],
		["GET", `/api/inventory/${crypto.randomUUID()}`],
		["GET", "/api/cart"],
		["GET", "/api/orders"]
	];
	const deadline = Date.now() + timeoutMs;
	for (const [method, path] of probes) {
		for (;;) {
			for (const p of procs) if (!p.running()) throw new Error(`${p.name} exited during start-up:\n${p.tail()}`);
			const res = await http.request(method, path, method === "POST" ? { body: {} } : {});
			if (res.status !== 404 && res.status !== 503) break;
			if (Date.now() > deadline) throw new Error(`${method} ${path} still answers ${res.status} after ${timeoutMs / 1000} s`);
			await sleep(250);
		}
	}
}

export interface Customer {
	email: string;
	password: string;
	token: string;
	/** Spent by a refresh (each is used once): whoever refreshes keeps the new one here. */
	refreshToken: string;
}

/** Logs in as the admin the shop created at start. */
export async function adminToken(http: Client): Promise<string> {
	const res = await http.expect(200, "POST", "/api/auth/login", { body: ADMIN });
	return res.body.accessToken;
}

/** Registers and logs in `n` customers through the API, `parallel` at a time. */
export async function createCustomers(http: Client, n: number, tag: string, parallel = 4): Promise<Customer[]> {
	const customers: Customer[] = [];
	let next = 0;
	const worker = async () => {
		while (next < n) {
			const i = next++;
			const email = `bench-${tag}-${i}@example.com`;
			const password = `pw-${crypto.randomBytes(8).toString("hex")}`;
			await http.expect(201, "POST", "/api/auth/register", { body: { email, password, name: `Bench Customer ${i}` } });
			const login = await http.expect(200, "POST", "/api/auth/login", { body: { email, password } });
			customers[i] = { email, password, token: login.body.accessToken, refreshToken: login.body.refreshToken };
		}
	};
	await Promise.all(Array.from({ length: parallel }, worker));
	return customers;
}

/** Waits until the demo catalog is seeded (the shop seeds it in the background after start). */
export async function waitForCatalog(http: Client, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const res = await http.request("GET", "/api/categories");
		const total = res.status === 200 ? (res.body.items as { productCount: number }[]).reduce((s, c) => s + c.productCount, 0) : 0;
		if (total >= DEMO_PRODUCTS.length) return;
		if (Date.now() > deadline)
			throw new Error(`the demo catalog was not seeded within ${timeoutMs / 1000} s (${total} of ${DEMO_PRODUCTS.length} products)`);
		await sleep(500);
	}
}

/** A product for the checkout load, with `stock` units on hand. */
export async function checkoutProduct(http: Client, admin: string, stock: number): Promise<string> {
	const created = await http.expect(201, "POST", "/api/products", {
		token: admin,
		body: {
			sku: `BENCH-${crypto.randomBytes(4).toString("hex")}`,
			name: "Benchmark mug",
			description: "Enamel, 350 ml",
			priceCents: 4990,
			category: "Home & Kitchen"
		}
	});
	const id = created.body.id as string;
	for (let left = stock; left > 0; left -= 1_000_000) {
		await http.expect(200, "POST", `/api/inventory/${id}/adjustments`, {
			token: admin,
			body: { delta: Math.min(left, 1_000_000), reason: "benchmark stock" }
		});
	}
	return id;
}
