import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { freePort } from "../../lib/embedded-postgres";
import { privateNatsConfig } from "../../lib/nats-config";
import { projectRoot } from "../../lib/paths";

/** Real processes for the multi-node tests: a nats-server with JetStream and Momentum nodes, on loopback. */

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
	const net = await import("node:net");
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
