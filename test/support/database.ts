import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../lib/embedded-postgres";

/**
 * Where tests keep their data: the PostgreSQL server named by DATABASE_URL when it is set, otherwise an
 * embedded server in a temporary folder, started once for the whole run. Every test file gets a fresh,
 * uniquely named database and drops it afterwards, so runs never see each other's leftovers.
 */

let embedded: Promise<{ server: EmbeddedServer; dir: string }> | undefined;

async function adminUrl(): Promise<string> {
	const external = process.env.DATABASE_URL;
	if (external) return external;
	embedded ??= (async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-test-pg-"));
		fs.chmodSync(dir, 0o755);
		const server = await startEmbeddedPostgres({ dataDir: dir });
		return { server, dir };
	})();
	return (await embedded).server.url("postgres");
}

function withDatabase(url: string, database: string): string {
	const u = new URL(url);
	u.pathname = "/" + database;
	return u.toString();
}

export interface TestDatabase {
	url: string;
	name: string;
	/** Runs one statement on its own connection (to look at or change rows behind a service's back); answers its rows. */
	query: <T = Record<string, unknown>>(statement: string, params?: unknown[]) => Promise<T[]>;
	drop: () => Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
	const admin = await adminUrl();
	const name = `momentum_test_${process.pid}_${crypto.randomBytes(4).toString("hex")}`;
	const client = new Client({ connectionString: admin });
	await client.connect();
	try {
		await client.query(`CREATE DATABASE "${name}"`);
	} finally {
		await client.end();
	}
	return {
		url: withDatabase(admin, name),
		name,
		query: async <T>(statement: string, params: unknown[] = []) => {
			const c = new Client({ connectionString: withDatabase(admin, name) });
			await c.connect();
			try {
				return (await c.query(statement, params)).rows as T[];
			} finally {
				await c.end();
			}
		},
		drop: async () => {
			const c = new Client({ connectionString: admin });
			await c.connect();
			try {
				await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
			} finally {
				await c.end();
			}
		}
	};
}

/** Stops the embedded test server (root hook, after every file has run). */
export async function stopTestDatabaseServer(): Promise<void> {
	if (!embedded) return;
	const { server, dir } = await embedded;
	embedded = undefined;
	await server.stop();
	fs.rmSync(dir, { recursive: true, force: true });
}
