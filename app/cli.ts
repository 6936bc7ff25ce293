/**
 * The command lines of the entry points: `--help` (`-h`) prints what the command does and the settings
 * that matter most, then exits 0 before anything starts; an unknown option or argument exits 2.
 */

export interface CommandLine {
	/** How it is run, e.g. `npm start`. */
	usage: string;
	/** What the command does, a few lines. */
	summary: string;
	/** Options besides --help: name (with the dashes) to what it does. */
	options?: Record<string, string>;
	/** The main environment variables: name to what it sets. */
	env: Record<string, string>;
}

const CONFIG_POINTER = 'Every variable, with its default: .env.example, and the README\'s "Configuration" section.';

export function usageText(cmd: CommandLine): string {
	const pad = (rows: Record<string, string>) => {
		const width = Math.max(...Object.keys(rows).map(k => k.length));
		return Object.entries(rows).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
	};
	return [
		`Usage: ${cmd.usage}`,
		"",
		cmd.summary,
		"",
		"Options:",
		...pad({ ...cmd.options, "-h, --help": "print this help and exit" }),
		"",
		"Environment (the npm scripts also read ./.env):",
		...pad(cmd.env),
		"",
		CONFIG_POINTER,
		""
	].join("\n");
}

export type ParsedArgs = { kind: "run"; options: Set<string> } | { kind: "help"; text: string } | { kind: "error"; message: string };

/** What the arguments ask for; pure, for tests. */
export function parseArgs(cmd: CommandLine, argv: string[]): ParsedArgs {
	const known = new Set(Object.keys(cmd.options ?? {}));
	const options = new Set<string>();
	for (const arg of argv) {
		if (arg === "--help" || arg === "-h") return { kind: "help", text: usageText(cmd) };
		if (known.has(arg)) options.add(arg);
		else if (arg.startsWith("-")) return { kind: "error", message: `Unknown option ${arg}` };
		else return { kind: "error", message: `Unexpected argument ${arg}` };
	}
	return { kind: "run", options };
}

/** Reads process.argv: prints the help and exits 0, or the problem and exits 2; else the options given. */
export function readArgs(cmd: CommandLine, argv = process.argv.slice(2)): Set<string> {
	const parsed = parseArgs(cmd, argv);
	if (parsed.kind === "help") {
		process.stdout.write(parsed.text);
		process.exit(0);
	}
	if (parsed.kind === "error") {
		process.stderr.write(`${parsed.message}. Usage: ${cmd.usage}; --help lists the options and settings.\n`);
		process.exit(2);
	}
	return parsed.options;
}

const SHOP_ENV = {
	NODE_ENV: "development (default) or production; production refuses weak secrets",
	"PORT, HOST": "the REST gateway (default 127.0.0.1:3000, under /api)",
	HEALTH_PORT: "health probes and /metrics (development default 3001; off: none)",
	IDENTITY_GRPC_PORT: "identity's gRPC (default 50051)",
	SERVICES: "the services this node runs, comma-separated (default: all)",
	DATABASE_URL: "PostgreSQL (unset: an embedded server with its data in DATA_DIR, default ./.data)",
	JWT_SECRET: "signs access tokens (required in production)",
	"ADMIN_EMAIL, ADMIN_PASSWORD": "an admin account created at start",
	LOG_LEVEL: "fatal, error, warn, info (default), debug or trace",
	TRANSPORTER: "NATS URL joining a cluster (unset: one process)"
};

export const MAIN_COMMAND: CommandLine = {
	usage: "npm start [-- --repl]   (node --import tsx app/main.ts [--repl])",
	summary:
		"Starts a Momentum node: the services SERVICES names (all by default) in one process, with the REST gateway,\n" +
		"identity's gRPC and the health and metrics port. In development an empty catalog gets demo products.",
	options: { "--repl": "also open the Moleculer REPL on the node (npm run repl)" },
	env: SHOP_ENV
};

export const SEED_COMMAND: CommandLine = {
	usage: "npm run seed   (node --import tsx app/seed.ts)",
	summary:
		"Creates the demo products that are missing (with their stock) and exits. Uses the configuration of\n" +
		"`npm start`, and the embedded database of a running `npm start` on the same DATA_DIR.",
	env: { DATABASE_URL: SHOP_ENV.DATABASE_URL, DATA_DIR: "where the embedded database keeps its data (default ./.data)", LOG_LEVEL: SHOP_ENV.LOG_LEVEL }
};

export const CLUSTER_COMMAND: CommandLine = {
	usage: "npm run cluster   (node --import tsx app/cluster.ts)",
	summary:
		"Runs the shop as a small cluster on this machine: one process per service group joined over NATS\n" +
		"(or RabbitMQ), the layout of docker-compose.yml. Ctrl-C stops every node gracefully.",
	env: {
		NATS_URL: "a NATS server of your own (unset: the launcher starts nats-server on a free port)",
		TRANSPORTER: "the nodes' bus when NATS_URL is unset: nats://... or RabbitMQ, amqp://user:password@host:5672/vhost",
		DATABASE_URL: "PostgreSQL (unset: an embedded server in DATA_DIR, default ./.data)",
		HEALTH_PORT: "the first node's health port; the others count up (default 3001; off: none)"
	}
};
