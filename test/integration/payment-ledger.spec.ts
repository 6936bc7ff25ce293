import crypto from "node:crypto";
import { expect } from "chai";
import { Client } from "pg";
import type { OrderCancelledEvent } from "../../services/order/order.types";
import { chargeKey } from "../../services/payment/payment.rules";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deliver, type Delivery } from "../support/events";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/**
 * The simulated card network behaves like a real provider: its charges and idempotency keys outlive the
 * process that made them and are the same from every payment instance, so a refund reaches the charge
 * whichever instance (or restart) is asked.
 */
describe("the simulated provider's records (payment's database)", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	const shops: RunningShop[] = [];

	// no timer passes of the inbox: an event is handled by the instance it was handed to
	const paymentNode = async () => {
		const shop = await startShop(testConfig(db, { SERVICES: "payment", EVENT_POLL_MS: "60000" }));
		shops.push(shop);
		return shop;
	};
	/** The saga's charge step, handed to one instance. */
	const charge = (shop: RunningShop, orderId: string, amountCents = 12_345): Promise<Delivery> =>
		deliver(shop.broker, "payment", "order.paymentRequested", {
			orderId,
			userId: crypto.randomUUID(),
			amountCents,
			currency: "BRL",
			paymentToken: "tok_visa"
		});
	/** The saga's refund step (the order is cancelled), handed to one instance. */
	const cancel = (shop: RunningShop, orderId: string): Promise<Delivery> => {
		const data: OrderCancelledEvent = {
			orderId,
			userId: crypto.randomUUID(),
			customer: { email: "ana@example.com", name: "Ana", phone: null },
			items: [{ productId: crypto.randomUUID(), sku: "MUG-1", name: "Mug", quantity: 1, unitPriceCents: 12_345, lineTotalCents: 12_345 }],
			totalCents: 12_345,
			currency: "BRL",
			reason: "customer_request",
			previousStatus: "CONFIRMED"
		};
		return deliver(shop.broker, "payment", "order.cancelled", data);
	};
	const payments = (orderId: string) => db.query<{ id: string; status: string }>("SELECT id, status FROM payment.payments WHERE order_id = $1", [orderId]);

	before(async () => {
		db = await createTestDatabase();
	});

	after(async () => {
		for (const s of shops) await s.stop();
		await db?.drop();
	});

	it("refunds on one payment instance a charge another instance made", async () => {
		const [a, b] = [await paymentNode(), await paymentNode()];
		const orderId = crypto.randomUUID();
		expect(await charge(a, orderId)).to.include({ status: "HANDLED", handledBy: a.broker.nodeID });
		expect((await payments(orderId))[0].status).to.equal("SUCCEEDED");
		expect(await cancel(b, orderId)).to.include({ status: "HANDLED", handledBy: b.broker.nodeID });
		expect((await payments(orderId))[0].status).to.equal("REFUNDED");
	});

	it("refunds after a restart a charge made before it, and refunds it only once", async () => {
		const first = await paymentNode();
		const orderId = crypto.randomUUID();
		await charge(first, orderId);
		await first.stop();
		shops.splice(shops.indexOf(first), 1);
		const second = await paymentNode();
		for (let i = 0; i < 2; i++) {
			expect((await cancel(second, orderId)).status).to.equal("HANDLED");
			expect((await payments(orderId))[0].status).to.equal("REFUNDED");
		}
		const pg = new Client({ connectionString: db.url });
		await pg.connect();
		try {
			const { rows } = await pg.query(
				`SELECT count(*)::int AS refunds, max(c.refunded_cents)::int AS refunded FROM payment.simulated_refunds r JOIN payment.simulated_charges c USING (provider_ref) WHERE c.idempotency_key = $1`,
				[chargeKey(orderId)]
			);
			expect(rows[0]).to.deep.equal({ refunds: 1, refunded: 12_345 });
		} finally {
			await pg.end();
		}
	});

	it("keeps one charge per idempotency key whichever instance is asked, also at once", async () => {
		const [a, b] = [shops[0], shops[shops.length - 1]];
		const orderId = crypto.randomUUID();
		const results = await Promise.all([charge(a, orderId), charge(b, orderId), charge(a, orderId), charge(b, orderId)]);
		expect(results.map(r => r.status)).to.deep.equal(["HANDLED", "HANDLED", "HANDLED", "HANDLED"]);
		expect(await payments(orderId)).to.have.length(1);
		const [charges] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM payment.simulated_charges WHERE idempotency_key = $1", [
			chargeKey(orderId)
		]);
		expect(charges.n).to.equal(1);
	});
});
