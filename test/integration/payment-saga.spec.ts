import crypto from "node:crypto";
import { EVENT_ROUTES } from "../../app/services";
import util from "node:util";
import { expect } from "chai";
import { Loggers, ServiceBroker, type Context, type ServiceSchema } from "moleculer";
import { Client } from "pg";
import brokerOptions from "../../moleculer.config";
import type { EventEnvelope, IncomingEnvelope } from "../../lib/events";
import type { DeadLetter } from "../../lib/inbox";
import type { OrderCancelledEvent, OrderPaymentRequestedEvent } from "../../services/order/order.types";
import {
	ProviderUnavailableError,
	SimulatedProvider,
	type ChargeRequest,
	type PaymentProvider,
	type RefundRequest
} from "../../services/payment/payment.provider";
import { chargeKey, refundKey } from "../../services/payment/payment.rules";
import { createPaymentService } from "../../services/payment/payment.service";
import type { PaymentEvents } from "../../services/payment/payment.types";
import { createTestDatabase, type TestDatabase } from "../support/database";
import * as events from "../support/events";
import { until } from "../support/eventually";
import { testConfig } from "../support/shop";

/**
 * Payment's part of the checkout saga on a real PostgreSQL: saga events go in as envelopes, as the order
 * service's outbox would hand them over, and what payment publishes is received by a stand-in "order"
 * group. The provider is the simulated network behind a switch for outages and a gate that holds charges.
 */

/** The simulated network, with outages and held charges under the test's control, and every request seen. */
class ControlledProvider implements PaymentProvider {
	readonly network = new SimulatedProvider();
	readonly requests: { operation: "charge" | "refund"; key: string; failed: boolean }[] = [];
	/** How many of the next charges (or refunds) fail with a transient fault; "always" until changed. */
	failCharges: number | "always" = 0;
	failRefunds = 0;
	/** While set, charges wait for it before they reach the network. */
	hold?: Promise<void>;

	async charge(request: ChargeRequest) {
		const failing = this.failCharges === "always" || this.failCharges > 0;
		this.requests.push({ operation: "charge", key: request.idempotencyKey, failed: failing });
		if (this.hold) await this.hold;
		if (failing) {
			if (this.failCharges !== "always") this.failCharges--;
			throw new ProviderUnavailableError("Simulated outage");
		}
		return this.network.charge(request);
	}

	async refund(request: RefundRequest) {
		const failing = this.failRefunds > 0;
		this.requests.push({ operation: "refund", key: request.idempotencyKey, failed: failing });
		if (failing) {
			this.failRefunds--;
			throw new ProviderUnavailableError("Simulated outage");
		}
		return this.network.refund(request);
	}

	/** Requests made for one order's charge or refund (failed ones included). */
	asked(operation: "charge" | "refund", orderId: string): number {
		const key = operation === "charge" ? chargeKey(orderId) : refundKey(orderId);
		return this.requests.filter(r => r.operation === operation && r.key === key).length;
	}
}

/** Every line the broker logs, at every level. */
class CapturingLogger extends Loggers.Base<{ level: "trace" }> {
	readonly lines: string[] = [];
	constructor() {
		super({ level: "trace" });
	}
	override getLogHandler(bindings: { mod: string }) {
		return (level: string, args: unknown[]) => {
			this.lines.push(`${level} ${bindings.mod} ${args.map(a => (typeof a === "string" ? a : util.inspect(a, { depth: 6 }))).join(" ")}`);
		};
	}
}

type Fact = { [E in keyof PaymentEvents]: EventEnvelope<PaymentEvents[E]> & { event: E } }[keyof PaymentEvents];

/** The order service as far as payment can tell: the consumer group of payment's facts. */
function orderStandIn(facts: Fact[]): ServiceSchema {
	const on = { group: "order", handler: (ctx: Context<Fact>) => void facts.push(ctx.params) };
	return { name: "order", events: { "payment.succeeded": on, "payment.failed": on, "payment.refunded": on } };
}

interface InboxRow {
	status: "PENDING" | "HANDLED" | "DEAD";
	attempts: number;
	last_error: string | null;
	payload: EventEnvelope<Record<string, unknown>>;
}

describe("payment in the checkout saga (integration)", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let sqlClient: Client;
	let broker: ServiceBroker;
	const provider = new ControlledProvider();
	const logs = new CapturingLogger();
	const facts: Fact[] = [];
	const userId = crypto.randomUUID();

	const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> => (await sqlClient.query(text, params)).rows as T[];
	const paymentsOf = (orderId: string) =>
		sql<Record<string, unknown>>("SELECT row_to_json(p) AS row FROM payment.payments p WHERE order_id = $1", [orderId]).then(r =>
			r.map(x => x.row as Record<string, unknown>)
		);
	const inboxRow = async (eventId: string) =>
		(await sql<InboxRow>("SELECT status, attempts, last_error, payload FROM payment.inbox WHERE event_id = $1", [eventId]))[0];
	const factsOf = (orderId: string) => facts.filter(f => f.data.orderId === orderId);

	function envelope<T>(event: string, data: T, id: string = crypto.randomUUID()): IncomingEnvelope<T> {
		return { id, event, source: "order", occurredAt: new Date().toISOString(), data };
	}
	const paymentRequested = (over: Partial<OrderPaymentRequestedEvent> = {}, id?: string) =>
		envelope<OrderPaymentRequestedEvent>(
			"order.paymentRequested",
			{ orderId: crypto.randomUUID(), userId, amountCents: 25_990, currency: "BRL", paymentToken: "tok_visa", ...over },
			id
		);
	const cancelled = (orderId: string, id?: string) =>
		envelope<OrderCancelledEvent>(
			"order.cancelled",
			{
				orderId,
				userId,
				customer: { email: "ana@example.com", name: "Ana", phone: null },
				items: [{ productId: crypto.randomUUID(), sku: "MUG-1", name: "Mug", quantity: 1, unitPriceCents: 25_990, lineTotalCents: 25_990 }],
				totalCents: 25_990,
				currency: "BRL",
				reason: "customer_request",
				previousStatus: "STOCK_RESERVED"
			},
			id
		);
	/** Hands an envelope to payment as the order's outbox relay would. */
	const deliver = (e: IncomingEnvelope) => broker.emit(e.event, e, { groups: ["payment"] });

	const handled = (e: IncomingEnvelope) =>
		until(
			`${e.event} ${e.id} to be handled`,
			() => inboxRow(e.id),
			r => r?.status === "HANDLED"
		);
	/** Waits until every fact payment has written so far has been handed to "order". */
	const published = () =>
		until(
			"the outbox to drain",
			() => broker.call<{ pending: number }>("payment.relayOutbox"),
			r => r.pending === 0
		);
	const factsFor = (orderId: string, n: number) =>
		until(
			`${n} fact(s) for order ${orderId}`,
			async () => factsOf(orderId),
			f => f.length >= n
		);
	const deadLetters = () => broker.call<DeadLetter[]>("payment.deadLetters");

	before(async () => {
		db = await createTestDatabase();
		sqlClient = new Client({ connectionString: db.url });
		await sqlClient.connect();
		const config = testConfig(db, {
			SERVICES: "payment",
			EVENT_POLL_MS: "50",
			EVENT_MAX_ATTEMPTS: "3",
			EVENT_RETRY_BASE_MS: "20",
			EVENT_RETRY_MAX_MS: "100"
		});
		// built like startShop's broker, with a logger that keeps every line for the token check
		broker = new ServiceBroker({ ...brokerOptions(config), nodeID: `payment-saga-${process.pid}-${crypto.randomBytes(3).toString("hex")}`, logger: logs });
		broker.createService(createPaymentService(config, EVENT_ROUTES, provider) as unknown as ServiceSchema);
		broker.createService(orderStandIn(facts));
		await broker.start();
	});
	after(async () => {
		await broker?.stop();
		await sqlClient?.end();
		await db?.drop();
	});
	beforeEach(() => {
		provider.failCharges = 0;
		provider.failRefunds = 0;
		provider.hold = undefined;
	});

	describe("order.paymentRequested", () => {
		it("charges a good card, records one SUCCEEDED payment and publishes payment.succeeded to the order", async () => {
			const request = paymentRequested();
			const { orderId } = request.data;
			await deliver(request);
			const [fact] = await factsFor(orderId, 1);
			const [row] = await paymentsOf(orderId);
			expect(fact).to.include({ event: "payment.succeeded", source: "payment" });
			expect(fact.data).to.deep.equal({ paymentId: row.id, orderId, userId, amountCents: 25_990, currency: "BRL" });
			expect(await paymentsOf(orderId)).to.have.length(1);
			expect(row).to.include({ status: "SUCCEEDED", amount_cents: 25_990, currency: "BRL", user_id: userId });
			expect(provider.asked("charge", orderId)).to.equal(1);
		});

		for (const [paymentToken, declineCode] of [
			["tok_chargeDeclined", "card_declined"],
			["tok_unknownCard", "invalid_token"]
		]) {
			it(`answers ${paymentToken} with payment.failed (${declineCode}): a decline is an answer, not a failed event`, async () => {
				const request = paymentRequested({ paymentToken });
				const { orderId } = request.data;
				await deliver(request);
				const [fact] = await factsFor(orderId, 1);
				expect(fact.event).to.equal("payment.failed");
				expect(fact.data).to.include({ orderId, declineCode });
				expect(await paymentsOf(orderId)).to.have.length(1);
				expect((await paymentsOf(orderId))[0]).to.include({ status: "DECLINED", decline_code: declineCode });
				expect(await inboxRow(request.id)).to.include({ status: "HANDLED", attempts: 1 });
			});
		}

		it("charges once, records once and publishes once when the same envelope is delivered twice", async () => {
			const request = paymentRequested();
			const { orderId } = request.data;
			await deliver(request);
			await deliver(request);
			await handled(request);
			await published();
			expect(provider.asked("charge", orderId)).to.equal(1);
			expect(await paymentsOf(orderId)).to.have.length(1);
			expect(factsOf(orderId).map(f => f.event)).to.deep.equal(["payment.succeeded"]);
		});

		for (const [paymentToken, event] of [
			["tok_visa", "payment.succeeded"],
			["tok_insufficientFunds", "payment.failed"]
		]) {
			it(`asked again under a new event id, charges nothing and publishes the stored ${event} again`, async () => {
				const first = paymentRequested({ paymentToken });
				const { orderId } = first.data;
				await deliver(first);
				await factsFor(orderId, 1);
				// the watchdog's re-ask: a new envelope, even carrying another card and amount
				const again = paymentRequested({ orderId, paymentToken: "tok_mastercard", amountCents: 1 });
				await deliver(again);
				const both = await factsFor(orderId, 2);
				expect(both.map(f => f.event)).to.deep.equal([event, event]);
				expect(both[1].id).to.not.equal(both[0].id);
				expect(both[1].data).to.deep.equal(both[0].data);
				expect(provider.asked("charge", orderId)).to.equal(1);
				expect(await paymentsOf(orderId)).to.have.length(1);
			});
		}

		it("retries a provider outage with backoff, then charges once and publishes payment.succeeded", async () => {
			provider.failCharges = 2;
			const request = paymentRequested();
			const { orderId } = request.data;
			await deliver(request);
			const [fact] = await factsFor(orderId, 1);
			expect(fact.event).to.equal("payment.succeeded");
			expect(provider.requests.filter(r => r.key === chargeKey(orderId)).map(r => r.failed)).to.deep.equal([true, true, false]);
			expect(await inboxRow(request.id)).to.include({ status: "HANDLED", attempts: 3 });
			const rows = await paymentsOf(orderId);
			expect(rows).to.have.length(1);
			expect(rows[0]).to.include({ status: "SUCCEEDED" });
		});

		it("dead-letters a request while the provider stays down; replayed after it recovers, it charges and publishes", async () => {
			provider.failCharges = "always";
			const request = paymentRequested();
			const { orderId } = request.data;
			await deliver(request);
			const dead = await until("the dead letter", deadLetters, d => d.some(l => l.eventId === request.id));
			const letter = dead.find(l => l.eventId === request.id)!;
			expect(letter.attempts).to.equal(3);
			expect(letter.lastError).to.contain("temporarily unavailable");
			expect(JSON.stringify(letter), "the listing shows no card token").to.not.include("tok_");
			expect(await paymentsOf(orderId)).to.have.length(0);
			await published();
			expect(factsOf(orderId)).to.have.length(0);

			provider.failCharges = 0;
			expect(await broker.call("payment.replayDeadLetter", { eventId: request.id })).to.deep.equal({ replayed: true });
			const [fact] = await factsFor(orderId, 1);
			expect(fact.event).to.equal("payment.succeeded");
			expect((await paymentsOf(orderId))[0]).to.include({ status: "SUCCEEDED" });
			expect((await deadLetters()).map(d => d.eventId)).to.not.include(request.id);
		});

		it("dead-letters a malformed request with an error naming what is wrong, and charges nothing", async () => {
			const request = envelope("order.paymentRequested", { orderId: "not-a-uuid", userId, amountCents: 12.5, currency: "brl", paymentToken: "tok_visa" });
			await deliver(request);
			const dead = await until("the dead letter", deadLetters, d => d.some(l => l.eventId === request.id));
			const { lastError } = dead.find(l => l.eventId === request.id)!;
			expect(lastError).to.match(/^Malformed order\.paymentRequested/);
			for (const field of ["orderId", "amountCents", "currency"]) expect(lastError).to.contain(`'${field}'`);
			expect(provider.requests.filter(r => r.key === chargeKey("not-a-uuid"))).to.have.length(0);
		});
	});

	describe("order.cancelled", () => {
		it("refunds a paid order and publishes payment.refunded, asking the provider once however often the cancellation comes", async () => {
			const request = paymentRequested();
			const { orderId } = request.data;
			await deliver(request);
			await factsFor(orderId, 1);

			const cancellation = cancelled(orderId);
			await deliver(cancellation);
			await deliver(cancellation);
			await deliver(cancelled(orderId)); // the same cancellation under a new id
			const [, refunded] = await factsFor(orderId, 2);
			expect(refunded.event).to.equal("payment.refunded");
			expect(refunded.data).to.include({ orderId, amountCents: 25_990 });
			await until(
				"every cancellation handled",
				() =>
					sql<{ n: number }>("SELECT count(*)::int AS n FROM payment.inbox WHERE status = 'HANDLED' AND payload->'data'->>'orderId' = $1", [orderId]),
				r => r[0].n === 3
			);
			await published();
			expect(provider.asked("refund", orderId)).to.equal(1);
			expect(factsOf(orderId).map(f => f.event)).to.deep.equal(["payment.succeeded", "payment.refunded"]);
			const [row] = await paymentsOf(orderId);
			expect(row).to.include({ status: "REFUNDED" });
			expect(row.refund_ref).to.match(/^re_sim_/);

			// a late re-ask of the payment finds the refund: nothing is charged or published
			const late = paymentRequested({ orderId });
			await deliver(late);
			await handled(late);
			await published();
			expect(provider.asked("charge", orderId)).to.equal(1);
			expect(factsOf(orderId)).to.have.length(2);
		});

		it("retries a refund while the provider is down, and refunds once when it is back", async () => {
			const request = paymentRequested();
			const { orderId } = request.data;
			await deliver(request);
			await factsFor(orderId, 1);
			provider.failRefunds = 2;
			const cancellation = cancelled(orderId);
			await deliver(cancellation);
			const [, refunded] = await factsFor(orderId, 2);
			expect(refunded.event).to.equal("payment.refunded");
			expect(await inboxRow(cancellation.id)).to.include({ status: "HANDLED", attempts: 3 });
			expect(provider.requests.filter(r => r.key === refundKey(orderId)).map(r => r.failed)).to.deep.equal([true, true, false]);
			expect(provider.network.stats.refunds).to.be.at.least(1);
		});

		it("voids an order cancelled before its payment request: the late request charges nothing and publishes nothing", async () => {
			const orderId = crypto.randomUUID();
			const cancellation = cancelled(orderId);
			await deliver(cancellation);
			await deliver(cancelled(orderId));
			await handled(cancellation);
			expect(await sql("SELECT reason FROM payment.voided_orders WHERE order_id = $1", [orderId])).to.deep.equal([{ reason: "customer_request" }]);

			const late = paymentRequested({ orderId });
			await deliver(late);
			await handled(late);
			await published();
			expect(provider.asked("charge", orderId)).to.equal(0);
			expect(await paymentsOf(orderId)).to.have.length(0);
			expect(factsOf(orderId)).to.have.length(0);
		});

		it("leaves a declined order alone: no refund, nothing published", async () => {
			const request = paymentRequested({ paymentToken: "tok_chargeDeclined" });
			const { orderId } = request.data;
			await deliver(request);
			await factsFor(orderId, 1);
			const cancellation = cancelled(orderId);
			await deliver(cancellation);
			await handled(cancellation);
			await published();
			expect(provider.asked("refund", orderId)).to.equal(0);
			expect(factsOf(orderId).map(f => f.event)).to.deep.equal(["payment.failed"]);
			expect((await paymentsOf(orderId))[0]).to.include({ status: "DECLINED" });
			expect(await sql("SELECT 1 FROM payment.voided_orders WHERE order_id = $1", [orderId])).to.have.length(0);
		});

		it("waits for a charge already at the provider and refunds it, never leaving a paid order voided", async () => {
			const orderId = crypto.randomUUID();
			let release!: () => void;
			provider.hold = new Promise<void>(resolve => (release = resolve));
			// the payment request, held at the provider while it is being handled
			const charging = events.deliver(broker, "payment", "order.paymentRequested", {
				orderId,
				userId,
				amountCents: 4_990,
				currency: "BRL",
				paymentToken: "tok_visa"
			});
			const cancellation = cancelled(orderId);
			try {
				await until(
					"the charge to reach the provider",
					async () => provider.asked("charge", orderId),
					n => n === 1
				);
				// handled as it is received (or by the next pass): either way its handler must wait for the order's lock
				const cancelling = deliver(cancellation);
				const taken = await until(
					"the cancellation to be taken up",
					async () => {
						const [{ waiting }] = await sql<{ waiting: number }>(
							`SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_database d ON d.oid = l.database
							 WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`
						);
						const row = await inboxRow(cancellation.id);
						return { waiting, status: row?.status, attempts: row?.attempts };
					},
					r => r.waiting > 0 || (r.status !== undefined && r.status !== "PENDING") || (r.attempts ?? 0) > 0
				);
				expect(taken, "the cancellation waits for the charge").to.include({ waiting: 1 });
				expect(await sql("SELECT 1 FROM payment.voided_orders WHERE order_id = $1", [orderId]), "nothing voided meanwhile").to.have.length(0);
				release();
				await cancelling;
			} finally {
				release(); // a failed expectation must not leave the charge (and its transaction) hanging
			}
			expect(await charging).to.include({ status: "HANDLED" });
			await handled(cancellation);
			const [succeeded, refunded] = await factsFor(orderId, 2);
			expect([succeeded.event, refunded.event]).to.deep.equal(["payment.succeeded", "payment.refunded"]);
			expect((await paymentsOf(orderId))[0]).to.include({ status: "REFUNDED" });
			expect(await sql("SELECT 1 FROM payment.voided_orders WHERE order_id = $1", [orderId])).to.have.length(0);
		});
	});

	describe("the card token", () => {
		it("is kept out of the payments table, the inbox once handled, the facts and the log", async () => {
			const secret = `tok_secret_${crypto.randomBytes(8).toString("hex")}`;
			const declined = paymentRequested({ paymentToken: secret });
			const paid = paymentRequested({ paymentToken: "tok_visa" });
			provider.failCharges = 1; // one retry, so the retry path is logged too
			await deliver(paid);
			await deliver(declined);
			await factsFor(paid.data.orderId, 1);
			const [fact] = await factsFor(declined.data.orderId, 1);
			expect(fact.data).to.include({ declineCode: "invalid_token" });
			await published();

			for (const e of [declined, paid]) {
				expect((await inboxRow(e.id)).payload.data, e.data.paymentToken).to.not.have.property("paymentToken");
				expect(JSON.stringify(await paymentsOf(e.data.orderId))).to.not.include("tok_");
			}
			// every event handled in this file, every payment and every fact ever written
			const stored = await sql<{ text: string }>(
				`SELECT payload::text AS text FROM payment.inbox WHERE status = 'HANDLED'
				 UNION ALL SELECT row_to_json(p)::text FROM payment.payments p
				 UNION ALL SELECT payload::text FROM payment.outbox`
			);
			expect(stored.length).to.be.greaterThan(10);
			expect(stored.filter(r => r.text.includes("tok_"))).to.deep.equal([]);
			expect(facts.filter(f => JSON.stringify(f).includes("tok_"))).to.deep.equal([]);

			// the log of the whole file, at trace level: it did record the payments, and never a token
			expect(logs.lines.some(l => l.includes(`Payment for order ${declined.data.orderId}: DECLINED (invalid_token)`))).to.equal(true);
			expect(logs.lines.some(l => l.includes("Simulated outage"))).to.equal(true);
			expect(logs.lines.filter(l => l.includes("tok_"))).to.deep.equal([]);
		});
	});
});
