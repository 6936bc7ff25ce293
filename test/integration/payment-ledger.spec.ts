import crypto from "node:crypto";
import { expect } from "chai";
import { Client } from "pg";
import { chargeKey } from "../../services/payment/payment.rules";
import type { PaymentResult } from "../../services/payment/payment.types";
import { createTestDatabase, type TestDatabase } from "../support/database";
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

	const paymentNode = async () => {
		const shop = await startShop(testConfig(db, { SERVICES: "payment" }));
		shops.push(shop);
		return shop;
	};
	const charge = (shop: RunningShop, orderId: string, amountCents = 12_345) =>
		shop.broker.call<PaymentResult, object>("payment.charge", {
			orderId,
			userId: crypto.randomUUID(),
			amountCents,
			currency: "BRL",
			paymentToken: "tok_visa"
		});

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
		expect((await charge(a, orderId)).status).to.equal("SUCCEEDED");
		const refunded = await b.broker.call<PaymentResult, object>("payment.refund", { orderId });
		expect(refunded.status).to.equal("REFUNDED");
	});

	it("refunds after a restart a charge made before it, and refunds it only once", async () => {
		const first = await paymentNode();
		const orderId = crypto.randomUUID();
		await charge(first, orderId);
		await first.stop();
		shops.splice(shops.indexOf(first), 1);
		const second = await paymentNode();
		expect((await second.broker.call<PaymentResult, object>("payment.refund", { orderId })).status).to.equal("REFUNDED");
		expect((await second.broker.call<PaymentResult, object>("payment.refund", { orderId })).status).to.equal("REFUNDED");
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
		expect(new Set(results.map(r => r.paymentId)).size).to.equal(1);
	});
});
