import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { ConfigError, loadClusterConfig } from "./config";
import { EMBEDDED_DATABASE } from "./database";
import { CLUSTER_GROUPS } from "./cluster-groups";
import { portOpen, startEmbeddedPostgres, type EmbeddedServer } from "./embedded-postgres";
import { projectRoot } from "./paths";

/**
 * `npm run cluster`: the shop as a small cluster on this machine, one process per service group joined
 * over NATS, the same layout as docker-compose.yml. Each line of output is prefixed with its node; Ctrl-C
 * stops every node gracefully (and the embedded PostgreSQL the launcher started, if any).
 */

const COLORS = [36, 35, 33, 32, 34, 31];

function reachable(url: string): Promise<boolean> {
	const { hostname, port } = new URL(url.replace(/^nats:/, "http:"));
	return portOpen(Number(port || 4222), hostname, 2000);
}

function prefixLines(stream: NodeJS.ReadableStream, prefix: string): void {
	readline.createInterface({ input: stream }).on("line", line => process.stdout.write(`${prefix} ${line}\n`));
}

async function main(): Promise<void> {
	let cluster;
	try {
		cluster = loadClusterConfig(process.env);
	} catch (err) {
		console.error(err instanceof ConfigError ? err.message : err);
		process.exit(1);
	}
	if (!(await reachable(cluster.natsUrl))) {
		console.error(`No NATS server answers at ${cluster.natsUrl}. Start one (e.g. \`nats-server -js\`) or set NATS_URL.`);
		process.exit(1);
	}

	let embedded: EmbeddedServer | undefined;
	let databaseUrl = cluster.databaseUrl;
	if (!databaseUrl) {
		// one embedded server for every node, started (or adopted) here and stopped after the last node
		embedded = await startEmbeddedPostgres({ dataDir: path.join(cluster.dataDir, "postgres"), database: EMBEDDED_DATABASE, log: msg => console.log(`[cluster] ${msg}`) });
		databaseUrl = embedded.url(EMBEDDED_DATABASE);
	}
	console.log(`[cluster] ${CLUSTER_GROUPS.length} nodes over ${cluster.natsUrl}; Ctrl-C stops them all`);

	const width = Math.max(...CLUSTER_GROUPS.map(g => g.node.length));
	const children: { node: string; child: ChildProcess; exited: Promise<void> }[] = CLUSTER_GROUPS.map((group, i) => {
		const color = process.stdout.isTTY ? (s: string) => `\u001b[${COLORS[i % COLORS.length]}m${s}\u001b[0m` : (s: string) => s;
		const prefix = color(`[${group.node.padEnd(width)}]`);
		const child = spawn(process.execPath, ["--env-file-if-exists=.env", "--import", "tsx", "lib/main.ts"], {
			cwd: projectRoot(),
			// own process group: a terminal's Ctrl-C reaches the launcher, which stops the nodes in order
			detached: true,
			stdio: ["ignore", "pipe", "pipe"],
			env: {
				...process.env,
				TRANSPORTER: cluster.natsUrl,
				SERVICES: group.services,
				NODE_ID: process.env.NODE_ID ? `${process.env.NODE_ID}-${group.node}` : `${group.node}-${process.pid}`,
				DATABASE_URL: databaseUrl
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
		return { node: group.node, child, exited };
	});

	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) {
			console.log("[cluster] stopping at once");
			for (const c of children) c.child.kill("SIGKILL");
			process.exit(1);
		}
		stopping = true;
		console.log(`[cluster] ${signal}: stopping every node (they finish their work in flight)`);
		for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGTERM");
		await Promise.all(children.map(c => c.exited));
		await embedded?.stop();
		console.log("[cluster] stopped");
		process.exit(0);
	};
	process.on("SIGINT", () => void stop("SIGINT"));
	process.on("SIGTERM", () => void stop("SIGTERM"));
}

void main();
