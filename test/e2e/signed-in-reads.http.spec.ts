import { expect } from "chai";
import jwt from "jsonwebtoken";
import type { ProductDto } from "../../services/catalog/catalog.types";
import { adminToken, loginAs, newCustomer } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/**
 * Signed-in shoppers read the catalog's public routes from the gateway's kept responses, as anonymous ones
 * do, once the gateway has checked their token: the answer is the same for every caller. Everything that
 * depends on the caller (a token that is not valid, a cart, an account, a staff listing) never is.
 */
describe("signed-in reads of public routes", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let ana: { token: string; id: string; email: string };
	let bob: { token: string; id: string; email: string };
	let seq = 0;

	const category = () => `Signed ${process.pid} ${++seq}`;
	async function product(fields: Record<string, unknown> = {}): Promise<ProductDto> {
		const res = await request("POST", "/api/products", {
			token: admin,
			body: { sku: `SIGNED-${++seq}`, name: `Product ${seq}`, priceCents: 1000, category: category(), ...fields }
		});
		expect(res.status, JSON.stringify(res.body)).to.equal(201);
		return res.body;
	}
	/** Changes a product behind every cache's back: what is answered from a cache still shows the old name. */
	const renameInDatabase = (id: string, name: string) => db.query("UPDATE catalog.products SET name = $2 WHERE id = $1", [id, name]);
	const names = (res: { body: { items: ProductDto[] } }) => res.body.items.map(p => p.name);

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,identity,catalog,inventory,cart" }));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		ana = await newCustomer(request, "Ana");
		bob = await newCustomer(request, "Bob");
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("answer the same body as an anonymous read, never stored by browsers or proxies (Cache-Control: no-store)", async () => {
		const p = await product();
		const listing = `/api/products?category=${encodeURIComponent(p.category)}`;
		for (const path of [`/api/products/${p.id}`, listing, "/api/categories"]) {
			const anonymous = await request("GET", path);
			expect(anonymous.status, path).to.equal(200);
			expect(anonymous.headers.get("cache-control"), path).to.equal(null);
			for (let i = 0; i < 3; i++) {
				const signedIn = await request("GET", path, { token: ana.token });
				expect(signedIn.status, path).to.equal(200);
				expect(signedIn.body, path).to.deep.equal(anonymous.body);
				expect(signedIn.headers.get("content-type"), path).to.equal("application/json; charset=utf-8");
				expect(signedIn.headers.get("cache-control"), path).to.equal("no-store");
			}
		}
	});

	it("show a product change at once, as anonymous reads do", async () => {
		const p = await product({ name: "Before" });
		const listing = `/api/products?category=${encodeURIComponent(p.category)}`;
		expect((await request("GET", `/api/products/${p.id}`, { token: ana.token })).body.name).to.equal("Before");
		expect(names(await request("GET", listing, { token: ana.token }))).to.deep.equal(["Before"]);
		const patched = await request("PATCH", `/api/products/${p.id}`, { token: admin, body: { name: "After" } });
		expect(patched.status).to.equal(200);
		expect((await request("GET", `/api/products/${p.id}`, { token: ana.token })).body.name).to.equal("After");
		expect(names(await request("GET", listing, { token: ana.token }))).to.deep.equal(["After"]);

		// a change another catalog instance announces (catalog.cacheInvalidated) reaches signed-in readers too
		await renameInDatabase(p.id, "Elsewhere");
		expect((await request("GET", `/api/products/${p.id}`, { token: ana.token })).body.name, "kept until announced").to.equal("After");
		await shop.broker.broadcast("catalog.cacheInvalidated", {});
		expect((await request("GET", `/api/products/${p.id}`, { token: ana.token })).body.name).to.equal("Elsewhere");
	});

	it("refuse a token that is not valid (401), even for a URL whose response is kept", async () => {
		const p = await product();
		const path = `/api/products/${p.id}`;
		expect((await request("GET", path)).status).to.equal(200);
		expect((await request("GET", path, { token: ana.token })).status).to.equal(200);

		const [{ family_id: sessionId }] = await db.query<{ family_id: string }>("SELECT family_id FROM identity.refresh_tokens WHERE user_id = $1 LIMIT 1", [
			ana.id
		]);
		const now = Math.floor(Date.now() / 1000);
		const sign = (secret: string, exp: number) =>
			jwt.sign({ sid: sessionId, iat: now - 600, exp }, secret, { algorithm: "HS256", issuer: "momentum", audience: "momentum-api", subject: ana.id });
		const refused = {
			"not a token": "not-a-token",
			"signed with another secret": sign("x".repeat(40), now + 600),
			expired: sign(shop.config.identity.jwtSecret, now - 1),
			"ana's token, altered": ana.token.slice(0, -2) + (ana.token.endsWith("AA") ? "BB" : "AA")
		};
		for (const [what, token] of Object.entries(refused)) {
			const res = await request("GET", path, { token });
			expect(res.status, what).to.equal(401);
			expect(res.body.type, what).to.equal("INVALID_TOKEN");
		}
		expect((await request("GET", path, { headers: { authorization: `Basic ${Buffer.from("ana:pw").toString("base64")}` } })).status).to.equal(401);
		// the same secret, still valid: answered
		expect((await request("GET", path, { token: sign(shop.config.identity.jwtSecret, now + 600) })).status).to.equal(200);
	});

	it("stop at logout: a token the gateway had kept gets 401 on the next read", async () => {
		const p = await product();
		const path = `/api/products/${p.id}`;
		const session = (await request("POST", "/api/auth/login", { body: { email: ana.email, password: "password123" } })).body;
		expect((await request("GET", path, { token: session.accessToken })).status).to.equal(200);
		expect((await request("GET", path, { token: session.accessToken })).status).to.equal(200);
		const out = await request("POST", "/api/auth/logout", { token: session.accessToken, body: { refreshToken: session.refreshToken } });
		expect(out.status).to.equal(204);
		const after = await request("GET", path, { token: session.accessToken });
		expect(after.status).to.equal(401);
		expect(after.body.type).to.equal("INVALID_TOKEN");
		// her other session (the one she signed up with) goes on reading
		expect((await request("GET", path, { token: ana.token })).status).to.equal(200);
	});

	it("stop when a password change ends the other sessions: their kept token gets 401 on the next read", async () => {
		const carl = await newCustomer(request, "Carl");
		const laptop = await loginAs(request, carl.email, "password123");
		const p = await product();
		const path = `/api/products/${p.id}`;
		expect((await request("GET", path, { token: carl.token })).status).to.equal(200);
		expect((await request("GET", path, { token: carl.token })).status).to.equal(200);
		const changed = await request("POST", "/api/auth/change-password", {
			token: laptop,
			body: { currentPassword: "password123", newPassword: "another-password-456" }
		});
		expect(changed.status, JSON.stringify(changed.body)).to.equal(204);
		expect((await request("GET", path, { token: carl.token })).status).to.equal(401);
		expect((await request("GET", path, { token: laptop })).status).to.equal(200);
	});

	it("never answer a route that depends on the caller from kept responses: carts, the account, a staff listing", async () => {
		const [forAna, forBob] = [await product({ name: "Ana's mug" }), await product({ name: "Bob's mug" })];
		for (const [who, p] of [
			[ana, forAna],
			[bob, forBob]
		] as const) {
			const stocked = await request("POST", `/api/inventory/${p.id}/adjustments`, { token: admin, body: { delta: 5, reason: "test stock" } });
			expect(stocked.status, JSON.stringify(stocked.body)).to.equal(200);
			expect((await request("POST", "/api/cart/items", { token: who.token, body: { productId: p.id, quantity: 1 } })).status).to.equal(200);
		}
		for (let i = 0; i < 3; i++) {
			for (const [who, p] of [
				[ana, forAna],
				[bob, forBob]
			] as const) {
				const cart = await request("GET", "/api/cart", { token: who.token });
				expect(cart.body.items.map((l: { productId: string }) => l.productId)).to.deep.equal([p.id]);
				const me = await request("GET", "/api/auth/me", { token: who.token });
				expect(me.body.user.email).to.equal(who.email);
				expect(me.headers.get("cache-control")).to.equal("no-store");
			}
		}

		// the same staff member's public listing is kept; their staff listing is read afresh every time
		const p = await product({ name: "Staff sees" });
		const filter = `category=${encodeURIComponent(p.category)}`;
		expect(names(await request("GET", `/api/products?${filter}`, { token: admin }))).to.deep.equal(["Staff sees"]);
		expect(names(await request("GET", `/api/admin/products?${filter}`, { token: admin }))).to.deep.equal(["Staff sees"]);
		await renameInDatabase(p.id, "Renamed");
		expect(names(await request("GET", `/api/products?${filter}`, { token: admin })), "the public listing is kept").to.deep.equal(["Staff sees"]);
		expect(names(await request("GET", `/api/admin/products?${filter}`, { token: admin }))).to.deep.equal(["Renamed"]);
		// and a customer may not read it, kept or not
		expect((await request("GET", `/api/admin/products?${filter}`, { token: ana.token })).status).to.equal(403);
		expect((await request("GET", `/api/admin/products?${filter}`)).status).to.equal(401);
	});
});
