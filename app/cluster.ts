import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { loadClusterConfig } from "./config";
import { ConfigError, redactUrl } from "../lib/config";
import { EMBEDDED_DATABASE } from "../lib/database";
import { CLUSTER_GROUPS } from "./cluster-groups";
import { freePort, portOpen, startEmbeddedPostgres, type EmbeddedServer } from "../lib/embedded-postgres";
import { privateNatsConfig } from "../lib/nats-config";
import { projectRoot } from "../lib/paths";
import { CLUSTER_COMMAND, readArgs } from "./cli";

/**
 * `npm run cluster`: the shop as a small cluster on this machine, one process per service group joined
 * over NATS (or RabbitMQ: TRANSPORTER=amqp://...), the same layout as docker-compose.yml. Each line of
 * output is prefixed with its node; Ctrl-C stops every node gracefully, then what the launcher started: its
 * nats-server (unless NATS_URL or TRANSPORTER names a bus) and the embedded PostgreSQL (unless DATABASE_URL
 * names a server).
 */

const COLORS = [36, 35, 33, 32, 34, 31];

const DEFAULT_PORTS: Record<string, number> = { nats: 4222, amqp: 5672, amqps: 5671 };

/** Whether the first server of a bus URL (list) accepts connections. */
function reachable(url: string): Promise<boolean> {
	const first = url.split(/[,;]/)[0].trim();
	const scheme = first.slice(0, first.indexOf(":"));
	const { hostname, port } = new URL(first.replace(/^[a-z]+:/, "http:"));
	return portOpen(Number(port || DEFAULT_PORTS[scheme] || 4222), hostname.replace(/^\[|\]$/g, ""), 2000);
}

/** A bus URL (list) for a log line: no credentials. */
const shown = (url: string) =>
	url
		.split(/[,;]/)
		.map(u => redactUrl(u.trim()))
		.join(",");

function prefixLines(stream: NodeJS.ReadableStream, prefix: string): void {
	readline.createInterface({ input: stream }).on("line", line => process.stdout.write(`${prefix} ${line}\n`));
}

/** The nats-server on PATH; Debian installs it in /usr/sbin, which a user's PATH often lacks. */
function findNatsServer(): string | undefined {
	const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), "/usr/local/sbin", "/usr/sbin"];
	for (const dir of dirs) {
		const file = path.join(dir, "nats-server");
		try {
			fs.accessSync(file, fs.constants.X_OK);
			return file;
		} catch {
			// not here
		}
	}
	return undefined;
}

interface OwnNats {
	/** With the user and password: what the nodes get as TRANSPORTER. */
	url: string;
	/** SIGTERM, wait for the exit, delete the config. */
	stop(): Promise<void>;
}

/**
 * A nats-server of the launcher's own on a free loopback port, requiring a random user and password. They
 * are written to a config file in a fresh private temp dir (mode 0600), never on the command line where
 * `ps` would show them. Its own process group: a terminal's Ctrl-C must not stop NATS before the nodes
 * have finished their work in flight.
 */
async function startOwnNats(bin: string): Promise<OwnNats> {
	const nats = privateNatsConfig(await freePort(), { prefix: "momentum-cluster-nats-" });
	const { dir } = nats;
	const port = nats.port;
	const child = spawn(bin, ["-c", nats.file], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	child.stdout!.on("data", d => (output = (output + d).slice(-4000)));
	child.stderr!.on("data", d => (output = (output + d).slice(-4000)));
	let up = false;
	let stopping = false;
	const exited = new Promise<void>(resolve =>
		child.once("exit", (code, signal) => {
			if (up && !stopping) console.log(`[cluster] nats-server exited (${signal ?? code}); the nodes keep trying to reconnect\n${output}`);
			resolve();
		})
	);
	const running = () => child.exitCode === null && child.signalCode === null;
	const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
	const killNow = () => {
		stopping = true;
		if (running()) child.kill("SIGKILL");
		removeDir();
	};
	// whatever ends the launcher (an error, a second Ctrl-C) ends this server and removes its config
	process.once("exit", killNow);
	const deadline = Date.now() + 10_000;
	while (!(await portOpen(port))) {
		if (!running() || Date.now() > deadline) {
			killNow();
			throw new Error(`nats-server did not start:\n${output}`);
		}
		await new Promise(r => setTimeout(r, 100));
	}
	up = true;
	return {
		url: nats.url,
		async stop() {
			stopping = true;
			if (running()) child.kill("SIGTERM");
			await exited;
			removeDir();
		}
	};
}

async function main(): Promise<void> {
	readArgs(CLUSTER_COMMAND);
	let ownNats: OwnNats | undefined;
	let embedded: EmbeddedServer | undefined;
	const children: { node: string; child: ChildProcess; exited: Promise<void> }[] = [];
	let stopping = false;
	// from the start: a Ctrl-C while NATS or PostgreSQL is starting must not leave them behind
	const stop = async (signal: string) => {
		if (stopping) {
			console.log("[cluster] stopping at once");
			for (const c of children) c.child.kill("SIGKILL");
			process.exit(1); // the exit hook kills nats-server
		}
		stopping = true;
		console.log(`[cluster] ${signal}: stopping every node (they finish their work in flight)`);
		for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGTERM");
		await Promise.all(children.map(c => c.exited));
		// the nodes needed the bus to finish; now it can go
		await ownNats?.stop();
		await embedded?.stop();
		console.log("[cluster] stopped");
		process.exit(0);
	};
	process.on("SIGINT", () => void stop("SIGINT"));
	process.on("SIGTERM", () => void stop("SIGTERM"));

	let cluster;
	try {
		cluster = loadClusterConfig(process.env);
	} catch (err) {
		console.error(err instanceof ConfigError ? err.message : err);
		process.exit(1);
	}

	let busUrl = cluster.natsUrl ?? cluster.transporter;
	if (busUrl) {
		if (!(await reachable(busUrl))) {
			const which = cluster.natsUrl ? "NATS_URL" : "TRANSPORTER";
			console.error(`Nothing answers at ${shown(busUrl)}. Start that server, or unset ${which} to have the launcher start a nats-server of its own.`);
			process.exit(1);
		}
	} else {
		const bin = findNatsServer();
		if (!bin) {
			console.error(
				"nats-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install nats-server`; " +
					"or a release from https://github.com/nats-io/nats-server/releases), or set NATS_URL to a NATS server of your own."
			);
			process.exit(1);
		}
		try {
			ownNats = await startOwnNats(bin);
		} catch (err) {
			console.error(`[cluster] ${(err as Error).message}`);
			process.exit(1);
		}
		busUrl = ownNats.url;
		console.log(`[cluster] started nats-server on ${redactUrl(busUrl)} with a random user and password`);
	}

	let databaseUrl = cluster.databaseUrl;
	if (!databaseUrl && !stopping) {
		// one embedded server for every node, started (or adopted) here and stopped after the last node
		embedded = await startEmbeddedPostgres({
			dataDir: path.join(cluster.dataDir, "postgres"),
			database: EMBEDDED_DATABASE,
			log: msg => console.log(`[cluster] ${msg}`)
		});
		databaseUrl = embedded.url(EMBEDDED_DATABASE);
	}
	if (stopping) return;
	console.log(`[cluster] ${CLUSTER_GROUPS.length} nodes over ${shown(busUrl)}; Ctrl-C stops them all`);

	const width = Math.max(...CLUSTER_GROUPS.map(g => g.node.length));
	CLUSTER_GROUPS.forEach((group, i) => {
		const color = process.stdout.isTTY ? (s: string) => `\u001b[${COLORS[i % COLORS.length]}m${s}\u001b[0m` : (s: string) => s;
		const prefix = color(`[${group.node.padEnd(width)}]`);
		const child = spawn(process.execPath, ["--env-file-if-exists=.env", "--import", "tsx", "app/main.ts"], {
			cwd: projectRoot(),
			// own process group: a terminal's Ctrl-C reaches the launcher, which stops the nodes in order
			detached: true,
			stdio: ["ignore", "pipe", "pipe"],
			env: {
				...process.env,
				TRANSPORTER: busUrl,
				SERVICES: group.services,
				NODE_ID: process.env.NODE_ID ? `${process.env.NODE_ID}-${group.node}` : `${group.node}-${process.pid}`,
				DATABASE_URL: databaseUrl,
				// each node its own health and metrics port: 3001, 3002, ... (HEALTH_PORT=off: none)
				HEALTH_PORT: cluster.healthPortBase === undefined ? "off" : String(cluster.healthPortBase + i)
			}
		});
		prefixLines(child.stdout!, prefix);
		prefixLines(child.stderr!, prefix);
		const exited = new Promise<void>(resolve =>
			child.once("exit", (code, signal) => {
				if (!stopping) console.log(`[cluster] ${group.node} exited (${signal ?? code}); the other nodes keep running`);
				resolve();
			})
		);
		children.push({ node: group.node, child, exited });
	});
}

void main();
