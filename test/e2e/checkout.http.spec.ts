import { formatMoney } from "../../services/notification/notification.templates";
import { expect } from "chai";
import type { OrderDto } from "../../services/order/order.types";
import type { PaymentDto } from "../../services/payment/payment.types";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp";

const ALL = "gateway,identity,catalog,inventory,cart,order,payment,notification";

describe("checkout through the gateway", () => {
	let db: TestDatabase;
	let smtp: TestSmtpServer;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let steps: ReturnType<typeof checkoutSteps>;
	let ana: { token: string; id: string; email: string };
	let bob: { token: string; id: string; email: string };

	const payments = async (token: string, orderId: string): Promise<PaymentDto[]> => {
		const res = await request("GET", `/api/payments?orderId=${orderId}`, { token });
		expect(res.status).to.equal(200);
		return res.body.items;
	};

	before(async () => {
		db = await createTestDatabase();
		smtp = await startSmtpServer();
		shop = await startShop(testConfig(db, { SERVICES: ALL, SMTP_URL: smtp.url, EVENT_POLL_MS: "100" }));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		steps = checkoutSteps(request, () => admin);
		ana = await newCustomer(request, "Ana");
		bob = await newCustomer(request, "Bob");
	});
	after(async () => {
		await shop?.stop();
		await smtp?.stop();
		await db?.drop();
	});

	it("confirms a paid order: stock committed, cart empty, and an e-mail naming the order", async () => {
		const mug = await steps.product(2590, 10, "Mug");
		const pen = await steps.product(399, 5, "Pen");
		await steps.addToCart(ana.token, mug, 2);
		await steps.addToCart(ana.token, pen, 1);

		const placed = await steps.placeOrder(
			ana.token,
			"tok_visa",
			{},
			{ shippingAddress: { name: "Ana", line1: "Rua A, 1", city: "São Paulo", postalCode: "01000-000", country: "BR" } }
		);
		expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
		const order: OrderDto = placed.body.order;
		expect(placed.headers.get("location")).to.equal(`/api/orders/${order.id}`);
		expect(order).to.include({ status: "PENDING", totalCents: 2 * 2590 + 399, currency: "BRL", userId: ana.id, cancelReason: null });
		expect(order.items.map(i => [i.productId, i.quantity, i.unitPriceCents, i.lineTotalCents])).to.deep.equal([
			[mug, 2, 2590, 5180],
			[pen, 1, 399, 399]
		]);
		expect(order.items[0].name).to.match(/^Mug/);
		expect(order.items[0].sku).to.match(/^ORD-/);
		expect(order.shippingAddress).to.include({ city: "São Paulo", country: "BR" });
		expect(JSON.stringify(placed.body)).not.to.include("tok_visa");

		const cart = await request("GET", "/api/cart", { token: ana.token });
		expect(cart.body.items).to.deep.equal([]);

		const done = await steps.settled(ana.token, order.id);
		expect(done.status).to.equal("CONFIRMED");
		expect(done.paymentStatus).to.equal("SUCCEEDED");
		expect(done.history.map(h => h.status)).to.deep.equal(["PENDING", "STOCK_RESERVED", "CONFIRMED"]);

		await eventually(async () => {
			expect(await steps.stock(mug)).to.deep.include({ onHand: 8, reserved: 0, available: 8 });
			expect(await steps.stock(pen)).to.deep.include({ onHand: 4, reserved: 0, available: 4 });
		});
		const [payment] = await payments(ana.token, order.id);
		expect(payment).to.include({ status: "SUCCEEDED", amountCents: 5579, currency: "BRL" });

		const mail = await eventually(async () => {
			const m = smtp.to(ana.email).find(x => x.subject.includes(order.id));
			expect(m, "confirmation e-mail").to.not.equal(undefined);
			return m!;
		});
		expect(mail.subject).to.equal(`Your order ${order.id} is confirmed`);
		expect(mail.text)
			.to.include(order.id)
			.and.to.match(/2 x Mug/);
	});

	it("cancels a declined order and gives its stock back", async () => {
		const lamp = await steps.product(15000, 3, "Lamp");
		await steps.addToCart(ana.token, lamp, 2);
		const placed = await steps.placeOrder(ana.token, "tok_chargeDeclined");
		expect(placed.status).to.equal(201);
		const done = await steps.settled(ana.token, placed.body.order.id);
		expect(done).to.include({ status: "CANCELLED", cancelReason: "payment_declined", paymentStatus: "DECLINED" });
		expect(done.history.map(h => h.status)).to.deep.equal(["PENDING", "STOCK_RESERVED", "CANCELLED"]);
		expect(done.history[2].reason).to.equal("payment_declined");
		await eventually(async () => expect(await steps.stock(lamp)).to.deep.include({ onHand: 3, reserved: 0, available: 3 }));
		const [payment] = await payments(ana.token, done.id);
		expect(payment).to.include({ status: "DECLINED", declineCode: "card_declined" });
		await eventually(async () => expect(smtp.to(ana.email).some(m => m.subject === `Your order ${done.id} was cancelled`)).to.equal(true));
	});

	it("cancels an order whose stock ran out, without charging it", async () => {
		const vase = await steps.product(5000, 2, "Vase");
		await steps.addToCart(ana.token, vase, 2);
		await steps.adjust(vase, -1); // sold elsewhere while it sat in the cart
		const placed = await steps.placeOrder(ana.token);
		const done = await steps.settled(ana.token, placed.body.order.id);
		expect(done).to.include({ status: "CANCELLED", cancelReason: "out_of_stock", paymentStatus: null });
		expect(done.history.map(h => h.status)).to.deep.equal(["PENDING", "CANCELLED"]);
		expect(await payments(ana.token, done.id)).to.deep.equal([]);
		expect(await steps.stock(vase)).to.deep.include({ onHand: 1, reserved: 0 });
	});

	it("answers a repeated Idempotency-Key with the first response, and refuses it for another body", async () => {
		const cup = await steps.product(1200, 10, "Cup");
		await steps.addToCart(bob.token, cup, 1);
		const key = { "Idempotency-Key": `key-${Date.now()}` };
		const first = await steps.placeOrder(bob.token, "tok_visa", key);
		expect(first.status).to.equal(201);
		await steps.settled(bob.token, first.body.order.id);

		await steps.addToCart(bob.token, cup, 1); // a new cart does not make the repeat a new order
		const again = await steps.placeOrder(bob.token, "tok_visa", key);
		expect(again.status).to.equal(201);
		expect(again.body).to.deep.equal(first.body);
		expect(again.headers.get("idempotent-replayed")).to.equal("true");

		const other = await steps.placeOrder(bob.token, "tok_mastercard", key);
		expect(other.status).to.equal(422);
		expect(other.body.type).to.equal("IDEMPOTENCY_KEY_REUSED");
		expect(JSON.stringify(other.body)).not.to.include("tok_");

		const mine = await request("GET", "/api/orders", { token: bob.token });
		expect(mine.body.items.filter((o: OrderDto) => o.id === first.body.order.id)).to.have.length(1);
		expect(mine.body.total).to.equal(1);
		expect((await request("GET", "/api/cart", { token: bob.token })).body.items).to.have.length(1);
		await request("DELETE", "/api/cart", { token: bob.token });
	});

	it("places one order for concurrent requests with one Idempotency-Key", async () => {
		const carol = await newCustomer(request, "Carol");
		const cup = await steps.product(800, 10, "Cup");
		await steps.addToCart(carol.token, cup, 3);
		const key = { "Idempotency-Key": `burst-${Date.now()}` };
		const answers = await Promise.all(Array.from({ length: 6 }, () => steps.placeOrder(carol.token, "tok_visa", key)));
		for (const a of answers) expect(a.status, JSON.stringify(a.body)).to.equal(201);
		expect(new Set(answers.map(a => a.body.order.id)).size).to.equal(1);
		const list = await request("GET", "/api/orders", { token: carol.token });
		expect(list.body.total).to.equal(1);
		await steps.settled(carol.token, answers[0].body.order.id);
		await eventually(async () => expect(await steps.stock(cup)).to.deep.include({ onHand: 7, reserved: 0 }));
	});

	it("refuses bad orders with a 4xx naming the problem", async () => {
		const dave = await newCustomer(request, "Dave");
		const empty = await steps.placeOrder(dave.token);
		expect(empty.status).to.equal(422);
		expect(empty.body.type).to.equal("EMPTY_CART");

		const cup = await steps.product(800, 10, "Cup");
		await steps.addToCart(dave.token, cup, 1);
		const cases: [string, object, Record<string, string>, string][] = [
			["no token", { paymentToken: undefined }, {}, "paymentToken"],
			["token not a string", { paymentToken: 42 }, {}, "paymentToken"],
			["bad country", { shippingAddress: { name: "D", line1: "x", city: "y", postalCode: "1", country: "Brazil" } }, {}, "shippingAddress.country"],
			["address without a street", { shippingAddress: { name: "D", city: "y", postalCode: "1", country: "BR" } }, {}, "shippingAddress.line1"],
			["key with spaces", {}, { "Idempotency-Key": "two words" }, "Idempotency-Key"]
		];
		for (const [what, body, headers, field] of cases) {
			const res = await request("POST", "/api/orders", { token: dave.token, headers, body: { paymentToken: "tok_visa", ...body } });
			expect(res.status, what).to.equal(422);
			expect(JSON.stringify(res.body.data), what).to.include(field);
		}
		expect((await request("POST", "/api/orders", { body: { paymentToken: "tok_visa" } })).status).to.equal(401);
		expect((await request("POST", "/api/orders", { token: dave.token, rawBody: "{bad" })).status).to.equal(400);
		// nothing was placed and the cart is intact
		expect((await request("GET", "/api/orders", { token: dave.token })).body.total).to.equal(0);
		expect((await request("GET", "/api/cart", { token: dave.token })).body.items).to.have.length(1);
		expect((await request("GET", "/api/orders/not-a-uuid", { token: dave.token })).status).to.equal(422);
		expect((await request("GET", "/api/orders?status=LOST", { token: dave.token })).status).to.equal(422);
	});

	it("refunds and restocks an order cancelled after confirmation", async () => {
		const chair = await steps.product(30000, 4, "Chair");
		await steps.addToCart(ana.token, chair, 3);
		const placed = await steps.placeOrder(ana.token);
		const confirmed = await steps.settled(ana.token, placed.body.order.id);
		expect(confirmed.status).to.equal("CONFIRMED");
		await eventually(async () => expect(await steps.stock(chair)).to.deep.include({ onHand: 1, reserved: 0 }));

		const cancelled = await request("POST", `/api/orders/${confirmed.id}/cancel`, { token: ana.token });
		expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
		expect(cancelled.body.order).to.include({ status: "CANCELLED", cancelReason: "customer_request" });

		const refunded = await steps.settled(ana.token, confirmed.id, o => o.paymentStatus === "REFUNDED");
		expect(refunded.history.map(h => h.status)).to.deep.equal(["PENDING", "STOCK_RESERVED", "CONFIRMED", "CANCELLED"]);
		await eventually(async () => expect(await steps.stock(chair)).to.deep.include({ onHand: 4, reserved: 0, available: 4 }));
		expect((await payments(ana.token, confirmed.id))[0].status).to.equal("REFUNDED");
		await eventually(async () => {
			const mail = smtp.to(ana.email).find(m => m.subject === `Your order ${confirmed.id} was cancelled`);
			expect(mail?.text).to.include("refunded");
		});

		const again = await request("POST", `/api/orders/${confirmed.id}/cancel`, { token: ana.token });
		expect(again.status).to.equal(409);
		expect(again.body.type).to.equal("ORDER_NOT_CANCELLABLE");
	});

	it("says a payment was refunded only once payment has refunded it, in a message of its own", async () => {
		const lamp = await steps.product(12000, 2, "Lamp");
		await steps.addToCart(ana.token, lamp, 1);
		const placed = await steps.placeOrder(ana.token);
		const confirmed = await steps.settled(ana.token, placed.body.order.id);
		expect(confirmed.status).to.equal("CONFIRMED");
		expect((await request("POST", `/api/orders/${confirmed.id}/cancel`, { token: ana.token })).status).to.equal(200);

		const mail = await eventually(async () => {
			const found = smtp.to(ana.email).find(m => m.subject === `Your payment for order ${confirmed.id} was refunded`);
			expect(found).to.not.equal(undefined);
			return found!;
		}, 15_000);
		expect(mail.text).to.include(`We have refunded ${formatMoney(12000, "BRL")} for your cancelled order ${confirmed.id}.`);
		// by then payment had refunded it
		expect((await payments(ana.token, confirmed.id))[0].status).to.equal("REFUNDED");
		const cancelledMail = smtp.to(ana.email).find(m => m.subject === `Your order ${confirmed.id} was cancelled`);
		expect(cancelledMail?.text).to.include("Your payment will be refunded.");
		expect(cancelledMail?.text).to.not.include("has been refunded");
	});

	it("keeps each customer's orders and payments to themselves; admins see all", async () => {
		const book = await steps.product(4500, 5, "Book");
		await steps.addToCart(ana.token, book, 1);
		const anaOrder = (await steps.placeOrder(ana.token)).body.order as OrderDto;
		await steps.settled(ana.token, anaOrder.id);

		expect((await request("GET", `/api/orders/${anaOrder.id}`, { token: bob.token })).status).to.equal(404);
		expect((await request("POST", `/api/orders/${anaOrder.id}/cancel`, { token: bob.token })).status).to.equal(404);
		const bobs = await request("GET", "/api/orders?pageSize=100", { token: bob.token });
		expect(bobs.body.items.map((o: OrderDto) => o.id)).not.to.include(anaOrder.id);
		expect(await payments(bob.token, anaOrder.id)).to.deep.equal([]);
		expect((await request("GET", `/api/orders/${anaOrder.id}`)).status).to.equal(401);

		expect((await request("GET", `/api/orders/${anaOrder.id}`, { token: admin })).status).to.equal(200);
		const all = await request("GET", "/api/orders?pageSize=100", { token: admin });
		const owners = new Set(all.body.items.map((o: OrderDto) => o.userId));
		expect(owners).to.include(ana.id).and.to.include(bob.id);

		const anas = await request("GET", "/api/orders?pageSize=2&page=1", { token: ana.token });
		expect(anas.body.pageSize).to.equal(2);
		expect(anas.body.items[0].id, "newest first").to.equal(anaOrder.id);
		expect(anas.body.total).to.be.greaterThan(2);
		const cancelledOnly = await request("GET", "/api/orders?status=CANCELLED&pageSize=100", { token: ana.token });
		expect(cancelledOnly.body.items.every((o: OrderDto) => o.status === "CANCELLED")).to.equal(true);
	});

	it("confirms exactly as many of dozens of concurrent checkouts as there are units", async () => {
		const units = 5;
		const gadget = await steps.product(999, units, "Gadget");
		const shoppers = await Promise.all(Array.from({ length: 30 }, (_, i) => newCustomer(request, `Rush ${i}`)));
		for (const s of shoppers) await steps.addToCart(s.token, gadget, 1);

		const placed = await Promise.all(shoppers.map(s => steps.placeOrder(s.token)));
		for (const p of placed) expect(p.status, JSON.stringify(p.body)).to.equal(201);
		const done = await Promise.all(placed.map((p, i) => steps.settled(shoppers[i].token, p.body.order.id, undefined, 60_000)));

		const confirmed = done.filter(o => o.status === "CONFIRMED");
		expect(confirmed).to.have.length(units);
		expect(done.filter(o => o.status === "CANCELLED").every(o => o.cancelReason === "out_of_stock")).to.equal(true);
		await eventually(async () => expect(await steps.stock(gadget)).to.deep.include({ onHand: 0, reserved: 0, available: 0 }));
		const charged = await Promise.all(confirmed.map(o => payments(admin, o.id)));
		expect(charged.map(p => p.length)).to.deep.equal(Array(units).fill(1));
		const all = await request("GET", "/api/payments?pageSize=100", { token: admin });
		const gadgetOrders = new Set(done.map(o => o.id));
		expect(all.body.items.filter((p: PaymentDto) => gadgetOrders.has(p.orderId))).to.have.length(units);
	});
});
