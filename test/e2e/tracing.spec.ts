import crypto from "node:crypto";
import { expect } from "chai";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { until } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import { startCollector } from "../support/zipkin";

describe("tracing (Zipkin v2 JSON to a collector)", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let collector: Awaited<ReturnType<typeof startCollector>>;

	before(async () => {
		db = await createTestDatabase();
		collector = await startCollector();
		shop = await startShop(testConfig(db, { TRACING_EXPORTER: "zipkin", TRACING_ENDPOINT: collector.url, EVENT_POLL_MS: "100" }));
	});
	after(async () => {
		await shop?.stop();
		await collector?.close();
		await db?.drop();
	});

	it("shows one checkout as one trace: the request, the order's actions and every saga step down to the e-mail", async () => {
		const request = httpClient(shop.baseUrl);
		const admin = await adminToken(request);
		const steps = checkoutSteps(request, () => admin);
		const productId = await steps.product(4200, 3, "Traced");
		const customer = await newCustomer(request);
		await steps.addToCart(customer.token, productId, 1);

		const requestId = crypto.randomUUID();
		const placed = await steps.placeOrder(customer.token, "tok_visa", { "X-Request-Id": requestId });
		expect(placed.status).to.equal(201);
		expect(placed.headers.get("x-request-id")).to.equal(requestId);
		const orderId: string = placed.body.order.id;
		await steps.settled(customer.token, orderId);

		const traceId = requestId.replace(/-/g, "").slice(0, 16);
		const inTrace = () => collector.spans.filter(s => s.traceId === traceId);
		const spans = await until(
			"the confirmation e-mail's span in the checkout's trace",
			inTrace,
			// spans are sent every second, in batches: wait for the request's own, the e-mail's, and every parent
			list => {
				const ids = new Set(list.map(s => s.id));
				return (
					list.some(s => s.name === "POST /api/orders") &&
					list.some(s => s.name === "handle order.confirmed" && s.localEndpoint.serviceName === "notification") &&
					list.some(s => s.name === "action 'notification.send'") &&
					list.every(s => !s.parentId || ids.has(s.parentId))
				);
			}
		);

		// the root is the HTTP request, named by route, with the order's id kept out of names
		const roots = spans.filter(s => !s.parentId);
		expect(roots.map(s => s.name)).to.deep.equal(["POST /api/orders"]);
		expect(spans.every(s => !s.name.includes(orderId))).to.equal(true);
		// parent links intact: every other span's parent is a span of this trace
		const ids = new Set(spans.map(s => s.id));
		expect(spans.filter(s => s.parentId && !ids.has(s.parentId)).map(s => s.name)).to.deep.equal([]);

		const services = new Set(spans.map(s => s.localEndpoint.serviceName));
		for (const svc of ["order", "inventory", "payment", "notification"]) expect([...services], svc).to.include(svc);
		for (const name of [
			"action 'order.place'",
			"handle order.created",
			"handle inventory.reserved",
			"handle order.paymentRequested",
			"handle payment.succeeded"
		]) {
			expect(
				spans.map(s => s.name),
				name
			).to.include(name);
		}
		// the saga's steps are tagged with the order id
		const place = spans.find(s => s.name === "action 'order.place'")!;
		expect(place.tags.orderId).to.equal(orderId);
		for (const s of spans.filter(s => s.name.startsWith("handle "))) expect(s.tags.orderId, s.name).to.equal(orderId);

		// a hand-off (the relay's call to receiveEvent) continues the trace of the call that wrote the event
		const created = spans.find(s => s.name === "handle order.created" && s.localEndpoint.serviceName === "inventory")!;
		expect(created.parentId).to.equal(place.id);
		const handOff = spans.find(s => s.name === "action 'inventory.receiveEvent'" && s.tags.id === created.tags.eventId);
		expect(handOff?.parentId).to.equal(place.id);
		// the e-mail is sent within the notification's handling of order.confirmed
		const mail = spans.find(s => s.name === "action 'notification.send'")!;
		expect(spans.find(s => s.id === mail.parentId)?.name).to.equal("handle order.confirmed");
		// a hand-off's span names the event it carries, not an order it is not
		expect(spans.filter(s => s.name.endsWith("receiveEvent'") && s.tags.orderId).map(s => s.tags.orderId)).to.deep.equal([]);
	});

	it("never sends a card token, a password or a token to the collector", async () => {
		const request = httpClient(shop.baseUrl);
		const admin = await adminToken(request);
		const steps = checkoutSteps(request, () => admin);
		const productId = await steps.product(1000, 2, "Secret");
		const customer = await newCustomer(request);
		await steps.addToCart(customer.token, productId, 1);
		const secretCard = "tok_visa";
		const placed = await steps.placeOrder(customer.token, secretCard);
		await steps.settled(customer.token, placed.body.order.id);
		await until(
			"the payment's spans",
			() => collector.spans.filter(s => s.tags.orderId === placed.body.order.id && s.name === "handle order.paymentRequested"),
			list => list.length > 0
		);
		const everything = collector.bodies.join("\n");
		expect(everything).to.not.include(secretCard);
		expect(everything).to.not.include("password123");
		expect(everything).to.not.include(customer.token);
		expect(everything).to.not.include(admin);
	});
});
