import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import net from "node:net";
import { connect as connectAmqp } from "amqplib";
import { Transporters, type BrokerOptions } from "moleculer";
import { connect as connectNats, type NatsError } from "nats";
import { freePort } from "../../lib/embedded-postgres";
import { privateNatsConfig } from "../../lib/nats-config";
import { projectRoot } from "../../lib/paths";

/**
 * Real processes for the multi-node tests: the bus (a nats-server with JetStream of the test's own, or a
 * private virtual host on the machine's RabbitMQ) and Momentum nodes, on loopback.
 */

/** Whatever a test file leaves running is killed when the test process exits. */
const leftovers = new Set<() => void>();
process.once("exit", () => {
	for (const cleanUp of leftovers) cleanUp();
});

export interface Proc {
	child: ChildProcess;
	output(): string;
	exited: Promise<number | null>;
	running(): boolean;
}

function track(child: ChildProcess): Proc {
	let out = "";
	child.stdout?.on("data", d => (out += d));
	child.stderr?.on("data", d => (out += d));
	const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
	return { child, output: () => out, exited, running: () => child.exitCode === null && child.signalCode === null };
}

export interface NatsServer {
	/** With the user and password: what the nodes get as TRANSPORTER. */
	url: string;
	/** The same server without credentials: what any process that reaches the port has. */
	anonymousUrl: string;
	/** The same server with other credentials, e.g. a wrong password. */
	urlWith(user: string, password: string): string;
	user: string;
	password: string;
	port: number;
	/** Stops the server (SIGTERM) and waits for it to exit. */
	stop(): Promise<void>;
	/** Starts it again on the same port, credentials and storage. */
	start(): Promise<void>;
}

async function waitForPort(port: number, proc: Proc, timeoutMs = 10_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (!proc.running()) throw new Error(`exited early:\n${proc.output()}`);
		const open = await new Promise<boolean>(resolve => {
			const s = net.connect(port, "127.0.0.1", () => {
				s.end();
				resolve(true);
			});
			s.on("error", () => resolve(false));
		});
		if (open) return;
		await new Promise(r => setTimeout(r, 100));
	}
	throw new Error(`port ${port} did not open:\n${proc.output()}`);
}

/**
 * A nats-server of our own (JetStream on) on a free loopback port that admits one random user and password,
 * as deployments run it. They live in a config file (mode 0600), never on the command line.
 */
export async function startNats(): Promise<NatsServer> {
	const config = privateNatsConfig(await freePort(), { jetStream: true });
	const { port, user, password, dir } = config;
	const urlWith = (u: string, p: string) => config.urlWith(u, p);
	let proc: Proc | undefined;
	const server: NatsServer = {
		url: urlWith(user, password),
		anonymousUrl: config.urlWith(),
		urlWith,
		user,
		password,
		port,
		async start() {
			proc = track(spawn("nats-server", ["-c", config.file], { stdio: ["ignore", "pipe", "pipe"] }));
			await waitForPort(port, proc);
		},
		async stop() {
			if (!proc?.running()) return;
			proc.child.kill("SIGTERM");
			await proc.exited;
		}
	};
	await server.start();
	leftovers.add(() => {
		if (proc?.running()) proc.child.kill("SIGKILL");
		fs.rmSync(dir, { recursive: true, force: true });
	});
	return server;
}

/**
 * The cluster's bus as a test sees it, whichever transporter carries it: a URL with credentials for the
 * nodes, others for strangers, and a way to take it away from every node and give it back.
 */
export interface Bus {
	/** NATS or RabbitMQ. */
	name: string;
	/** With the user and password: what the nodes get as TRANSPORTER. */
	url: string;
	/** The same bus without credentials: what any process that reaches the port has. */
	anonymousUrl: string;
	/** The same bus with other credentials, e.g. a wrong password. */
	urlWith(user: string, password: string): string;
	user: string;
	password: string;
	/** What the bus answers a client it turns away (NATS: authorization violation; RabbitMQ: access refused). */
	refused: RegExp;
	/** Connects a raw client of the bus (no Moleculer) once; answers the error it was refused with, if it was. */
	rawConnect(url: string): Promise<Error | undefined>;
	/**
	 * Moleculer's own transporter for `url`, as a process outside Momentum would configure it. Connections it
	 * is refused go to `failures` (RabbitMQ), or arrive as the broker's `$transporter.error` (NATS).
	 */
	transporter(url: string, failures: Error[]): BrokerOptions["transporter"];
	/**
	 * The bus goes away for every node: NATS stops its server; RabbitMQ (shared with the machine, so never
	 * stopped) deletes this run's user, which closes every node's connection and refuses their logins: what a
	 * node sees of a restarting server. The nodes keep trying to reconnect.
	 */
	stop(): Promise<void>;
	/** The bus is back (the same port, credentials and storage; RabbitMQ: the user again). */
	start(): Promise<void>;
	/** Gone for good: the server stopped, the virtual host and user deleted. */
	close(): Promise<void>;
}

/** A way to run the cluster's bus in a test. */
export interface Transport {
	name: string;
	/** Why this transport cannot run here (a skipped test says so), or undefined. */
	unavailable(): Promise<string | undefined>;
	start(): Promise<Bus>;
}

/**
 * The transports every multi-node test runs over: NATS (a nats-server of its own) and RabbitMQ (the
 * machine's, at 127.0.0.1:5672 or RABBITMQ_PORT). Each spec body runs once per transport:
 * `for (const t of transports()) describe(`... over ${t.name}`, ...)`.
 */
export function transports(): Transport[] {
	return [
		{
			name: "NATS",
			async unavailable() {
				return findExecutable("nats-server") ? undefined : "no nats-server on PATH (Debian: apt-get install nats-server)";
			},
			start: async () => natsBus(await startNats())
		},
		{
			name: "RabbitMQ",
			unavailable: rabbitUnavailable,
			start: startRabbitBus
		}
	];
}

/** An executable on PATH, or in the sbin folders Debian puts servers in (often not on a user's PATH). */
export function findExecutable(name: string): string | undefined {
	const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), "/usr/local/sbin", "/usr/sbin"];
	for (const dir of dirs) {
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

function natsBus(nats: NatsServer): Bus {
	return {
		name: "NATS",
		url: nats.url,
		anonymousUrl: nats.anonymousUrl,
		urlWith: nats.urlWith,
		user: nats.user,
		password: nats.password,
		refused: /authorization violation/i,
		async rawConnect(url) {
			const u = new URL(url);
			const auth = u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {};
			return connectNats({ servers: u.host, ...auth, reconnect: false }).then(
				async nc => {
					await nc.close();
					return undefined;
				},
				(e: NatsError) => e
			);
		},
		// a refused connection arrives as $transporter.error, which the caller records
		transporter: url => ({ type: "NATS", options: { url } }),
		stop: () => nats.stop(),
		start: () => nats.start(),
		close: () => nats.stop()
	};
}

const RABBITMQ_HOST = "127.0.0.1";
const rabbitPort = () => Number(process.env.RABBITMQ_PORT || 5672);

function portAnswers(port: number, host = "127.0.0.1"): Promise<boolean> {
	return new Promise(resolve => {
		const s = net.connect(port, host, () => {
			s.end();
			resolve(true);
		});
		s.setTimeout(2000, () => {
			s.destroy();
			resolve(false);
		});
		s.on("error", () => resolve(false));
	});
}

/** rabbitmqctl with `args` (and `input` on stdin); rejects with its output when it fails. */
function rabbitmqctl(args: string[], input?: string): Promise<string> {
	const bin = findExecutable("rabbitmqctl");
	if (!bin) return Promise.reject(new Error("rabbitmqctl is not installed"));
	return new Promise((resolve, reject) => {
		const child = spawn(bin, ["-q", ...args], { stdio: ["pipe", "pipe", "pipe"] });
		let out = "";
		child.stdout.on("data", d => (out += d));
		child.stderr.on("data", d => (out += d));
		child.once("error", reject);
		child.once("exit", code => (code === 0 ? resolve(out) : reject(new Error(`rabbitmqctl ${args[0]} failed (${code}): ${out.trim()}`))));
		child.stdin.end(input ?? "");
	});
}

/** The same, waiting for it: for the exit hook, when nothing asynchronous runs any more. */
function rabbitmqctlNow(args: string[]): void {
	const bin = findExecutable("rabbitmqctl");
	if (bin) spawnSync(bin, ["-q", ...args], { stdio: "ignore", timeout: 60_000 });
}

async function rabbitUnavailable(): Promise<string | undefined> {
	if (!findExecutable("rabbitmqctl")) return "rabbitmqctl is not installed (Debian: apt-get install rabbitmq-server)";
	if (!(await portAnswers(rabbitPort(), RABBITMQ_HOST)))
		return `no RabbitMQ answers at ${RABBITMQ_HOST}:${rabbitPort()} (start it: rabbitmq-server -detached)`;
	try {
		await rabbitmqctl(["list_vhosts"]);
	} catch (err) {
		return `rabbitmqctl cannot manage the RabbitMQ at ${RABBITMQ_HOST}:${rabbitPort()}: ${(err as Error).message.split("\n")[0]}`;
	}
	return undefined;
}

/**
 * A private virtual host on the machine's RabbitMQ with a user of its own (random name and password, given
 * on rabbitmqctl's stdin, never its command line), so runs never see each other and the credentials are
 * real. Both are deleted by `close`, or when the test process exits.
 */
async function startRabbitBus(): Promise<Bus> {
	const id = crypto.randomBytes(4).toString("hex");
	const vhost = `momentum-test-${id}`;
	const user = `momentum-test-${id}`;
	const password = crypto.randomBytes(24).toString("hex");
	const port = rabbitPort();
	let vhostMade = false;
	let userMade = false;
	const exitHook = () => {
		if (vhostMade) rabbitmqctlNow(["delete_vhost", vhost]);
		if (userMade) rabbitmqctlNow(["delete_user", user]);
	};
	leftovers.add(exitHook);
	const remove = async () => {
		// deleting the virtual host closes its connections
		if (vhostMade) await rabbitmqctl(["delete_vhost", vhost]);
		vhostMade = false;
		if (userMade) await rabbitmqctl(["delete_user", user]).catch(() => undefined); // deleted by stop()
		userMade = false;
		leftovers.delete(exitHook);
	};
	const addUser = async () => {
		userMade = true;
		await rabbitmqctl(["add_user", user], `${password}\n`);
		await rabbitmqctl(["set_permissions", "-p", vhost, user, ".*", ".*", ".*"]);
	};
	try {
		vhostMade = true;
		await rabbitmqctl(["add_vhost", vhost]);
		await addUser();
	} catch (err) {
		await remove().catch(() => undefined);
		throw err;
	}
	const base = `${RABBITMQ_HOST}:${port}/${encodeURIComponent(vhost)}`;
	const urlWith = (u: string, p: string) => `amqp://${encodeURIComponent(u)}:${encodeURIComponent(p)}@${base}`;
	return {
		name: "RabbitMQ",
		url: urlWith(user, password),
		anonymousUrl: `amqp://${base}`,
		urlWith,
		user,
		password,
		// a wrong password: ACCESS_REFUSED at login; no user: amqplib logs in as guest, whom the server then refuses
		// the virtual host (it closes the connection instead of opening it)
		refused: /ACCESS_REFUSED|Expected ConnectionOpenOk; got <ConnectionClose/,
		async rawConnect(url) {
			return connectAmqp(url).then(
				async conn => {
					await conn.close();
					return undefined;
				},
				(e: Error) => e
			);
		},
		transporter(url, failures) {
			// Moleculer's AMQP transporter reports a refused connection by rejecting, not as $transporter.error
			class Watched extends Transporters.AMQP {
				override connect(...args: unknown[]): Promise<void> {
					return (super.connect as (...a: unknown[]) => Promise<void>).apply(this, args).catch((e: Error) => {
						failures.push(e);
						throw e;
					});
				}
			}
			return new Watched({ url });
		},
		// one rabbitmqctl call takes a second or more: deleting the user closes its connections and refuses its
		// logins at once (two calls, clearing its permissions then closing the connections, take twice as long)
		async stop() {
			await rabbitmqctl(["delete_user", user]);
		},
		start: addUser,
		close: remove
	};
}

export interface NodeProc extends Proc {
	name: string;
	healthPort: number;
	/** Gateway port when the node runs the gateway. */
	httpPort?: number;
	/** Waits until the node's /health/ready answers 200. */
	ready(timeoutMs?: number): Promise<void>;
	/** SIGTERM (graceful) or SIGKILL, then waits for the exit. */
	stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A Momentum node as `npm start` runs it, joined to `nats` and running `services`. */
export async function startNode(name: string, services: string, env: Record<string, string | undefined>): Promise<NodeProc> {
	const healthPort = await freePort();
	const httpPort = services.split(",").includes("gateway") ? await freePort() : undefined;
	const full: NodeJS.ProcessEnv = {
		...process.env,
		LOG_LEVEL: "warn",
		NODE_ID: name,
		SERVICES: services,
		HEALTH_PORT: String(healthPort),
		HOST: "127.0.0.1",
		PORT: String(httpPort ?? 0),
		IDENTITY_GRPC_PORT: "0",
		IDENTITY_GRPC_HOST: "127.0.0.1",
		SEED_DEMO_DATA: "false",
		// every test client is 127.0.0.1, as in testConfig: tests of the limits themselves turn them on
		RATE_LIMIT_API: "off",
		RATE_LIMIT_AUTH: "off",
		...env
	};
	for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
	const proc = track(spawn(process.execPath, ["--import", "tsx", "app/main.ts"], { cwd: projectRoot(), env: full, stdio: ["ignore", "pipe", "pipe"] }));
	const node: NodeProc = {
		...proc,
		name,
		healthPort,
		httpPort,
		async ready(timeoutMs = 60_000) {
			const deadline = Date.now() + timeoutMs;
			while (Date.now() < deadline) {
				if (!proc.running()) throw new Error(`${name} exited early:\n${proc.output()}`);
				try {
					if ((await fetch(`http://127.0.0.1:${healthPort}/health/ready`)).status === 200) return;
				} catch {
					// not listening yet
				}
				await new Promise(r => setTimeout(r, 200));
			}
			throw new Error(`${name} not ready in time:\n${proc.output()}`);
		},
		async stop(signal: NodeJS.Signals = "SIGTERM") {
			if (proc.running()) proc.child.kill(signal);
			return proc.exited;
		}
	};
	leftovers.add(() => {
		if (proc.running()) proc.child.kill("SIGKILL");
	});
	return node;
}
