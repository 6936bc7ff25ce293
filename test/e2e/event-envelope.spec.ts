import { expect } from "chai";
import { Client } from "pg";
import type { EventEnvelope } from "../../lib/events";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { until } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/**
 * What travels with every saga event: the order it belongs to (correlation id) and the trace context of the
 * request that started it, carried on by each handler to the events it writes, so the next hop can join the
 * same trace. Card tokens leave every store once payment has answered.
 */
describe("the saga's envelopes", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let pg: Client;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { EVENT_POLL_MS: "100" }));
		pg = new Client({ connectionString: db.url });
		await pg.connect();
	});
	after(async () => {
		await pg?.end();
		await shop?.stop();
		await db?.drop();
	});

	/** Every event sent about one order, by any service, oldest first. */
	const sent = async (orderId: string) => {
		const rows: { event: string; payload: EventEnvelope<Record<string, unknown>>; correlation_id: string }[] = [];
		for (const schema of ["order", "inventory", "payment"]) {
			const res = await pg.query(`SELECT event, payload, correlation_id FROM "${schema}".outbox WHERE correlation_id = $1 ORDER BY created_at`, [
				orderId
			]);
			rows.push(...res.rows);
		}
		return rows;
	};

	it("carry the order id as correlation id and one trace from the checkout request to the confirmation", async () => {
		const request = httpClient(shop.baseUrl);
		const admin = await adminToken(request);
		const steps = checkoutSteps(request, () => admin);
		const productId = await steps.product(2500, 5, "Traced");
		const customer = await newCustomer(request);
		await steps.addToCart(customer.token, productId, 1);
		const placed = await steps.placeOrder(customer.token);
		const orderId: string = placed.body.order.id;
		await steps.settled(customer.token, orderId);

		const events = await until(
			"every step of the saga in the outboxes",
			() => sent(orderId),
			rows =>
				["order.created", "inventory.reserved", "order.paymentRequested", "payment.succeeded", "order.confirmed"].every(e =>
					rows.some(r => r.event === e)
				)
		);
		for (const { event, payload, correlation_id } of events) {
			expect(payload.correlationId, event).to.equal(orderId);
			expect(correlation_id, event).to.equal(orderId);
			expect(payload.trace?.traceId, event).to.be.a("string").and.not.equal("");
		}
		// the request's trace, carried from order.place through inventory and payment back to the confirmation
		const traces = new Set(events.map(e => e.payload.trace!.traceId));
		expect([...traces], "one trace id for the whole checkout").to.have.length(1);
		// order.created was written by the order.place call itself
		const created = events.find(e => e.event === "order.created")!;
		expect(created.payload.trace!.spanId).to.be.a("string").and.not.equal("");

		// the card token left the order's outbox and payment's inbox once payment answered
		const token = await pg.query(
			`SELECT (SELECT count(*) FROM "order".outbox WHERE correlation_id = $1 AND payload->'data' ? 'paymentToken')::int +
			        (SELECT count(*) FROM payment.inbox WHERE correlation_id = $1 AND payload->'data' ? 'paymentToken')::int AS n`,
			[orderId]
		);
		expect(token.rows[0].n).to.equal(0);
	});
});
