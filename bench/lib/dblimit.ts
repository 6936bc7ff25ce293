import crypto from "node:crypto";
import pg from "pg";
import { summarize, type LatencySummary } from "./stats";

/**
 * The database limit for the checkout: the same PostgreSQL server running one checkout transaction per
 * order with node-postgres, at the same concurrency: lock the stock row, update it, insert the order and
 * an outbox row, commit. Tables shaped like the shop's `order.orders` and `outbox` (same columns, JSON
 * payloads of the same size, same indexes), in a schema of their own.
 */

const SCHEMA = "bench_dblimit";

export interface DbLimitResult {
	tps: number;
	latency: LatencySummary;
	count: number;
	errors: number;
	seconds: number;
}

export async function setUpDbLimit(url: string): Promise<string> {
	const c = new pg.Client({ connectionString: url });
	await c.connect();
	try {
		await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
		await c.query(`CREATE SCHEMA ${SCHEMA}`);
		await c.query(`SET search_path = ${SCHEMA}`);
		await c.query(`CREATE TABLE stock (product_id uuid PRIMARY KEY, on_hand integer NOT NULL, reserved integer NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now(),
			CHECK (on_hand >= 0), CHECK (reserved >= 0 AND reserved <= on_hand))`);
		await c.query(`CREATE TABLE orders (
			id uuid PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY, user_id uuid NOT NULL, status text NOT NULL, cancel_reason text,
			items jsonb NOT NULL, total_cents bigint NOT NULL, currency text NOT NULL, customer jsonb NOT NULL, shipping_address jsonb,
			payment_token text, payment_status text, reservation_expires_at timestamptz, history jsonb NOT NULL, idempotency_key text,
			request_hash text, created_response jsonb NOT NULL, nudges integer NOT NULL DEFAULT 0, last_nudge_at timestamptz,
			created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), step_started_at timestamptz NOT NULL DEFAULT now())`);
		await c.query(`CREATE UNIQUE INDEX ON orders (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
		await c.query(`CREATE INDEX ON orders (user_id, seq DESC)`);
		await c.query(`CREATE INDEX ON orders (step_started_at) WHERE status IN ('PENDING', 'STOCK_RESERVED')`);
		await c.query(`CREATE TABLE outbox (id uuid PRIMARY KEY, event text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
			delivered_to text[] NOT NULL DEFAULT '{}', published_at timestamptz, next_attempt_at timestamptz NOT NULL DEFAULT now(), correlation_id text NOT NULL)`);
		await c.query(`CREATE INDEX ON outbox (next_attempt_at) WHERE published_at IS NULL`);
		await c.query(`CREATE INDEX ON outbox (correlation_id)`);
		const productId = crypto.randomUUID();
		await c.query(`INSERT INTO stock (product_id, on_hand) VALUES ($1, 1000000000)`, [productId]);
		return productId;
	} finally {
		await c.end();
	}
}

export async function dropDbLimit(url: string): Promise<void> {
	const c = new pg.Client({ connectionString: url });
	await c.connect();
	try {
		await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
	} finally {
		await c.end();
	}
}

/** Runs checkout transactions from `concurrency` connections for `seconds`. */
export async function runDbLimit(url: string, productId: string, concurrency: number, seconds: number): Promise<DbLimitResult> {
	const pool = new pg.Pool({ connectionString: url, max: concurrency, options: `-c search_path=${SCHEMA}` });
	// open every connection before the clock starts
	const clients = await Promise.all(Array.from({ length: concurrency }, () => pool.connect()));
	for (const c of clients) c.release();
	const latencies: number[] = [];
	let errors = 0;
	const start = performance.now();
	const until = start + seconds * 1000;
	const worker = async () => {
		const c = await pool.connect();
		try {
			while (performance.now() < until) {
				const t0 = performance.now();
				try {
					await checkoutTransaction(c, productId);
					latencies.push(performance.now() - t0);
				} catch {
					errors++;
					await c.query("ROLLBACK").catch(() => undefined);
				}
			}
		} finally {
			c.release();
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	const elapsed = (performance.now() - start) / 1000;
	await pool.end();
	return { tps: latencies.length / elapsed, latency: summarize(latencies), count: latencies.length, errors, seconds: elapsed };
}

async function checkoutTransaction(c: pg.PoolClient, productId: string): Promise<void> {
	const id = crypto.randomUUID();
	const userId = crypto.randomUUID();
	const now = new Date().toISOString();
	const items = [{ productId, sku: "BENCH-0001", name: "Benchmark mug", quantity: 1, unitPriceCents: 4990, lineTotalCents: 4990 }];
	const order = {
		id,
		userId,
		status: "PENDING",
		cancelReason: null,
		items,
		totalCents: 4990,
		currency: "BRL",
		shippingAddress: null,
		paymentStatus: null,
		history: [{ status: "PENDING", at: now }],
		createdAt: now,
		updatedAt: now
	};
	const envelope = {
		id: crypto.randomUUID(),
		event: "order.created",
		source: "order",
		occurredAt: now,
		data: { orderId: id, userId, items: [{ productId, quantity: 1 }], totalCents: 4990, currency: "BRL" }
	};
	await c.query("BEGIN");
	await c.query(`SELECT on_hand, reserved FROM stock WHERE product_id = $1 FOR UPDATE`, [productId]);
	await c.query(`UPDATE stock SET on_hand = on_hand - 1, updated_at = now() WHERE product_id = $1`, [productId]);
	await c.query(
		`INSERT INTO orders (id, user_id, status, items, total_cents, currency, customer, shipping_address, payment_token, history,
		   idempotency_key, request_hash, created_response, created_at, updated_at, step_started_at)
		 VALUES ($1, $2, 'PENDING', $3::jsonb, $4, $5, $6::jsonb, $7::jsonb, $8, $9::jsonb, $10, $11, $12::jsonb, $13, $13, $13)`,
		[
			id,
			userId,
			JSON.stringify(items),
			4990,
			"BRL",
			JSON.stringify({ email: "bench@example.com", name: "Bench Customer", phone: null }),
			null,
			"tok_visa",
			JSON.stringify(order.history),
			crypto.randomUUID(),
			crypto.createHash("sha256").update(id).digest("hex"),
			JSON.stringify({ order }),
			now
		]
	);
	await c.query(`INSERT INTO outbox (id, event, payload, correlation_id) VALUES ($1, $2, $3, $4)`, [
		envelope.id,
		envelope.event,
		JSON.stringify(envelope),
		envelope.data.orderId
	]);
	await c.query("COMMIT");
}
