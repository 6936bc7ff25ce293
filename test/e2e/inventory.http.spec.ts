import crypto from "node:crypto";
import { expect } from "chai";
import { adminToken, newCustomer } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deliver } from "../support/events";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

describe("REST inventory through the gateway", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let customer: string;
	let adminId: string;

	/** As the admin unless told otherwise; `null` sends no token at all. */
	const adjust = (productId: string, body: unknown, token: string | null = admin) =>
		request("POST", `/api/inventory/${productId}/adjustments`, { token: token ?? undefined, body });
	const level = async (productId: string) => (await request("GET", `/api/inventory/${productId}`)).body;

	async function newProduct(): Promise<string> {
		const res = await request("POST", "/api/products", {
			token: admin,
			body: { sku: `SKU-${crypto.randomBytes(4).toString("hex")}`, name: "Lamp", priceCents: 4990, category: "home" }
		});
		expect(res.status, JSON.stringify(res.body)).to.equal(201);
		return res.body.id as string;
	}

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,identity,catalog,inventory" }));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		adminId = (await request("GET", "/api/auth/me", { token: admin })).body.user.id;
		customer = (await newCustomer(request)).token;
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	describe("GET /api/inventory/:productId", () => {
		it("answers anyone, zeros for a product never stocked", async () => {
			const id = crypto.randomUUID();
			const res = await request("GET", `/api/inventory/${id}`);
			expect(res.status).to.equal(200);
			expect(res.body).to.deep.equal({ productId: id, onHand: 0, reserved: 0, available: 0 });
		});

		it("answers 422 for a malformed id", async () => {
			const res = await request("GET", "/api/inventory/not-a-uuid");
			expect(res.status).to.equal(422);
			expect(res.body.type).to.equal("VALIDATION_ERROR");
			expect(res.body.data[0]).to.include({ field: "productId" });
		});
	});

	describe("POST /api/inventory/:productId/adjustments", () => {
		it("lets an admin receive and remove stock, answering the new levels", async () => {
			const id = await newProduct();
			const received = await adjust(id, { delta: 10, reason: "delivery from supplier" });
			expect(received.status).to.equal(200);
			expect(received.body).to.deep.equal({ productId: id, onHand: 10, reserved: 0, available: 10 });
			const removed = await adjust(id, { delta: -4, reason: "  damaged in transit  " });
			expect(removed.status).to.equal(200);
			expect(removed.body).to.include({ onHand: 6, available: 6 });
			expect(await level(id)).to.deep.equal(removed.body);
		});

		it("answers 401 without a token and 403 for a customer, changing nothing", async () => {
			const id = await newProduct();
			const anonymous = await adjust(id, { delta: 5, reason: "x" }, null);
			expect(anonymous.status).to.equal(401);
			expect(anonymous.body.type).to.equal("UNAUTHENTICATED");
			const forbidden = await adjust(id, { delta: 5, reason: "x" }, customer);
			expect(forbidden.status).to.equal(403);
			expect(forbidden.body.type).to.equal("FORBIDDEN");
			expect(await level(id)).to.include({ onHand: 0 });
		});

		it("answers 404 for an unknown product and for an archived one", async () => {
			const unknown = await adjust(crypto.randomUUID(), { delta: 5, reason: "x" });
			expect(unknown.status).to.equal(404);
			expect(unknown.body.type).to.equal("NOT_FOUND");

			const id = await newProduct();
			expect((await request("DELETE", `/api/products/${id}`, { token: admin })).status).to.equal(204);
			const archived = await adjust(id, { delta: 5, reason: "x" });
			expect(archived.status).to.equal(404);
			expect(await level(id)).to.include({ onHand: 0 });
		});

		it("answers 409 NEGATIVE_STOCK with the current levels, changing nothing", async () => {
			const id = await newProduct();
			await adjust(id, { delta: 3, reason: "delivery" });
			const res = await adjust(id, { delta: -4, reason: "count correction" });
			expect(res.status).to.equal(409);
			expect(res.body).to.include({ type: "NEGATIVE_STOCK" });
			expect(res.body.data).to.include({ productId: id, onHand: 3, reserved: 0, available: 3 });
			expect(await level(id)).to.include({ onHand: 3 });
			expect((await request("GET", `/api/inventory/${id}/adjustments`, { token: admin })).body.total).to.equal(1);
		});

		it("answers 409 NEGATIVE_STOCK for a product never stocked, leaving no record behind", async () => {
			const id = await newProduct();
			const res = await adjust(id, { delta: -1, reason: "oops" });
			expect(res.status).to.equal(409);
			expect(res.body.data).to.include({ onHand: 0, reserved: 0 });
			expect((await request("GET", `/api/inventory/${id}/adjustments`, { token: admin })).body.total).to.equal(0);
		});

		it("answers 409 STOCK_BELOW_RESERVED when units are held for orders", async () => {
			const id = await newProduct();
			await adjust(id, { delta: 5, reason: "delivery" });
			const items = [{ productId: id, quantity: 4 }];
			const order = { orderId: crypto.randomUUID(), userId: adminId, items, totalCents: 4 * 4990, currency: "BRL" };
			expect((await deliver(shop.broker, "inventory", "order.created", order)).status).to.equal("HANDLED");
			const res = await adjust(id, { delta: -2, reason: "damaged" });
			expect(res.status).to.equal(409);
			expect(res.body.type).to.equal("STOCK_BELOW_RESERVED");
			expect(res.body.data).to.include({ onHand: 5, reserved: 4, available: 1 });
			expect(await level(id)).to.deep.equal({ productId: id, onHand: 5, reserved: 4, available: 1 });
		});

		it("answers 422 for wrong values and for loosely typed JSON", async () => {
			const id = await newProduct();
			const bad: [unknown, string][] = [
				[{ delta: 0, reason: "nothing" }, "delta"],
				[{ delta: "5", reason: "as text" }, "delta"],
				[{ delta: 1.5, reason: "fraction" }, "delta"],
				[{ delta: 1_000_001, reason: "too many" }, "delta"],
				[{ delta: -1_000_001, reason: "too many" }, "delta"],
				[{ reason: "no delta" }, "delta"],
				[{ delta: 1 }, "reason"],
				[{ delta: 1, reason: "   " }, "reason"],
				[{ delta: 1, reason: "x".repeat(201) }, "reason"],
				[{ delta: 1, reason: 42 }, "reason"]
			];
			for (const [body, field] of bad) {
				const res = await adjust(id, body);
				expect(res.status, JSON.stringify(body)).to.equal(422);
				expect(
					res.body.data.map((p: { field: string }) => p.field),
					JSON.stringify(body)
				).to.include(field);
			}
			expect((await adjust("not-a-uuid", { delta: 1, reason: "x" })).status).to.equal(422);
			expect((await adjust(id, { delta: 1_000_000, reason: "x".repeat(200) })).status).to.equal(200);
			expect(await level(id)).to.include({ onHand: 1_000_000 });
		});

		it("answers 400 for malformed JSON", async () => {
			const id = await newProduct();
			const res = await request("POST", `/api/inventory/${id}/adjustments`, { token: admin, rawBody: '{"delta": 1,' });
			expect(res.status).to.equal(400);
			expect(res.body.type).to.equal("INVALID_JSON");
		});
	});

	describe("GET /api/inventory/:productId/adjustments", () => {
		let id: string;
		before(async () => {
			id = await newProduct();
			for (const [delta, reason] of [
				[10, "first"],
				[-3, "second"],
				[5, "third"]
			] as const) {
				expect((await adjust(id, { delta, reason })).status).to.equal(200);
			}
		});

		it("lists the ledger newest first with who made each change", async () => {
			const res = await request("GET", `/api/inventory/${id}/adjustments`, { token: admin });
			expect(res.status).to.equal(200);
			expect(res.body).to.include({ total: 3, page: 1, pageSize: 20 });
			expect(res.body.items.map((a: { reason: string }) => a.reason)).to.deep.equal(["third", "second", "first"]);
			expect(res.body.items[0]).to.include({ productId: id, delta: 5, onHandAfter: 12, actorId: adminId });
			expect(res.body.items[0].id).to.match(/^[0-9a-f-]{36}$/);
			expect(new Date(res.body.items[0].createdAt).toISOString()).to.equal(res.body.items[0].createdAt);
		});

		it("pages", async () => {
			const res = await request("GET", `/api/inventory/${id}/adjustments?page=2&pageSize=2`, { token: admin });
			expect(res.status).to.equal(200);
			expect(res.body).to.include({ total: 3, page: 2, pageSize: 2 });
			expect(res.body.items.map((a: { reason: string }) => a.reason)).to.deep.equal(["first"]);
		});

		it("answers 401, 403 and 422 like the rest", async () => {
			expect((await request("GET", `/api/inventory/${id}/adjustments`)).status).to.equal(401);
			expect((await request("GET", `/api/inventory/${id}/adjustments`, { token: customer })).status).to.equal(403);
			expect((await request("GET", `/api/inventory/${id}/adjustments?pageSize=101`, { token: admin })).status).to.equal(422);
			expect((await request("GET", `/api/inventory/${id}/adjustments?page=0`, { token: admin })).status).to.equal(422);
			expect((await request("GET", `/api/inventory/nope/adjustments`, { token: admin })).status).to.equal(422);
		});
	});

	describe("internal actions", () => {
		it("are not reachable over HTTP, not even for an admin", async () => {
			const id = await newProduct();
			await adjust(id, { delta: 5, reason: "delivery" });
			const orderId = crypto.randomUUID();
			const body = { orderId, items: [{ productId: id, quantity: 5 }], productIds: [id] };
			for (const action of ["reserve", "release", "commit", "getMany", "sweepExpired", "adjust", "get"]) {
				for (const path of [`/api/inventory/${action}`, `/api/inventory/inventory/${action}`]) {
					const res = await request("POST", path, { token: admin, body });
					expect(res.status, `POST ${path}`).to.equal(404);
				}
			}
			expect(await level(id)).to.deep.equal({ productId: id, onHand: 5, reserved: 0, available: 5 });
		});
	});
});
