import crypto from "node:crypto";
import { EVENT_ROUTES } from "../../app/services";
import { expect } from "chai";
import { Errors, type Context, type ServiceSchema } from "moleculer";
import { Client } from "pg";
import type { EventEnvelope } from "../../lib/events";
import { createPaymentService } from "../../services/payment/payment.service";
import {
	SimulatedProvider,
	ProviderUnavailableError,
	type ChargeRequest,
	type PaymentProvider,
	type RefundRequest
} from "../../services/payment/payment.provider";
import type { ChargeParams, PaymentEvents, PaymentResult } from "../../services/payment/payment.types";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** The simulated network, with transient faults switched on and off by the test. */
class FlakyProvider implements PaymentProvider {
	readonly network = new SimulatedProvider({ latencyMs: 5 });
	/** How many of the next requests fail with a transient fault. */
	failNext = 0;

	charge(request: ChargeRequest) {
		return this.fault() ?? this.network.charge(request);
	}
	refund(request: RefundRequest) {
		return this.fault() ?? this.network.refund(request);
	}
	private fault(): Promise<never> | undefined {
		if (this.failNext <= 0) return undefined;
		this.failNext--;
		return Promise.reject(new ProviderUnavailableError("Simulated outage"));
	}
}

type Fact = { [E in keyof PaymentEvents]: { event: E; payload: PaymentEvents[E] } }[keyof PaymentEvents];

/** Collects what payment announces, as the order service (the facts' consumer group) receives them. */
function listener(facts: Fact[]): Partial<ServiceSchema> {
	const on = (event: keyof PaymentEvents) => ({
		group: "order",
		handler: (ctx: Context<EventEnvelope<Fact["payload"]>>) => {
			facts.push({ event, payload: ctx.params.data } as Fact);
		}
	});
	return {
		name: "order",
		events: { "payment.succeeded": on("payment.succeeded"), "payment.failed": on("payment.failed"), "payment.refunded": on("payment.refunded") }
	};
}

async function failure(p: Promise<unknown>): Promise<Errors.MoleculerError> {
	try {
		await p;
	} catch (err) {
		return err as Errors.MoleculerError;
	}
	throw new Error("expected the call to fail");
}

/** Rows of the payment schema, read straight from PostgreSQL. */
async function rowsOf(db: TestDatabase, orderId: string): Promise<Record<string, unknown>[]> {
	const client = new Client({ connectionString: db.url });
	await client.connect();
	try {
		return (await client.query("SELECT row_to_json(p) AS row FROM payment.payments p WHERE order_id = $1", [orderId])).rows.map(r => r.row);
	} finally {
		await client.end();
	}
}

const userId = crypto.randomUUID();
const chargeParams = (over: Partial<ChargeParams> = {}): ChargeParams => ({
	orderId: crypto.randomUUID(),
	userId,
	amountCents: 12_990,
	currency: "BRL",
	paymentToken: "tok_visa",
	...over
});

describe("payment (integration)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	const provider = new FlakyProvider();
	const facts: Fact[] = [];
	const call = <T>(action: string, params: object): Promise<T> => shop.broker.call<T, object>(action, params);
	const charge = (params: ChargeParams) => call<PaymentResult>("payment.charge", params);
	/** Facts go out through the outbox after commit: waits until every one written so far has been handed over. */
	async function delivered(): Promise<void> {
		const deadline = Date.now() + 5000;
		while ((await call<{ pending: number }>("payment.relayOutbox", {})).pending > 0) {
			if (Date.now() > deadline) throw new Error("payment facts were not delivered");
			await new Promise(r => setTimeout(r, 20));
		}
	}

	before(async () => {
		db = await createTestDatabase();
		const config = testConfig(db, { SERVICES: "identity,payment" });
		// payment as SERVICES names it, with this test's provider in place of the configured one
		shop = await startShop({ ...config, services: config.services.filter(s => s !== "payment") }, [
			createPaymentService(config, EVENT_ROUTES, provider) as Partial<ServiceSchema>,
			listener(facts)
		]);
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});
	beforeEach(async () => {
		provider.failNext = 0;
		await delivered();
		facts.length = 0;
	});

	describe("charge", () => {
		it("charges a good card and records it, without the card token", async () => {
			const params = chargeParams();
			const result = await charge(params);
			expect(result).to.deep.equal({ paymentId: result.paymentId, orderId: params.orderId, status: "SUCCEEDED" });
			const rows = await rowsOf(db, params.orderId);
			expect(rows).to.have.length(1);
			expect(rows[0]).to.include({
				id: result.paymentId,
				user_id: userId,
				amount_cents: 12_990,
				currency: "BRL",
				status: "SUCCEEDED",
				decline_code: null
			});
			expect(rows[0].provider_ref).to.match(/^ch_sim_/);
			expect(JSON.stringify(rows[0])).to.not.include("tok_");
			await delivered();
			expect(facts).to.deep.equal([
				{ event: "payment.succeeded", payload: { paymentId: result.paymentId, orderId: params.orderId, userId, amountCents: 12_990, currency: "BRL" } }
			]);
		});

		for (const [paymentToken, declineCode] of [
			["tok_chargeDeclined", "card_declined"],
			["tok_insufficientFunds", "insufficient_funds"],
			["tok_madeUp", "invalid_token"]
		]) {
			it(`answers ${paymentToken} as DECLINED (${declineCode}), not as an error, and records it`, async () => {
				const params = chargeParams({ paymentToken });
				const result = await charge(params);
				expect(result).to.deep.include({ orderId: params.orderId, status: "DECLINED", declineCode });
				const rows = await rowsOf(db, params.orderId);
				expect(rows).to.have.length(1);
				expect(rows[0]).to.include({ status: "DECLINED", decline_code: declineCode });
				await delivered();
				expect(facts.map(f => f.event)).to.deep.equal(["payment.failed"]);
				expect(facts[0].payload).to.include({ orderId: params.orderId, declineCode });
			});
		}

		it("answers a repeated charge from the record, never asking the provider again", async () => {
			const params = chargeParams();
			const first = await charge(params);
			const before = { ...provider.network.stats };
			const again = await charge({ ...params, paymentToken: "tok_chargeDeclined", amountCents: 1 });
			expect(again).to.deep.equal(first);
			expect(provider.network.stats).to.deep.equal(before);
			expect(await rowsOf(db, params.orderId)).to.have.length(1);
			await delivered();
			expect(facts).to.have.length(1);
		});

		it("keeps a declined order declined: a retry with a good card answers the decline", async () => {
			const params = chargeParams({ paymentToken: "tok_chargeDeclined" });
			await charge(params);
			expect(await charge({ ...params, paymentToken: "tok_visa" })).to.include({ status: "DECLINED", declineCode: "card_declined" });
		});

		it("charges once and records one payment for 10 concurrent charges of one order", async () => {
			const params = chargeParams();
			const before = provider.network.stats.charges;
			const results = await Promise.all(Array.from({ length: 10 }, () => charge(params)));
			expect(new Set(results.map(r => r.paymentId)).size).to.equal(1);
			expect(results.every(r => r.status === "SUCCEEDED")).to.equal(true);
			expect(provider.network.stats.charges - before).to.equal(1);
			expect(await rowsOf(db, params.orderId)).to.have.length(1);
			await delivered();
			expect(facts.map(f => f.event)).to.deep.equal(["payment.succeeded"]);
		});

		it("surfaces a transient provider fault as a retryable 503 and records nothing; the retry charges once", async () => {
			const params = chargeParams();
			provider.failNext = 1;
			const err = await failure(charge(params));
			expect(err).to.be.instanceOf(Errors.MoleculerRetryableError);
			expect(err).to.include({ code: 503, type: "PAYMENT_PROVIDER_UNAVAILABLE", retryable: true });
			expect(await rowsOf(db, params.orderId)).to.have.length(0);
			await delivered();
			expect(facts).to.have.length(0);

			const before = provider.network.stats.charges;
			expect(await charge(params)).to.include({ status: "SUCCEEDED" });
			expect(provider.network.stats.charges - before).to.equal(1);
			expect(await rowsOf(db, params.orderId)).to.have.length(1);
		});

		it("refuses malformed input with 422, never echoing the card token", async () => {
			const secret = "tok_" + "s".repeat(300);
			const err = await failure(charge(chargeParams({ paymentToken: secret })));
			expect(err).to.include({ code: 422, type: "VALIDATION_ERROR" });
			expect(JSON.stringify({ ...err, message: err.message })).to.not.include("sss");
			for (const bad of [
				{ orderId: "nope" },
				{ userId: "nope" },
				{ amountCents: 0 },
				{ amountCents: 1.5 },
				{ currency: "brl" },
				{ paymentToken: 42 as unknown as string }
			]) {
				const e = await failure(charge(chargeParams(bad)));
				expect(e.code, JSON.stringify(bad)).to.equal(422);
			}
		});
	});

	describe("refund", () => {
		it("refunds a succeeded payment once; a repeat answers the same", async () => {
			const params = chargeParams();
			const paid = await charge(params);
			const before = provider.network.stats.refunds;
			const [first, second] = await Promise.all([
				call<PaymentResult>("payment.refund", { orderId: params.orderId }),
				call<PaymentResult>("payment.refund", { orderId: params.orderId })
			]);
			const third = await call<PaymentResult>("payment.refund", { orderId: params.orderId });
			for (const r of [first, second, third]) expect(r).to.deep.equal({ paymentId: paid.paymentId, orderId: params.orderId, status: "REFUNDED" });
			expect(provider.network.stats.refunds - before).to.equal(1);
			const [row] = await rowsOf(db, params.orderId);
			expect(row).to.include({ status: "REFUNDED" });
			expect(row.refund_ref).to.match(/^re_sim_/);
			await delivered();
			expect(facts.map(f => f.event)).to.deep.equal(["payment.succeeded", "payment.refunded"]);
		});

		it("answers 404 for an order without a payment and 409 for a declined one", async () => {
			expect(await failure(call("payment.refund", { orderId: crypto.randomUUID() }))).to.include({ code: 404, type: "PAYMENT_NOT_FOUND" });
			const params = chargeParams({ paymentToken: "tok_insufficientFunds" });
			await charge(params);
			expect(await failure(call("payment.refund", { orderId: params.orderId }))).to.include({ code: 409, type: "PAYMENT_NOT_REFUNDABLE" });
		});

		it("surfaces a transient fault as retryable and leaves the payment SUCCEEDED until a retry refunds it", async () => {
			const params = chargeParams();
			await charge(params);
			provider.failNext = 1;
			const err = await failure(call("payment.refund", { orderId: params.orderId }));
			expect(err).to.include({ code: 503, type: "PAYMENT_PROVIDER_UNAVAILABLE", retryable: true });
			expect((await rowsOf(db, params.orderId))[0]).to.include({ status: "SUCCEEDED", refund_ref: null });
			expect(await call("payment.refund", { orderId: params.orderId })).to.include({ status: "REFUNDED" });
		});
	});
});

describe("payment with the configured simulator failing every request (integration)", () => {
	let db: TestDatabase;
	let shop: RunningShop;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "identity,payment", PAYMENT_SIM_FAILURE_RATE: "1", PAYMENT_SIM_LATENCY_MS: "5" }));
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("answers every charge with a retryable PAYMENT_PROVIDER_UNAVAILABLE and writes no row", async () => {
		const params = chargeParams();
		for (let i = 0; i < 3; i++) {
			const err = await failure(shop.broker.call("payment.charge", params));
			expect(err).to.be.instanceOf(Errors.MoleculerRetryableError);
			expect(err).to.include({ code: 503, type: "PAYMENT_PROVIDER_UNAVAILABLE", retryable: true });
			expect(err.data).to.deep.equal({ operation: "charge", orderId: params.orderId });
		}
		expect(await rowsOf(db, params.orderId)).to.have.length(0);
	});
});
