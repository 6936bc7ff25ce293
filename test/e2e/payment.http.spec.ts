import crypto from "node:crypto";
import { expect } from "chai";
import type { PaymentDto } from "../../services/payment/payment.types";
import { adminToken, newCustomer } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deliver } from "../support/events";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

describe("REST payments through the gateway", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let ana: { token: string; id: string };
	let bob: { token: string; id: string };
	const anaOrders: string[] = [];
	let bobOrder: string;

	/** A payment for a new order, made as the checkout saga makes it: payment handles `order.paymentRequested`. */
	async function pay(userId: string, paymentToken = "tok_visa", amountCents = 1000): Promise<string> {
		const orderId = crypto.randomUUID();
		const delivery = await deliver(shop.broker, "payment", "order.paymentRequested", { orderId, userId, amountCents, currency: "BRL", paymentToken });
		expect(delivery.status).to.equal("HANDLED");
		return orderId;
	}
	/** The order is cancelled: payment refunds its charge. */
	async function cancel(userId: string, orderId: string, amountCents: number): Promise<void> {
		const delivery = await deliver(shop.broker, "payment", "order.cancelled", {
			orderId,
			userId,
			customer: { email: "ana@example.com", name: "Ana", phone: null },
			items: [{ productId: crypto.randomUUID(), sku: "LAMP-1", name: "Lamp", quantity: 1, unitPriceCents: amountCents, lineTotalCents: amountCents }],
			totalCents: amountCents,
			currency: "BRL",
			reason: "customer_request",
			previousStatus: "CONFIRMED"
		});
		expect(delivery.status).to.equal("HANDLED");
	}
	const list = (token: string | undefined, query = "") => request("GET", `/api/payments${query}`, { token });

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,identity,payment" }));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		ana = await newCustomer(request, "Ana");
		bob = await newCustomer(request, "Bob");
		anaOrders.push(await pay(ana.id, "tok_visa", 2590));
		anaOrders.push(await pay(ana.id, "tok_chargeDeclined", 1000));
		anaOrders.push(await pay(ana.id, "tok_mastercard", 4990));
		await cancel(ana.id, anaOrders[2], 4990);
		bobOrder = await pay(bob.id);
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("needs a signed-in user (401)", async () => {
		expect((await list(undefined)).status).to.equal(401);
		expect((await list("not-a-token")).status).to.equal(401);
	});

	it("lists only the caller's own payments, newest first, without provider references", async () => {
		const res = await list(ana.token);
		expect(res.status, JSON.stringify(res.body)).to.equal(200);
		expect(res.body).to.include({ total: 3, page: 1, pageSize: 20 });
		const items = res.body.items as PaymentDto[];
		expect(items.map(p => p.orderId)).to.deep.equal([...anaOrders].reverse());
		expect(items.map(p => p.status)).to.deep.equal(["REFUNDED", "DECLINED", "SUCCEEDED"]);
		expect(Object.keys(items[1]).sort()).to.deep.equal(["amountCents", "createdAt", "currency", "declineCode", "id", "orderId", "status", "updatedAt"]);
		expect(items[1]).to.include({ amountCents: 1000, currency: "BRL", declineCode: "card_declined" });
		expect(items[2]).to.include({ amountCents: 2590, declineCode: null });
		expect(JSON.stringify(res.body)).to.not.match(/tok_|ch_sim_|re_sim_/);

		const bobs = await list(bob.token);
		expect(bobs.body.total).to.equal(1);
		expect(bobs.body.items[0].orderId).to.equal(bobOrder);
	});

	it("never shows another user's payment, even when asked for by order id", async () => {
		const res = await list(bob.token, `?orderId=${anaOrders[0]}`);
		expect(res.status).to.equal(200);
		expect(res.body).to.include({ total: 0 });
		expect(res.body.items).to.deep.equal([]);
	});

	it("shows admins everyone's payments", async () => {
		const res = await list(admin);
		expect(res.status).to.equal(200);
		expect(res.body.total).to.equal(4);
		expect((res.body.items as PaymentDto[]).map(p => p.orderId)).to.have.members([...anaOrders, bobOrder]);
		const one = await list(admin, `?orderId=${bobOrder}`);
		expect(one.body.total).to.equal(1);
	});

	it("filters by order id", async () => {
		const res = await list(ana.token, `?orderId=${anaOrders[1]}`);
		expect(res.status).to.equal(200);
		expect(res.body.total).to.equal(1);
		expect(res.body.items[0]).to.include({ orderId: anaOrders[1], status: "DECLINED" });
	});

	it("pages the list", async () => {
		const res = await list(ana.token, "?page=2&pageSize=2");
		expect(res.status).to.equal(200);
		expect(res.body).to.include({ total: 3, page: 2, pageSize: 2 });
		expect(res.body.items.map((p: PaymentDto) => p.orderId)).to.deep.equal([anaOrders[0]]);
	});

	it("answers 422 for a malformed order id or page", async () => {
		for (const query of ["?orderId=not-a-uuid", "?orderId=", "?page=0", "?pageSize=101", "?page=x"]) {
			const res = await list(ana.token, query);
			expect(res.status, query).to.equal(422);
			expect(res.body.type, query).to.equal("VALIDATION_ERROR");
		}
	});

	it("keeps charge and refund off HTTP (404)", async () => {
		const body = { orderId: crypto.randomUUID(), userId: ana.id, amountCents: 100, currency: "BRL", paymentToken: "tok_visa" };
		for (const path of ["/api/payments", "/api/payments/charge", "/api/payment/charge", "/api/payment/refund"]) {
			const res = await request("POST", path, { token: admin, body });
			expect(res.status, path).to.equal(404);
		}
	});
});
