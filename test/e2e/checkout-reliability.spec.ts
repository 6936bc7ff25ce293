import crypto from "node:crypto";
import { EVENT_ROUTES } from "../../app/services";
import { expect } from "chai";
import type { Middleware, ServiceSchema } from "moleculer";
import type { EventEnvelope } from "../../lib/events";
import type { TrailEntry } from "../../lib/outbox";
import type { OrderDto } from "../../services/order/order.types";
import { createPaymentService } from "../../services/payment/payment.service";
import { ProviderUnavailableError, SimulatedProvider, type ChargeRequest, type ChargeOutcome } from "../../services/payment/payment.provider";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig } from "../support/shop";
import type { Env } from "../../lib/config";

const WITHOUT_PAYMENT = "gateway,identity,catalog,inventory,cart,order,notification";

/** The simulated card network, failing with a transient error while `failures` lasts. */
class FlakyProvider extends SimulatedProvider {
	failures = 0;
	override async charge(request: ChargeRequest): Promise<ChargeOutcome> {
		if (this.failures > 0) {
			this.failures--;
			throw new ProviderUnavailableError("simulated outage");
		}
		return super.charge(request);
	}
}

/** `action` is a name, or an endpoint object when the gateway calls a resolved alias. */
type Call = (action: unknown, params: unknown, opts: unknown) => Promise<unknown>;

/**
 * A broker middleware around the relay's hand-offs (`<service>.receiveEvent` calls): to watch, lose or
 * fail them. `pass` hands the envelope over for real.
 */
function aroundHandOff(hook: (envelope: EventEnvelope, pass: () => Promise<unknown>) => Promise<unknown>): Middleware {
	// Moleculer's typings describe the hook's result as the promise rather than the wrapped function
	return {
		call: (next: Call) => (action: unknown, params: unknown, opts: unknown) =>
			typeof action === "string" && action.endsWith(".receiveEvent")
				? hook(params as EventEnvelope, () => next(action, params, opts))
				: next(action, params, opts)
	} as unknown as Middleware;
}

/** A running shop plus what the tests do with it. */
async function boot(db: TestDatabase, env: Env, opts: { provider?: SimulatedProvider; middlewares?: Middleware[]; payment?: boolean } = {}) {
	const config = testConfig(db, { SERVICES: WITHOUT_PAYMENT, EVENT_POLL_MS: "100", ...env });
	const extra =
		opts.payment === false
			? []
			: [createPaymentService(config, EVENT_ROUTES, opts.provider ?? new SimulatedProvider()) as unknown as Partial<ServiceSchema>];
	const shop = await startShop(config, extra, opts.middlewares);
	const request = httpClient(shop.baseUrl);
	const admin = await adminToken(request);
	const steps = checkoutSteps(request, () => admin);
	/** Places an order for one product with `stock` units (the cart holds `quantity`). */
	async function order(customer: { token: string }, stock = 5, quantity = 1, paymentToken = "tok_visa"): Promise<{ order: OrderDto; productId: string }> {
		const productId = await steps.product(1000, stock);
		await steps.addToCart(customer.token, productId, quantity);
		const placed = await steps.placeOrder(customer.token, paymentToken);
		expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
		return { order: placed.body.order, productId };
	}
	const trail = (service: string, orderId: string) => shop.broker.call<TrailEntry[], object>(`${service}.eventTrail`, { correlationId: orderId });
	return { shop, config, request, admin, steps, order, trail };
}

describe("checkout reliability", function () {
	this.timeout(60_000);
	let db: TestDatabase;

	beforeEach(async () => {
		db = await createTestDatabase();
	});
	afterEach(async () => {
		await db?.drop();
	});

	it("retries a failing payment step, and a dead-lettered one completes the saga once replayed", async () => {
		const provider = new FlakyProvider();
		const s = await boot(db, { EVENT_MAX_ATTEMPTS: "3", EVENT_RETRY_BASE_MS: "20", EVENT_RETRY_MAX_MS: "100" }, { provider });
		try {
			const ana = await newCustomer(s.request, "Ana");

			provider.failures = 2;
			const first = await s.order(ana);
			expect((await s.steps.settled(ana.token, first.order.id)).status).to.equal("CONFIRMED");
			const handled = (await s.trail("payment", first.order.id)).find(e => e.event === "order.paymentRequested")!;
			expect(handled).to.include({ direction: "received", status: "HANDLED", attempts: 3 });
			expect(provider.stats.charges).to.equal(1);

			provider.failures = Infinity;
			const second = await s.order(ana);
			const letter = await eventually(async () => {
				const res = await s.request("GET", "/api/admin/dead-letters", { token: s.admin });
				const found = res.body.items.find(
					(d: { event: string; payload: EventEnvelope<{ orderId: string }> }) =>
						d.event === "order.paymentRequested" && d.payload.data.orderId === second.order.id
				);
				expect(found, "dead letter").to.not.equal(undefined);
				return found;
			});
			expect(letter).to.include({ service: "payment", attempts: 3 });
			expect(letter.lastError).to.match(/unavailable/i);
			expect(JSON.stringify(letter), "the card token is not shown").not.to.include("tok_visa");
			expect((await s.steps.order(ana.token, second.order.id)).status).to.equal("STOCK_RESERVED");

			provider.failures = 0;
			const replay = await s.request("POST", `/api/admin/dead-letters/${letter.id}/replay`, { token: s.admin });
			expect(replay.status, JSON.stringify(replay.body)).to.equal(200);
			expect((await s.steps.settled(ana.token, second.order.id)).status).to.equal("CONFIRMED");
			expect(provider.stats.charges).to.equal(2);
		} finally {
			await s.shop.stop();
		}
	});

	it("gives the same event, delivered twice or asked again, one effect", async () => {
		const seen: EventEnvelope[] = [];
		const recorder = aroundHandOff((envelope, pass) => {
			if (envelope.event === "payment.succeeded") seen.push(envelope);
			return pass();
		});
		const s = await boot(db, {}, { middlewares: [recorder] });
		try {
			const ana = await newCustomer(s.request, "Ana");
			const { order, productId } = await s.order(ana, 3, 2);
			const confirmed = await s.steps.settled(ana.token, order.id);
			expect(confirmed.status).to.equal("CONFIRMED");
			const [fact] = seen.filter(e => (e.data as { orderId: string }).orderId === order.id);

			await s.shop.broker.call("order.receiveEvent", fact);
			await s.shop.broker.call("order.receiveEvent", { ...fact, id: crypto.randomUUID() });
			await eventually(async () => {
				const received = (await s.trail("order", order.id)).filter(e => e.event === "payment.succeeded");
				expect(received.map(e => e.status)).to.deep.equal(["HANDLED", "HANDLED"]);
			});
			const after = await s.steps.order(ana.token, order.id);
			expect(after.history).to.deep.equal(confirmed.history);
			const confirmations = (await s.trail("order", order.id)).filter(e => e.direction === "sent" && e.event === "order.confirmed");
			expect(confirmations).to.have.length(1);
			await eventually(async () => expect(await s.steps.stock(productId)).to.deep.include({ onHand: 1, reserved: 0 }));
		} finally {
			await s.shop.stop();
		}
	});

	it("asks a step again when its answer was lost on the way", async () => {
		let dropped = 0;
		const lossy = aroundHandOff((envelope, pass) => {
			// a broken hop "acknowledges" the first answer and loses it
			if (envelope.event === "inventory.reserved" && dropped++ === 0) return Promise.resolve({ accepted: true });
			return pass();
		});
		const s = await boot(db, { SAGA_TIMEOUT: "1", SAGA_GIVE_UP: "60", SAGA_WATCHDOG_INTERVAL: "1" }, { middlewares: [lossy] });
		try {
			const ana = await newCustomer(s.request, "Ana");
			const { order } = await s.order(ana);
			expect((await s.steps.settled(ana.token, order.id)).status).to.equal("CONFIRMED");
			expect(dropped).to.be.greaterThan(1);
			const asked = (await s.trail("order", order.id)).filter(e => e.direction === "sent" && e.event === "order.created");
			expect(asked.length, "order.created asked again").to.be.greaterThan(1);
		} finally {
			await s.shop.stop();
		}
	});

	it("delivers an event committed before a stop once the shop is back", async () => {
		const broken = aroundHandOff((envelope, pass) => (envelope.event === "order.created" ? Promise.reject(new Error("transport down")) : pass()));
		const sameSecret = { JWT_SECRET: crypto.randomBytes(32).toString("hex") }; // the customer's token outlives the restart
		const first = await boot(db, sameSecret, { middlewares: [broken] });
		let ana: { token: string; id: string; email: string };
		let placed: { order: OrderDto; productId: string };
		try {
			ana = await newCustomer(first.request, "Ana");
			placed = await first.order(ana, 4, 2);
			const [created] = (await first.trail("order", placed.order.id)).filter(e => e.event === "order.created");
			expect(created).to.include({ direction: "sent", status: "WAITING" });
			expect((await first.steps.order(ana.token, placed.order.id)).status).to.equal("PENDING");
		} finally {
			await first.shop.stop();
		}

		const second = await boot(db, sameSecret);
		try {
			const done = await second.steps.settled(ana.token, placed.order.id);
			expect(done.status).to.equal("CONFIRMED");
			await eventually(async () => expect(await second.steps.stock(placed.productId)).to.deep.include({ onHand: 2, reserved: 0 }));
		} finally {
			await second.shop.stop();
		}
	});

	it("refuses new orders with 503 and Retry-After while ORDER_MAX_IN_FLIGHT are in flight, placing nothing, and takes them again once there is room", async () => {
		const s = await boot(db, { ORDER_MAX_IN_FLIGHT: "2" }, { payment: false });
		try {
			const [ana, bia, caio] = [await newCustomer(s.request, "Ana"), await newCustomer(s.request, "Bia"), await newCustomer(s.request, "Caio")];
			// payment is down: both orders wait at STOCK_RESERVED
			const first = await s.order(ana, 5, 1);
			await s.order(bia, 5, 1);
			const productId = await s.steps.product(1000, 5);
			await s.steps.addToCart(caio.token, productId, 2);
			const key = { "Idempotency-Key": crypto.randomUUID() };
			const busy = await s.steps.placeOrder(caio.token, "tok_visa", key);
			expect(busy.status, JSON.stringify(busy.body)).to.equal(503);
			expect(busy.body).to.include({ type: "ORDERS_BUSY" });
			expect(busy.headers.get("retry-after")).to.equal("2");
			// nothing was placed or taken: the cart still holds its lines, the stock is untouched
			expect((await s.request("GET", "/api/cart", { token: caio.token })).body.items).to.have.length(1);
			expect((await s.request("GET", "/api/orders", { token: caio.token })).body.items).to.deep.equal([]);
			expect(await s.steps.stock(productId)).to.deep.include({ onHand: 5, reserved: 0 });

			// one order ends (the customer cancels it): the same request, same key, is taken
			expect((await s.request("POST", `/api/orders/${first.order.id}/cancel`, { token: ana.token })).status).to.equal(200);
			const placed = await s.steps.placeOrder(caio.token, "tok_visa", key);
			expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
			expect(placed.headers.get("idempotent-replayed")).to.equal(null);
			await eventually(async () => expect(await s.steps.stock(productId)).to.deep.include({ reserved: 2 }));
		} finally {
			await s.shop.stop();
		}
	});

	it("with payment down: a customer's cancel releases the stock, a silent order times out, and nothing is charged later", async () => {
		const s = await boot(db, { SAGA_TIMEOUT: "1", SAGA_GIVE_UP: "4", SAGA_WATCHDOG_INTERVAL: "1" }, { payment: false });
		try {
			const ana = await newCustomer(s.request, "Ana");
			const cancelled = await s.order(ana, 3, 2);
			await eventually(async () => expect((await s.steps.order(ana.token, cancelled.order.id)).status).to.equal("STOCK_RESERVED"));
			expect(await s.steps.stock(cancelled.productId)).to.deep.include({ reserved: 2, available: 1 });
			const res = await s.request("POST", `/api/orders/${cancelled.order.id}/cancel`, { token: ana.token });
			expect(res.status).to.equal(200);
			expect(res.body.order).to.include({ status: "CANCELLED", cancelReason: "customer_request" });
			await eventually(async () => expect(await s.steps.stock(cancelled.productId)).to.deep.include({ onHand: 3, reserved: 0, available: 3 }));

			const silent = await s.order(ana, 3, 1);
			const timedOut = await s.steps.settled(ana.token, silent.order.id, undefined, 20_000);
			expect(timedOut).to.include({ status: "CANCELLED", cancelReason: "timeout" });
			expect(timedOut.history.map(h => h.status)).to.deep.equal(["PENDING", "STOCK_RESERVED", "CANCELLED"]);
			await eventually(async () => expect(await s.steps.stock(silent.productId)).to.deep.include({ onHand: 3, reserved: 0 }));

			// payment comes (back) up: it gets the cancellations, not the withdrawn payment requests
			const provider = new SimulatedProvider();
			s.shop.broker.createService(createPaymentService(s.config, EVENT_ROUTES, provider) as unknown as ServiceSchema);
			await s.shop.broker.waitForServices("payment");
			for (const o of [cancelled.order, silent.order]) {
				await eventually(async () => {
					const received = (await s.trail("payment", o.id)).map(e => `${e.event}:${e.status}`);
					expect(received).to.include("order.cancelled:HANDLED");
					expect(received.filter(e => e.startsWith("order.paymentRequested"))).to.deep.equal([]);
				});
			}
			expect(provider.stats.chargeRequests).to.equal(0);
			const payments = await s.request("GET", "/api/payments", { token: ana.token });
			expect(payments.body.items).to.deep.equal([]);
		} finally {
			await s.shop.stop();
		}
	});
});
