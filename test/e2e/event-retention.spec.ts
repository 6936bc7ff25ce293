import crypto from "node:crypto";
import { expect } from "chai";
import { Client } from "pg";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/**
 * Delivered and handled events, and reservations that can change no more, go after EVENT_RETENTION_DAYS;
 * what is pending or dead stays for an operator, and committed reservations stay for returns.
 */
describe("event retention", function () {
	this.timeout(90_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let pg: Client;
	const SCHEMAS = ["order", "inventory", "payment", "notification", "identity"];

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { EVENT_RETENTION_DAYS: "1", EVENT_RETENTION_INTERVAL: "1", EVENT_POLL_MS: "100" }));
		pg = new Client({ connectionString: db.url });
		await pg.connect();
	});

	after(async () => {
		await pg?.end();
		await shop?.stop();
		await db?.drop();
	});

	const count = async (orderId: string) => {
		let rows = 0;
		for (const schema of SCHEMAS) {
			const res = await pg.query(
				`SELECT (SELECT count(*) FROM "${schema}".outbox WHERE payload->'data'->>'orderId' = $1)::int + (SELECT count(*) FROM "${schema}".inbox WHERE payload->'data'->>'orderId' = $1)::int AS n`,
				[orderId]
			);
			rows += res.rows[0].n;
		}
		return rows;
	};

	it("deletes delivered and handled events past the retention, and keeps recent ones and dead letters", async () => {
		const request = httpClient(shop.baseUrl);
		const admin = await adminToken(request);
		const steps = checkoutSteps(request, () => admin);
		const productId = await steps.product(1000, 10, "Kept");
		const orders: { id: string; token: string }[] = [];
		for (let i = 0; i < 2; i++) {
			const c = await newCustomer(request);
			await steps.addToCart(c.token, productId, 1);
			const res = await steps.placeOrder(c.token);
			orders.push({ id: res.body.order.id, token: c.token });
		}
		for (const o of orders) await steps.settled(o.token, o.id);
		const [old, recent] = orders;
		// every consumer has had its events: they are all published and handled
		await eventually(async () => {
			for (const schema of SCHEMAS) {
				const { rows } = await pg.query(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE published_at IS NULL`);
				expect(rows[0].n, schema).to.equal(0);
			}
		}, 20_000);
		expect(await count(old.id)).to.be.greaterThan(5);
		const dead = crypto.randomUUID();
		await pg.query(
			`INSERT INTO "order".inbox (event_id, event, payload, status, attempts, received_at, last_error, correlation_id)
			 VALUES ($1, 'payment.succeeded', $2, 'DEAD', 5, now() - interval '30 days', 'an operator will look', $3)`,
			[dead, JSON.stringify({ id: dead, event: "payment.succeeded", data: { orderId: crypto.randomUUID() } }), dead]
		);
		for (const schema of SCHEMAS) {
			await pg.query(`UPDATE "${schema}".outbox SET published_at = now() - interval '2 days' WHERE payload->'data'->>'orderId' = $1`, [old.id]);
			await pg.query(`UPDATE "${schema}".inbox SET handled_at = now() - interval '2 days' WHERE payload->'data'->>'orderId' = $1`, [old.id]);
		}

		await eventually(async () => expect(await count(old.id)).to.equal(0), 20_000, 200);
		expect(await count(recent.id)).to.be.greaterThan(5);
		const { rows } = await pg.query(`SELECT status FROM "order".inbox WHERE event_id = $1`, [dead]);
		expect(rows).to.deep.equal([{ status: "DEAD" }]);
	});

	it("deletes released, expired, returned and failed reservations past the retention, and keeps committed and recent ones", async () => {
		const ids = {
			released: crypto.randomUUID(),
			expired: crypto.randomUUID(),
			returned: crypto.randomUUID(),
			failed: crypto.randomUUID(),
			committed: crypto.randomUUID(),
			recent: crypto.randomUUID(),
			held: crypto.randomUUID()
		};
		const insert = (orderId: string, status: string, age: string, released: boolean) =>
			pg.query(
				`INSERT INTO inventory.reservations (order_id, status, items, created_at, expires_at, committed_at, released_at)
				 VALUES ($1, $2, '[]'::jsonb, now() - $3::interval, now() - $3::interval + interval '15 minutes',
				         CASE WHEN $2 IN ('COMMITTED', 'RETURNED') THEN now() - $3::interval END, CASE WHEN $4 THEN now() - $3::interval END)`,
				[orderId, status, age, released]
			);
		await insert(ids.released, "RELEASED", "2 days", true);
		await insert(ids.expired, "EXPIRED", "3 days", true);
		await insert(ids.returned, "RETURNED", "2 days", true);
		await insert(ids.failed, "FAILED", "2 days", false);
		await insert(ids.committed, "COMMITTED", "30 days", false);
		await insert(ids.recent, "RELEASED", "1 hour", true);
		// past its expiry but not yet swept: it holds units, so it is never purged
		await pg.query(
			`INSERT INTO inventory.reservations (order_id, status, items, created_at, expires_at) VALUES ($1, 'RESERVED', '[]'::jsonb, now() - interval '2 days', now() + interval '1 day')`,
			[ids.held]
		);

		const remaining = async () => {
			const { rows } = await pg.query(`SELECT order_id FROM inventory.reservations WHERE order_id = ANY($1::uuid[])`, [Object.values(ids)]);
			return rows.map(r => r.order_id as string).sort();
		};
		await eventually(async () => expect(await remaining()).to.deep.equal([ids.committed, ids.recent, ids.held].sort()), 20_000, 200);
	});
});
