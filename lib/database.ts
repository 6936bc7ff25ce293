import crypto from "node:crypto";
import { Client, type QueryResult } from "pg";
import { Sequelize, Transaction } from "sequelize";
import { Umzug } from "umzug";
import { InvalidInputError } from "./errors";
import { databaseUrlFor, type DatabaseConfig } from "./config";
import { startEmbeddedPostgres, type EmbeddedServer } from "./embedded-postgres";

export const EMBEDDED_DATABASE = "momentum";

type Log = (msg: string) => void;

/**
 * The embedded server is started once per process and shared by every service in it; the last
 * service to let go of it stops it. Keyed by directory so tests can run several side by side.
 */
const embedded = new Map<string, { server: Promise<EmbeddedServer>; users: number }>();

async function acquireEmbedded(dir: string, log: Log): Promise<EmbeddedServer> {
	let entry = embedded.get(dir);
	if (!entry) {
		entry = { server: startEmbeddedPostgres({ dataDir: dir, database: EMBEDDED_DATABASE, log }), users: 0 };
		embedded.set(dir, entry);
		entry.server.catch(() => embedded.delete(dir));
	}
	entry.users++;
	return entry.server;
}

async function releaseEmbedded(dir: string): Promise<void> {
	const entry = embedded.get(dir);
	if (!entry) return;
	entry.users--;
	if (entry.users > 0) return;
	embedded.delete(dir);
	await (await entry.server).stop();
}

export interface Migration {
	name: string;
	/** Runs with `search_path` set to the service's schema: unqualified names land in it. */
	up: (db: MigrationContext) => Promise<void>;
	down?: (db: MigrationContext) => Promise<void>;
}

export interface MigrationContext {
	schema: string;
	sql: (statement: string) => Promise<void>;
}

/** One service's view of PostgreSQL: its own connection pool, pinned to its own schema. */
export class ServiceDatabase {
	private constructor(
		readonly schema: string,
		readonly sequelize: Sequelize,
		private readonly releaseServer: () => Promise<void>
	) {}

	static async open(opts: { service: string; config: DatabaseConfig; migrations: Migration[]; log: Log }): Promise<ServiceDatabase> {
		const { service, config, log } = opts;
		const schema = service;
		let url = databaseUrlFor(config, service);
		let release = async () => undefined as void;
		if (!url) {
			const server = await acquireEmbedded(config.embeddedDir, log);
			url = server.url(EMBEDDED_DATABASE);
			release = () => releaseEmbedded(config.embeddedDir);
		}
		try {
			await migrate(url, schema, opts.migrations, log);
			const sequelize = new Sequelize(url, {
				dialect: "postgres",
				logging: false,
				// a couple of connections stay open when idle: the first query after a quiet spell does not pay for a new one
				pool: { max: config.poolMax, min: Math.min(2, config.poolMax), idle: 10_000, acquire: 30_000 },
				// Every connection of this pool sees only this service's schema.
				dialectOptions: { options: `-c search_path=${quoteIdent(schema)}` },
				define: { schema, timestamps: false }
			});
			return new ServiceDatabase(schema, sequelize, release);
		} catch (err) {
			await release();
			throw err;
		}
	}

	/** Runs `fn` in one transaction (READ COMMITTED unless told otherwise). */
	transaction<T>(fn: (t: Transaction) => Promise<T>, isolationLevel?: Transaction.ISOLATION_LEVELS): Promise<T> {
		return this.sequelize.transaction({ isolationLevel }, fn);
	}

	/** SQL with `$1`-style parameters (sent to PostgreSQL as real bind parameters), answering plain rows. */
	async query<T extends object>(sql: string, bind: unknown[] = [], transaction?: Transaction): Promise<T[]> {
		return (await this.run(sql, bind, transaction)).rows as T[];
	}

	/**
	 * Like `query`, but planned afresh for its very parameters on every call (an unnamed statement). For SQL whose
	 * best plan depends on the values, such as a listing: after five runs of a prepared statement PostgreSQL may
	 * keep one generic plan, which cannot tell a word in 40 % of the products from one in ten of them.
	 */
	async queryPlanned<T extends object>(sql: string, bind: unknown[] = []): Promise<T[]> {
		return (await this.run(sql, bind, undefined, false)).rows as T[];
	}

	/** SQL for writes; answers the rows of its RETURNING clause (none without one). */
	execute<T extends object>(sql: string, bind: unknown[] = [], transaction?: Transaction): Promise<T[]> {
		return this.query<T>(sql, bind, transaction);
	}

	/** The pool's connections: in use, idle, and callers waiting for one (the database's metrics, lib/mixins/db.mixin.ts). */
	poolStats(): { inUse: number; idle: number; waiting: number; max: number } {
		const pool = (this.sequelize.connectionManager as unknown as { pool?: { using: number; available: number; waiting: number; maxSize: number } }).pool;
		return pool ? { inUse: pool.using, idle: pool.available, waiting: pool.waiting, max: pool.maxSize } : { inUse: 0, idle: 0, waiting: 0, max: 0 };
	}

	/** Names of the statements this pool prepares, by SQL text. */
	private readonly statements = new Map<string, string>();

	/**
	 * Runs one statement as a named (prepared) statement on the transaction's connection, or on a pooled one:
	 * each connection parses a statement once and PostgreSQL reuses its plan where that is no worse, instead
	 * of parsing and planning every call. Past MAX_PREPARED distinct statements (SQL built at run time) the
	 * rest run unnamed, so a connection never holds an unbounded number of them.
	 */
	private async run(sql: string, values: unknown[], transaction?: Transaction, prepare = true): Promise<QueryResult> {
		let name = prepare ? this.statements.get(sql) : undefined;
		if (prepare && !name && this.statements.size < MAX_PREPARED) {
			name = `m${crypto.createHash("sha1").update(sql).digest("base64url").slice(0, 20)}`;
			this.statements.set(sql, name);
		}
		const config = { text: sql, values, name };
		try {
			// a Sequelize transaction holds its connection (node-postgres' Client) for its whole life
			if (transaction) return await (transaction as unknown as { connection: Client }).connection.query(config);
			const pool = this.sequelize.connectionManager;
			const connection = (await pool.getConnection({ type: "write" })) as unknown as Client;
			try {
				return await connection.query(config);
			} finally {
				pool.releaseConnection(connection as never);
			}
		} catch (err) {
			throw queryError(err, sql);
		}
	}

	/** True when the database answers within `timeoutMs`. */
	async ping(timeoutMs = 2000): Promise<boolean> {
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<boolean>(resolve => (timer = setTimeout(() => resolve(false), timeoutMs)));
		const probe = this.sequelize.query("SELECT 1").then(
			() => true,
			() => false
		);
		try {
			return await Promise.race([probe, timeout]);
		} finally {
			clearTimeout(timer);
		}
	}

	async close(): Promise<void> {
		try {
			await this.sequelize.close();
		} finally {
			await this.releaseServer();
		}
	}
}

/** At most this many distinct statements are prepared per service (each connection prepares those it runs). */
const MAX_PREPARED = 500;

/** A failed statement: PostgreSQL's error as `parent` / `original` (its `code`, `detail`, ...), as Sequelize gives it. */
class QueryError extends Error {
	readonly parent: Error & { code?: string };
	readonly original: Error & { code?: string };
	constructor(
		cause: Error & { code?: string },
		readonly sql: string
	) {
		super(cause.message);
		this.name = "QueryError";
		this.parent = this.original = cause;
	}
}

/**
 * What a failed statement throws. Text PostgreSQL cannot store (a NUL character, invalid UTF-8) comes from
 * the client: a 422 for every service, rather than a 500 from the driver. Any other error of PostgreSQL
 * becomes a QueryError; anything else (no connection) passes as it is.
 */
const UNSTORABLE_TEXT = new Set(["22021", "22P05"]);
function queryError(err: unknown, sql: string): unknown {
	const code = (err as { code?: unknown } | undefined)?.code;
	if (!(err instanceof Error) || typeof code !== "string") return err;
	if (UNSTORABLE_TEXT.has(code)) {
		return new InvalidInputError([{ field: "", message: "Text must be valid UTF-8 without NUL characters.", type: "string" }]);
	}
	return new QueryError(err, sql);
}

export function quoteIdent(name: string): string {
	return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the schema and applies pending migrations. An advisory lock serialises instances of the same
 * service that start at once against one database, so a migration never runs twice.
 */
async function migrate(url: string, schema: string, migrations: Migration[], log: Log): Promise<void> {
	const client = new Client({ connectionString: url, options: `-c search_path=${quoteIdent(schema)}` });
	await client.connect();
	try {
		await client.query("SELECT pg_advisory_lock(hashtext($1))", [`momentum:migrate:${schema}`]);
		await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
		await client.query(
			`CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`
		);
		const ctx: MigrationContext = { schema, sql: async s => void (await client.query(s)) };
		const umzug = new Umzug<MigrationContext>({
			migrations: migrations.map(m => ({
				name: m.name,
				up: async () => {
					await client.query("BEGIN");
					try {
						await m.up(ctx);
						// recorded in the same transaction as its effect: a crash never leaves it half-applied
						await client.query("INSERT INTO migrations (name) VALUES ($1)", [m.name]);
						await client.query("COMMIT");
					} catch (err) {
						await client.query("ROLLBACK");
						throw err;
					}
				},
				down: m.down && (() => m.down!(ctx))
			})),
			context: ctx,
			storage: {
				executed: async () => (await client.query<{ name: string }>("SELECT name FROM migrations ORDER BY name")).rows.map(r => r.name),
				logMigration: async () => undefined, // done inside the migration's own transaction
				unlogMigration: async ({ name }) => void (await client.query("DELETE FROM migrations WHERE name = $1", [name]))
			},
			logger: undefined
		});
		const applied = await umzug.up();
		if (applied.length > 0) log(`Schema "${schema}": applied ${applied.map(m => m.name).join(", ")}`);
	} finally {
		await client.query("SELECT pg_advisory_unlock_all()").catch(() => undefined);
		await client.end();
	}
}

/**
 * Runs `fn` once the outermost transaction `t` belongs to commits. A reliable handler's `t` is a savepoint,
 * whose own afterCommit hooks run before the real COMMIT; a rolled-back change runs nothing.
 */
export function whenCommitted(t: Transaction, fn: () => void): void {
	let root = t as Transaction & { parent?: Transaction };
	while (root.parent) root = root.parent;
	root.afterCommit(fn);
}
