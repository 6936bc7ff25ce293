import crypto from "node:crypto";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../lib/embedded-postgres";
import { closedLoop, waitEventsHandled, waitSettled } from "../lib/checkout";
import { cleanUpAll, tempDir } from "../lib/proc";
import { adminToken, checkoutProduct, createCustomers, startSingle } from "../lib/shop";
import { SERVICE_NAMES } from "../../app/config";

/**
 * What one confirmed order costs PostgreSQL: statements, transactions and rows, per order, counted by
 * pg_stat_statements on a server of the tool's own (the embedded PostgreSQL, with the extension preloaded).
 * Unlike throughput it does not move with the machine's noise. The counts include everything the shop did
 * while the orders went through (the outbox relays' and sweeps' polling too); an idle interval as long as the
 * run is measured first and reported beside them. Each service connects as a PostgreSQL role of its own
 * (`<SERVICE>_DATABASE_URL`, as an operator splitting the database per service would), so the counts are also
 * given per service (pg_stat_statements keeps them per role).
 * Usage: node --import tsx bench/tools/statements-per-order.ts [orders=200] [customers=8]; `npm run bench` runs it as
 * scenario 8 (`--only=saga-cost`).
 */

/** What one confirmed order cost PostgreSQL. */
export interface SagaCost {
	orders: number;
	/** Per order. */
	statements: number;
	/** Per order, less the pollers' idle rate over the run's length. */
	statementsWithoutIdle: number;
	idlePerSecond: number;
	transactions: number;
	rows: number;
	/** Statements per order, by service. */
	byService: Record<string, number>;
	/** Events handled on receipt, and recorded first (handled by the inbox's pass). */
	onReceipt: number;
	queued: number;
	/** The statements with the most calls per order. */
	top: { query: string; perOrder: number }[];
}

interface Counts {
	statements: number;
	/** Statements per service (its role). */
	byService: Record<string, number>;
	transactions: number;
	rows: number;
	/** The statements with the most calls: query text (shortened) and calls. */
	top: { query: string; calls: number }[];
}

async function snapshot(c: pg.Client): Promise<Counts> {
	const s = await c.query<{ calls: string; rows: string }>(
		`SELECT coalesce(sum(calls), 0) AS calls, coalesce(sum(rows), 0) AS rows FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		 WHERE d.datname = 'momentum' AND s.query NOT ILIKE '%pg_stat%'`
	);
	const per = await c.query<{ role: string; calls: string }>(
		`SELECT r.rolname AS role, sum(calls) AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
		 WHERE d.datname = 'momentum' AND s.query NOT ILIKE '%pg_stat%' GROUP BY r.rolname`
	);
	const x = await c.query<{ n: string }>(`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = 'momentum'`);
	const top = await c.query<{ query: string; calls: string }>(
		// one line per statement across the services' roles (and the different texts of its constants)
		`SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query, sum(calls) AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		 WHERE d.datname = 'momentum' AND s.query NOT ILIKE '%pg_stat%' GROUP BY 1 ORDER BY 2 DESC LIMIT 25`
	);
	return {
		statements: Number(s.rows[0].calls),
		byService: Object.fromEntries(per.rows.map(r => [r.role.replace(/^svc_/, ""), Number(r.calls)])),
		transactions: Number(x.rows[0].n),
		rows: Number(s.rows[0].rows),
		top: top.rows.map(r => ({ query: r.query, calls: Number(r.calls) }))
	};
}

export async function measureSagaCost(orders: number, customersN: number, log: (msg: string) => void): Promise<SagaCost> {
	const work = tempDir("momentum-statements-");
	// the embedded server, with pg_stat_statements preloaded (a setting read at start: set, then start again)
	const server = await startEmbeddedPostgres({ dataDir: path.join(work, "postgres"), database: "momentum", log });
	const admin = new pg.Client({ connectionString: server.url("postgres") });
	await admin.connect();
	await admin.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
	await admin.query("ALTER SYSTEM SET pg_stat_statements.track = 'all'");
	await admin.query("ALTER SYSTEM SET pg_stat_statements.track_utility = 'on'");
	await admin.end();
	await server.crash();
	await server.restart();
	const c = new pg.Client({ connectionString: server.url("momentum") });
	await c.connect();
	await c.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");

	// a role per service: its statements are counted apart
	const serviceUrls: Record<string, string> = {};
	for (const service of SERVICE_NAMES) {
		const password = crypto.randomBytes(12).toString("hex");
		await c.query(`CREATE ROLE "svc_${service}" LOGIN PASSWORD '${password}'`);
		await c.query(`GRANT CREATE ON DATABASE momentum TO "svc_${service}"`);
		const u = new URL(server.url("momentum"));
		u.username = `svc_${service}`;
		u.password = password;
		serviceUrls[`${service.toUpperCase()}_DATABASE_URL`] = u.toString();
	}

	const shop = await startSingle({
		dataDir: path.join(work, "shop"),
		databaseUrl: server.url("momentum"),
		jwtSecret: crypto.randomBytes(32).toString("hex"),
		log,
		env: { SEED_DEMO_DATA: "false", METRICS: "off", ...serviceUrls }
	});
	try {
		const token = await adminToken(shop.http);
		const product = await checkoutProduct(shop.http, token, 1_000_000);
		const customers = await createCustomers(shop.http, customersN, "stmt");
		// warm up: caches, prepared plans, the first of everything
		await closedLoop(shop.http, customers, product, 30, 20);
		await waitSettled(shop.http, token, 60_000);
		await waitEventsHandled(shop.databaseUrl);

		// what the shop does with nothing to do, for as long as the run will take (estimated from the warm-up)
		await c.query("SELECT pg_stat_statements_reset()");
		const idleFrom = await snapshot(c);
		const idleStarted = Date.now();
		const idleMs = 5_000;
		await new Promise(resolve => setTimeout(resolve, idleMs));
		const idle = await snapshot(c);
		const idlePerSecond = ((idle.statements - idleFrom.statements) * 1000) / (Date.now() - idleStarted);

		await c.query("SELECT pg_stat_statements_reset()");
		const before = await snapshot(c);
		const started = Date.now();
		const { placed } = await closedLoop(shop.http, customers, product, 600, orders);
		await waitSettled(shop.http, token, 120_000);
		await waitEventsHandled(shop.databaseUrl);
		const seconds = (Date.now() - started) / 1000;
		const after = await snapshot(c);
		const ok = placed.filter(p => p.orderId).length;
		const confirmed = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM "order".orders WHERE status = 'CONFIRMED'`)).rows[0].n);
		const statements = after.statements - before.statements;
		const background = idlePerSecond * seconds;
		log(`${ok} orders placed in ${seconds.toFixed(1)} s (${confirmed} CONFIRMED in all, warm-up included)`);
		log(
			`per order: ${(statements / ok).toFixed(1)} statements (${((statements - background) / ok).toFixed(1)} without the idle polling of ${idlePerSecond.toFixed(1)}/s), ${((after.transactions - before.transactions) / ok).toFixed(1)} transactions, ${((after.rows - before.rows) / ok).toFixed(1)} rows`
		);
		// an event handled on receipt is recorded and handled in one transaction: same timestamp
		let onReceipt = 0;
		let queued = 0;
		for (const schema of ["inventory", "order", "payment", "notification", "cart"]) {
			const r = await c.query<{ event: string; on_receipt: string; queued: string }>(
				`SELECT event, count(*) FILTER (WHERE handled_at = received_at) AS on_receipt, count(*) FILTER (WHERE handled_at IS DISTINCT FROM received_at) AS queued
				 FROM "${schema}".inbox GROUP BY event ORDER BY event`
			);
			for (const row of r.rows) {
				log(`  ${schema} inbox ${row.event}: ${row.on_receipt} handled on receipt, ${row.queued} queued first`);
				onReceipt += Number(row.on_receipt);
				queued += Number(row.queued);
			}
		}
		const byService: Record<string, number> = {};
		for (const name of Object.keys(after.byService).sort((a, b) => (after.byService[b] ?? 0) - (after.byService[a] ?? 0))) {
			const n = ((after.byService[name] ?? 0) - (before.byService[name] ?? 0)) / ok;
			if (n >= 0.05) byService[name] = Math.round(n * 10) / 10;
		}
		log(
			`per order and service: ${Object.entries(byService)
				.map(([name, n]) => `${name} ${n.toFixed(1)}`)
				.join(", ")}`
		);
		log("most called (calls per order):");
		for (const t of after.top) log(`  ${(t.calls / ok).toFixed(2).padStart(6)}  ${t.query}`);
		return {
			orders: ok,
			statements: statements / ok,
			statementsWithoutIdle: (statements - background) / ok,
			idlePerSecond,
			transactions: (after.transactions - before.transactions) / ok,
			rows: (after.rows - before.rows) / ok,
			byService,
			onReceipt,
			queued,
			top: after.top.map(t => ({ query: t.query, perOrder: t.calls / ok }))
		};
	} finally {
		await c.end().catch(() => undefined);
		await shop.stop();
		await server.stop();
	}
}

if (require.main === module) {
	const log = (msg: string) => console.log(`[statements] ${msg}`);
	measureSagaCost(Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 8), log)
		.then(() => cleanUpAll(log))
		.catch(async err => {
			console.error(err);
			await cleanUpAll(log);
			process.exit(1);
		});
}
