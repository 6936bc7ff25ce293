import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../lib/embedded-postgres";
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
	url: string;
	port: number;
	/** Stops the server (SIGTERM) and waits for it to exit. */
	stop(): Promise<void>;
	/** Starts it again on the same port and storage. */
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

/** A nats-server of our own (JetStream on) on a free loopback port. */
export async function startNats(): Promise<NatsServer> {
	const port = await freePort();
	const store = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-nats-"));
	let proc: Proc | undefined;
	const server: NatsServer = {
		url: `nats://127.0.0.1:${port}`,
		port,
		async start() {
			proc = track(spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store], { stdio: ["ignore", "pipe", "pipe"] }));
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
		fs.rmSync(store, { recursive: true, force: true });
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
		...env
	};
	for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
	const proc = track(spawn(process.execPath, ["--import", "tsx", "lib/main.ts"], { cwd: projectRoot(), env: full, stdio: ["ignore", "pipe", "pipe"] }));
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
