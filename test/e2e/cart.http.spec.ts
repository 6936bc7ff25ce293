import { expect } from "chai";
import { adminToken, newCustomer } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

describe("REST cart through the gateway", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let ana: { token: string };
	let bob: { token: string };
	let seq = 0;

	/** A product in the catalog with `stock` units on hand. */
	async function product(priceCents: number, stock: number, name = "Product"): Promise<string> {
		const created = await request("POST", "/api/products", {
			token: admin,
			body: { sku: `CART-${process.pid}-${++seq}`, name: `${name} ${seq}`, priceCents, category: "Test" }
		});
		expect(created.status, JSON.stringify(created.body)).to.equal(201);
		if (stock > 0) {
			const adjusted = await request("POST", `/api/inventory/${created.body.id}/adjustments`, {
				token: admin,
				body: { delta: stock, reason: "test stock" }
			});
			expect(adjusted.status, JSON.stringify(adjusted.body)).to.equal(200);
		}
		return created.body.id;
	}
	const cart = (token: string) => request("GET", "/api/cart", { token });
	const add = (token: string, productId: unknown, quantity: unknown) => request("POST", "/api/cart/items", { token, body: { productId, quantity } });
	const set = (token: string, productId: string, quantity: unknown) => request("PATCH", `/api/cart/items/${productId}`, { token, body: { quantity } });

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,identity,catalog,inventory,cart", CART_MAX_QUANTITY: "5" }));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		ana = await newCustomer(request, "Ana");
		bob = await newCustomer(request, "Bob");
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	afterEach(async () => {
		for (const who of [ana, bob]) if (who) await request("DELETE", "/api/cart", { token: who.token });
	});

	it("needs a signed-in user on every route", async () => {
		const id = "6f1c1e2a-0d55-4d35-9a4a-2b8f6f3e1f6f";
		for (const [method, path] of [
			["GET", "/api/cart"],
			["POST", "/api/cart/items"],
			["PATCH", `/api/cart/items/${id}`],
			["DELETE", `/api/cart/items/${id}`],
			["DELETE", "/api/cart"]
		]) {
			expect((await request(method, path, { body: method === "GET" ? undefined : { productId: id, quantity: 1 } })).status, `${method} ${path}`).to.equal(
				401
			);
		}
	});

	it("starts empty, in the store currency", async () => {
		const res = await cart(ana.token);
		expect(res.status).to.equal(200);
		expect(res.body).to.deep.equal({ items: [], totalCents: 0, currency: "BRL" });
	});

	it("adds lines with current prices and availability, increments an existing line, and totals in cents", async () => {
		const mug = await product(2590, 10, "Mug");
		const pen = await product(399, 3, "Pen");
		await add(ana.token, mug, 1);
		await add(ana.token, pen, 2);
		const res = await add(ana.token, mug, 2);
		expect(res.status).to.equal(200);
		expect(res.body.items).to.have.length(2);
		const [mugLine, penLine] = res.body.items;
		expect(mugLine).to.include({ productId: mug, quantity: 3, unitPriceCents: 2590, lineTotalCents: 7770, available: 10 });
		expect(mugLine.sku).to.match(/^CART-/);
		expect(mugLine.name).to.match(/^Mug/);
		expect(penLine).to.include({ productId: pen, quantity: 2, lineTotalCents: 798, available: 3 });
		expect(res.body.totalCents).to.equal(7770 + 798);
		expect((await cart(ana.token)).body).to.deep.equal(res.body);
	});

	it("refuses unknown and archived products with 404, and malformed input with 422", async () => {
		expect((await add(ana.token, "6f1c1e2a-0d55-4d35-9a4a-2b8f6f3e1f6f", 1)).status).to.equal(404);
		const gone = await product(100, 5);
		expect((await request("DELETE", `/api/products/${gone}`, { token: admin })).status).to.equal(204);
		expect((await add(ana.token, gone, 1)).status).to.equal(404);

		const ok = await product(100, 5);
		expect((await add(ana.token, "not-a-uuid", 1)).status).to.equal(422);
		for (const quantity of [0, -1, 1.5, "2", null]) {
			const res = await add(ana.token, ok, quantity);
			expect(res.status, `quantity ${JSON.stringify(quantity)}`).to.equal(422);
		}
		expect((await cart(ana.token)).body.items).to.have.length(0);
	});

	it("refuses more units than the per-line maximum (422) or than the stock (409), changing nothing", async () => {
		const plenty = await product(100, 50);
		await add(ana.token, plenty, 4);
		const overMax = await add(ana.token, plenty, 2);
		expect(overMax.status).to.equal(422);
		expect((await add(ana.token, plenty, 6)).status).to.equal(422);

		const scarce = await product(100, 2);
		const overStock = await add(ana.token, scarce, 3);
		expect(overStock.status).to.equal(409);
		expect(overStock.body).to.include({ type: "INSUFFICIENT_STOCK" });
		expect(overStock.body.data.shortages).to.deep.equal([{ productId: scarce, requested: 3, available: 2 }]);

		const items = (await cart(ana.token)).body.items;
		expect(items.map((i: { productId: string; quantity: number }) => [i.productId, i.quantity])).to.deep.equal([[plenty, 4]]);
	});

	it("sets a quantity with PATCH, removes the line at 0, and answers 404 for a line not in the cart", async () => {
		const p = await product(1000, 4);
		await add(ana.token, p, 1);
		const updated = await set(ana.token, p, 3);
		expect(updated.status).to.equal(200);
		expect(updated.body.items[0]).to.include({ quantity: 3, lineTotalCents: 3000 });
		expect((await set(ana.token, p, 5)).status).to.equal(409);
		expect((await set(ana.token, p, 6)).status).to.equal(422);
		const removed = await set(ana.token, p, 0);
		expect(removed.status).to.equal(200);
		expect(removed.body.items).to.deep.equal([]);
		expect((await set(ana.token, p, 1)).status).to.equal(404);
	});

	it("deletes one line, or empties the whole cart", async () => {
		const a = await product(100, 5);
		const b = await product(200, 5);
		await add(ana.token, a, 1);
		await add(ana.token, b, 1);
		const afterDelete = await request("DELETE", `/api/cart/items/${a}`, { token: ana.token });
		expect(afterDelete.status).to.equal(200);
		expect(afterDelete.body.items.map((i: { productId: string }) => i.productId)).to.deep.equal([b]);
		const emptied = await request("DELETE", "/api/cart", { token: ana.token });
		expect(emptied.status).to.equal(200);
		expect(emptied.body).to.include({ totalCents: 0 });
		expect(emptied.body.items).to.deep.equal([]);
	});

	it("shows the current price after the catalog changes it, and drops a product once it is archived", async () => {
		const p = await product(500, 5);
		const q = await product(700, 5);
		await add(ana.token, p, 2);
		await add(ana.token, q, 1);
		expect((await request("PATCH", `/api/products/${p}`, { token: admin, body: { priceCents: 450 } })).status).to.equal(200);
		const repriced = (await cart(ana.token)).body;
		expect(repriced.items[0]).to.include({ unitPriceCents: 450, lineTotalCents: 900 });
		expect(repriced.totalCents).to.equal(900 + 700);

		expect((await request("DELETE", `/api/products/${q}`, { token: admin })).status).to.equal(204);
		const afterArchive = (await cart(ana.token)).body;
		expect(afterArchive.items.map((i: { productId: string }) => i.productId)).to.deep.equal([p]);
		expect(afterArchive.totalCents).to.equal(900);
	});

	it("keeps each shopper's cart to themselves", async () => {
		const p = await product(100, 10);
		await add(ana.token, p, 2);
		expect((await cart(bob.token)).body.items).to.deep.equal([]);
		// Bob's edits act on Bob's cart only
		expect((await set(bob.token, p, 1)).status).to.equal(404);
		await request("DELETE", `/api/cart/items/${p}`, { token: bob.token });
		await request("DELETE", "/api/cart", { token: bob.token });
		expect((await cart(ana.token)).body.items[0]).to.include({ productId: p, quantity: 2 });
	});

	it("lets other services read and empty a user's cart, but not over HTTP", async () => {
		const p = await product(100, 10);
		await add(ana.token, p, 1);
		const me = await request("GET", "/api/auth/me", { token: ana.token });
		const userId = me.body.user.id as string;
		const viaBroker = await shop.broker.call<{ items: unknown[] }, object>("cart.getForUser", { userId });
		expect(viaBroker.items).to.have.length(1);
		expect((await request("POST", "/api/cart/clearForUser", { token: ana.token, body: { userId } })).status).to.equal(404);
		await shop.broker.call("cart.clearForUser", { userId });
		expect((await cart(ana.token)).body.items).to.deep.equal([]);
	});
});
