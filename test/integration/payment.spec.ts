import crypto from "node:crypto";
import { EVENT_ROUTES } from "../../app/services";
import { expect } from "chai";
import type { Context, ServiceSchema } from "moleculer";
import { Client } from "pg";
import type { EventEnvelope } from "../../lib/events";
import type { DeadLetter } from "../../lib/inbox";
import type { OrderCancelledEvent, OrderPaymentRequestedEvent } from "../../services/order/order.types";
import { createPaymentService } from "../../services/payment/payment.service";
import {
	SimulatedProvider,
	ProviderUnavailableError,
	type ChargeRequest,
	type PaymentProvider,
	type RefundRequest
} from "../../services/payment/payment.provider";
import type { PaymentEvents } from "../../services/payment/payment.types";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually, until } from "../support/eventually";
import { deliver } from "../support/events";
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
/** `order.paymentRequested` as the order service writes it once the order's stock is held. */
const paymentRequest = (over: Partial<OrderPaymentRequestedEvent> = {}): OrderPaymentRequestedEvent => ({
	orderId: crypto.randomUUID(),
	userId,
	amountCents: 12_990,
	currency: "BRL",
	paymentToken: "tok_visa",
	...over
});
/** `order.cancelled` as the order service writes it. */
const cancellation = (orderId: string): OrderCancelledEvent => ({
	orderId,
	userId,
	customer: { email: "ana@example.com", name: "Ana", phone: null },
	items: [{ productId: crypto.randomUUID(), sku: "MUG-1", name: "Mug", quantity: 1, unitPriceCents: 12_990, lineTotalCents: 12_990 }],
	totalCents: 12_990,
	currency: "BRL",
	reason: "customer_request",
	previousStatus: "CONFIRMED"
});
/** A failing event is retried once, then dead-lettered (the retry policy the tests below count on). */
const retries = { EVENT_MAX_ATTEMPTS: "2", EVENT_RETRY_BASE_MS: "20", EVENT_RETRY_MAX_MS: "100" };
const UNAVAILABLE = "The payment provider is temporarily unavailable";

describe("payment (integration)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	const provider = new FlakyProvider();
	const facts: Fact[] = [];
	const call = <T>(action: string, params: object): Promise<T> => shop.broker.call<T, object>(action, params);
	/** The saga's charge step: payment handles `order.paymentRequested`. */
	const charge = (data: OrderPaymentRequestedEvent) => deliver(shop.broker, "payment", "order.paymentRequested", data);
	/** The saga's refund step: payment handles `order.cancelled`. */
	const cancel = (orderId: string) => deliver(shop.broker, "payment", "order.cancelled", cancellation(orderId));
	/** Facts go out through the outbox after commit: waits until every one written so far has been handed over. */
	async function delivered(): Promise<void> {
		await until(
			"payment facts delivered",
			() => call<{ pending: number }>("payment.relayOutbox", {}),
			r => r.pending === 0,
			5000
		);
	}

	before(async () => {
		db = await createTestDatabase();
		const config = testConfig(db, { SERVICES: "identity,payment", ...retries });
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

	describe("charge (order.paymentRequested)", () => {
		it("charges a good card and records it, without the card token", async () => {
			const params = paymentRequest();
			expect(await charge(params)).to.include({ status: "HANDLED", attempts: 1 });
			const rows = await rowsOf(db, params.orderId);
			expect(rows).to.have.length(1);
			expect(rows[0]).to.include({
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
				{ event: "payment.succeeded", payload: { paymentId: rows[0].id, orderId: params.orderId, userId, amountCents: 12_990, currency: "BRL" } }
			]);
		});

		for (const [paymentToken, declineCode] of [
			["tok_chargeDeclined", "card_declined"],
			["tok_insufficientFunds", "insufficient_funds"],
			["tok_madeUp", "invalid_token"]
		]) {
			it(`handles ${paymentToken} as DECLINED (${declineCode}), not as a failed event, records it and announces payment.failed`, async () => {
				const params = paymentRequest({ paymentToken });
				expect(await charge(params)).to.include({ status: "HANDLED", attempts: 1 });
				const rows = await rowsOf(db, params.orderId);
				expect(rows).to.have.length(1);
				expect(rows[0]).to.include({ status: "DECLINED", decline_code: declineCode });
				await delivered();
				expect(facts.map(f => f.event)).to.deep.equal(["payment.failed"]);
				expect(facts[0].payload).to.include({ orderId: params.orderId, declineCode });
			});
		}

		it("answers a repeated request from the record, never asking the provider again: it announces the stored outcome again", async () => {
			const params = paymentRequest();
			await charge(params);
			const first = await rowsOf(db, params.orderId);
			const before = { ...provider.network.stats };
			expect((await charge({ ...params, paymentToken: "tok_chargeDeclined", amountCents: 1 })).status).to.equal("HANDLED");
			expect(provider.network.stats).to.deep.equal(before);
			expect(await rowsOf(db, params.orderId)).to.deep.equal(first);
			await delivered();
			expect(facts.map(f => f.event)).to.deep.equal(["payment.succeeded", "payment.succeeded"]);
			expect(facts[1].payload).to.deep.equal(facts[0].payload);
		});

		it("keeps a declined order declined: a request with a good card answers the decline", async () => {
			const params = paymentRequest({ paymentToken: "tok_chargeDeclined" });
			await charge(params);
			expect((await charge({ ...params, paymentToken: "tok_visa" })).status).to.equal("HANDLED");
			const rows = await rowsOf(db, params.orderId);
			expect(rows).to.have.length(1);
			expect(rows[0]).to.include({ status: "DECLINED", decline_code: "card_declined" });
			await delivered();
			expect(facts.map(f => f.event)).to.deep.equal(["payment.failed", "payment.failed"]);
			for (const f of facts) expect(f.payload).to.include({ orderId: params.orderId, declineCode: "card_declined" });
		});

		it("charges once and records one payment for 10 concurrent requests of one order", async () => {
			const params = paymentRequest();
			const before = provider.network.stats.charges;
			const deliveries = await Promise.all(Array.from({ length: 10 }, () => charge(params)));
			expect(deliveries.map(d => d.status)).to.deep.equal(Array(10).fill("HANDLED"));
			expect(provider.network.stats.charges - before).to.equal(1);
			const rows = await rowsOf(db, params.orderId);
			expect(rows).to.have.length(1);
			await delivered();
			expect(facts.map(f => f.event)).to.deep.equal(Array(10).fill("payment.succeeded"));
			expect(new Set(facts.map(f => f.payload.paymentId))).to.deep.equal(new Set([rows[0].id]));
		});

		it("retries a transient provider fault and charges once; while the fault lasts it records nothing, and a replay charges once", async () => {
			const retried = paymentRequest();
			provider.failNext = 1;
			let before = provider.network.stats.charges;
			expect(await charge(retried)).to.include({ status: "HANDLED", attempts: 2 });
			expect(provider.network.stats.charges - before).to.equal(1);
			expect(await rowsOf(db, retried.orderId)).to.have.length(1);
			await delivered();
			facts.length = 0;

			const params = paymentRequest();
			provider.failNext = 2; // every attempt
			const dead = await charge(params);
			expect(dead).to.include({ status: "DEAD", attempts: 2, lastError: UNAVAILABLE });
			expect(await rowsOf(db, params.orderId)).to.have.length(0);
			await delivered();
			expect(facts).to.have.length(0);

			before = provider.network.stats.charges;
			expect(await call("payment.replayDeadLetter", { eventId: dead.id })).to.deep.equal({ replayed: true });
			const [row] = await eventually(async () => {
				const rows = await rowsOf(db, params.orderId);
				expect(rows).to.have.length(1);
				return rows;
			});
			expect(row).to.include({ status: "SUCCEEDED" });
			expect(provider.network.stats.charges - before).to.equal(1);
			await delivered();
			expect(facts.map(f => f.event)).to.deep.equal(["payment.succeeded"]);
		});

		it("dead-letters a malformed request with an error naming the field, never quoting the card token, and charges nothing", async () => {
			const before = provider.network.stats.chargeRequests;
			const secret = "tok_" + "s".repeat(300);
			const withSecret = await charge(paymentRequest({ paymentToken: secret }));
			expect(withSecret.status).to.equal("DEAD");
			expect(withSecret.lastError)
				.to.match(/^Malformed order\.paymentRequested/)
				.and.contain("'paymentToken'");
			const letter = (await call<DeadLetter[]>("payment.deadLetters", {})).find(d => d.eventId === withSecret.id);
			expect(letter).to.not.equal(undefined);
			expect(JSON.stringify(letter)).to.not.include("sss");
			for (const bad of [
				{ orderId: "nope" },
				{ userId: "nope" },
				{ amountCents: 0 },
				{ amountCents: 1.5 },
				{ currency: "brl" },
				{ paymentToken: 42 as unknown as string }
			]) {
				const params = paymentRequest(bad);
				const d = await charge(params);
				expect(d.status, JSON.stringify(bad)).to.equal("DEAD");
				expect(d.lastError, JSON.stringify(bad)).to.contain(`'${Object.keys(bad)[0]}'`);
				if (bad.orderId === undefined) expect(await rowsOf(db, params.orderId)).to.have.length(0);
			}
			expect(provider.network.stats.chargeRequests).to.equal(before);
		});
	});

	describe("refund (order.cancelled)", () => {
		it("refunds a succeeded payment once, however often the cancellation comes", async () => {
			const params = paymentRequest();
			await charge(params);
			const [paid] = await rowsOf(db, params.orderId);
			const before = provider.network.stats.refunds;
			const deliveries = await Promise.all([cancel(params.orderId), cancel(params.orderId)]);
			deliveries.push(await cancel(params.orderId));
			expect(deliveries.map(d => d.status)).to.deep.equal(["HANDLED", "HANDLED", "HANDLED"]);
			expect(provider.network.stats.refunds - before).to.equal(1);
			const rows = await rowsOf(db, params.orderId);
			expect(rows).to.have.length(1);
			expect(rows[0]).to.include({ id: paid.id, status: "REFUNDED" });
			expect(rows[0].refund_ref).to.match(/^re_sim_/);
			await delivered();
			expect(facts.map(f => f.event)).to.deep.equal(["payment.succeeded", "payment.refunded"]);
		});

		it("voids an order cancelled before its payment, so a later request charges nothing; a declined one is not refunded", async () => {
			const before = { ...provider.network.stats };
			const orderId = crypto.randomUUID();
			expect((await cancel(orderId)).status).to.equal("HANDLED");
			expect(await db.query("SELECT reason FROM payment.voided_orders WHERE order_id = $1", [orderId])).to.deep.equal([{ reason: "customer_request" }]);
			expect((await charge(paymentRequest({ orderId }))).status).to.equal("HANDLED");
			expect(await rowsOf(db, orderId)).to.have.length(0);
			expect(provider.network.stats.chargeRequests).to.equal(before.chargeRequests);

			const declined = paymentRequest({ paymentToken: "tok_insufficientFunds" });
			await charge(declined);
			expect((await cancel(declined.orderId)).status).to.equal("HANDLED");
			expect((await rowsOf(db, declined.orderId))[0]).to.include({ status: "DECLINED", refund_ref: null });
			expect(provider.network.stats.refundRequests).to.equal(before.refundRequests);
			await delivered();
			expect(facts.map(f => [f.event, f.payload.orderId])).to.deep.equal([["payment.failed", declined.orderId]]);
		});

		it("leaves the payment SUCCEEDED while the provider cannot refund, until a replay of the dead letter refunds it", async () => {
			const params = paymentRequest();
			await charge(params);
			provider.failNext = 2; // every attempt
			const dead = await cancel(params.orderId);
			expect(dead).to.include({ status: "DEAD", attempts: 2, lastError: UNAVAILABLE });
			expect((await rowsOf(db, params.orderId))[0]).to.include({ status: "SUCCEEDED", refund_ref: null });
			expect(await call("payment.replayDeadLetter", { eventId: dead.id })).to.deep.equal({ replayed: true });
			await eventually(async () => expect((await rowsOf(db, params.orderId))[0]).to.include({ status: "REFUNDED" }));
		});
	});
});

describe("payment with the configured simulator failing every request (integration)", () => {
	let db: TestDatabase;
	let shop: RunningShop;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(
			testConfig(db, { SERVICES: "identity,payment", PAYMENT_SIM_FAILURE_RATE: "1", PAYMENT_SIM_LATENCY_MS: "5", ...retries, EVENT_MAX_ATTEMPTS: "3" })
		);
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("fails every attempt to charge as the provider being unavailable, dead-letters the request and writes no row", async () => {
		const params = paymentRequest();
		const delivery = await deliver(shop.broker, "payment", "order.paymentRequested", params);
		expect(delivery).to.include({ status: "DEAD", attempts: 3, lastError: UNAVAILABLE });
		expect(await rowsOf(db, params.orderId)).to.have.length(0);
	});
});
