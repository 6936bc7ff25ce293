import { compileErrors, validate } from "@readme/openapi-parser";
import { expect } from "chai";
import { publishedRoutes } from "../../app/services";
import { openApiPath } from "../../lib/openapi";
import { adminToken, newCustomer, uniqueEmail } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient, type RequestOptions } from "../support/http";
import { validateAgainstOpenApi, validatedResponses, type OpenApiDoc } from "../support/openapi";
import { startShop, testConfig, type RunningShop } from "../support/shop";

const SERVICES = "gateway,identity,catalog,inventory,cart,order,payment";
const UNKNOWN = "6f1c1e2a-0d55-4d35-9a4a-2b8f6f3e1f6f";

describe("the API reference (/api/openapi.json, /api/docs)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let steps: ReturnType<typeof checkoutSteps>;
	let doc: OpenApiDoc;
	const checkedHere = () => validatedResponses() - before0;
	let before0 = 0;

	/** A request whose answer must be one the document declares for the route, with a body matching its schema. */
	async function checked(method: string, path: string, opts: RequestOptions = {}) {
		const res = await request(method, path, opts);
		validateAgainstOpenApi(doc, method, path, res.status, res.body);
		return res;
	}

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES, EVENT_POLL_MS: "100" }));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		steps = checkoutSteps(request, () => admin);
		const res = await request("GET", "/api/openapi.json");
		expect(res.status).to.equal(200);
		doc = res.body as OpenApiDoc;
		before0 = validatedResponses();
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	describe("GET /api/openapi.json", () => {
		it("answers a valid OpenAPI 3.1 document to anyone, cacheable, with an ETag that answers 304", async () => {
			const res = await request("GET", "/api/openapi.json");
			expect(res.status).to.equal(200);
			expect(res.headers.get("content-type")).to.match(/^application\/json/);
			expect(res.headers.get("cache-control")).to.match(/^public, max-age=\d+$/);
			expect(res.headers.get("x-content-type-options")).to.equal("nosniff");
			const result = await validate(structuredClone(res.body));
			expect(result.valid, result.valid ? "" : compileErrors(result)).to.equal(true);
			const etag = res.headers.get("etag");
			expect(etag).to.be.a("string");
			const again = await fetch(`${shop.baseUrl}/api/openapi.json`, { headers: { "if-none-match": etag! } });
			expect(again.status).to.equal(304);
		});

		it("has every route the shop publishes, whether or not this node runs its service", () => {
			const published = publishedRoutes(shop.config).map(r => `${r.method} ${openApiPath(r.path)}`);
			const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map(m => `${m.toUpperCase()} ${path}`));
			expect(documented.sort()).to.deep.equal([...new Set(published)].sort());
			// notification does not run here; its routes are documented all the same
			expect(Object.keys(doc.paths).some(p => p.startsWith("/api/notifications"))).to.equal(true);
		});
	});

	describe("real answers match the document", () => {
		it("catalog: list, get, categories, and its errors (404, 422)", async () => {
			const id = await steps.product(1250, 3, "Reference mug");
			const list = await checked("GET", "/api/products?pageSize=5&sort=-createdAt");
			expect(list.status).to.equal(200);
			expect(list.body.items.length).to.be.greaterThan(0);
			expect((await checked("GET", `/api/products/${id}`)).body.id).to.equal(id);
			expect((await checked("GET", "/api/categories")).status).to.equal(200);
			const missing = await checked("GET", `/api/products/${UNKNOWN}`);
			expect(missing.status).to.equal(404);
			expect(missing.body.type).to.equal("NOT_FOUND");
			const bad = await checked("GET", "/api/products?pageSize=1000");
			expect(bad.status).to.equal(422);
			expect(bad.body.type).to.equal("VALIDATION_ERROR");
			expect((await checked("GET", "/api/products/not-a-uuid")).status).to.equal(422);
		});

		it("cart and orders: 401 without a token, a cart, a placed order, its replay, the order and the list", async () => {
			const ana = await newCustomer(request, "Ana");
			expect((await checked("GET", "/api/cart")).status).to.equal(401);
			const pen = await steps.product(399, 5, "Reference pen");
			const added = await checked("POST", "/api/cart/items", { token: ana.token, body: { productId: pen, quantity: 2 } });
			expect(added.status).to.equal(200);
			expect(added.body.totalCents).to.equal(798);
			expect((await checked("PATCH", `/api/cart/items/${pen}`, { token: ana.token, body: { quantity: 3 } })).body.items[0].quantity).to.equal(3);
			expect((await checked("POST", "/api/cart/items", { token: ana.token, body: { productId: pen, quantity: 99 } })).status).to.be.oneOf([409, 422]);
			expect((await checked("GET", "/api/cart", { token: ana.token })).body.items).to.have.length(1);

			const key = `reference-${process.pid}-${Date.now()}`;
			const body = { paymentToken: "tok_visa" };
			const placed = await checked("POST", "/api/orders", { token: ana.token, body, headers: { "idempotency-key": key } });
			expect(placed.status).to.equal(201);
			const replay = await checked("POST", "/api/orders", { token: ana.token, body, headers: { "idempotency-key": key } });
			expect(replay.status).to.equal(201);
			expect(replay.headers.get("idempotent-replayed")).to.equal("true");
			expect(replay.body.order.id).to.equal(placed.body.order.id);
			const id = placed.body.order.id as string;

			const settled = await eventually(async () => {
				const res = await checked("GET", `/api/orders/${id}`, { token: ana.token });
				expect(res.body.order.status).to.equal("CONFIRMED");
				return res.body.order;
			}, 15_000);
			expect(settled.paymentStatus).to.equal("SUCCEEDED");
			const paid = await checked("GET", `/api/payments?orderId=${id}`, { token: ana.token });
			expect(paid.body.items.map((p: { status: string }) => p.status)).to.deep.equal(["SUCCEEDED"]);
			const listed = await checked("GET", "/api/orders?pageSize=10", { token: ana.token });
			expect(listed.body.items.map((o: { id: string }) => o.id)).to.include(id);
			expect((await checked("GET", `/api/orders/${UNKNOWN}`, { token: ana.token })).status).to.equal(404);
			expect((await checked("POST", "/api/orders", { token: ana.token, body })).body.type).to.equal("EMPTY_CART");
		});

		it("identity: register, login, a wrong password, refresh, me and logout", async () => {
			const email = uniqueEmail("reference");
			const registered = await checked("POST", "/api/auth/register", { body: { email, password: "password123", name: "Ref" } });
			expect(registered.status).to.equal(201);
			expect((await checked("POST", "/api/auth/register", { body: { email, password: "password123", name: "Ref" } })).status).to.equal(409);
			expect((await checked("POST", "/api/auth/login", { body: { email, password: "wrong-password" } })).status).to.equal(401);
			const login = await checked("POST", "/api/auth/login", { body: { email, password: "password123" } });
			expect(login.status).to.equal(200);
			const refreshed = await checked("POST", "/api/auth/refresh", { body: { refreshToken: login.body.refreshToken } });
			expect(refreshed.status).to.equal(200);
			const me = await checked("GET", "/api/auth/me", { token: refreshed.body.accessToken });
			expect(me.body.user.email).to.equal(email);
			const out = await checked("POST", "/api/auth/logout", { token: refreshed.body.accessToken, body: { refreshToken: refreshed.body.refreshToken } });
			expect(out.status).to.equal(204);
		});

		it("an admin route: 403 for a customer, 201 for the admin", async () => {
			const bob = await newCustomer(request, "Bob");
			const product = { sku: `REF-${process.pid}-${Date.now()}`, name: "Reference lamp", priceCents: 4500, category: "Test" };
			const refused = await checked("POST", "/api/products", { token: bob.token, body: product });
			expect(refused.status).to.equal(403);
			const created = await checked("POST", "/api/products", { token: admin, body: product });
			expect(created.status).to.equal(201);
			expect((await checked("POST", "/api/products", { token: admin, body: product })).body.type).to.equal("SKU_TAKEN");
		});

		it("identity's admin and session routes: users, roles, permissions, sessions", async () => {
			const carol = await newCustomer(request, "Carol");
			expect((await checked("GET", "/api/admin/users?pageSize=5", { token: carol.token })).status).to.equal(403);
			const users = await checked("GET", "/api/admin/users?pageSize=5", { token: admin });
			expect(users.body.items.length).to.be.greaterThan(0);
			expect((await checked("GET", `/api/admin/users/${carol.id}`, { token: admin })).body.user.permissions).to.be.an("array");
			const roles = await checked("GET", "/api/admin/roles", { token: admin });
			const role = roles.body.items[0] as { id: string };
			expect((await checked("GET", `/api/admin/roles/${role.id}`, { token: admin })).body.role.id).to.equal(role.id);
			expect((await checked("GET", "/api/admin/permissions", { token: admin })).body.items.length).to.be.greaterThan(0);
			const sessions = await checked("GET", "/api/auth/sessions", { token: carol.token });
			expect(sessions.body.items.filter((x: { current: boolean }) => x.current)).to.have.length(1);
		});

		it("counts the responses it checked", () => {
			// every `checked` call above went through validateAgainstOpenApi; fewer means one was skipped
			expect(checkedHere()).to.be.at.least(30);
			console.log(`      ${checkedHere()} responses validated against the OpenAPI document`);
		});

		it("fails a response the document does not declare (the check itself works)", () => {
			expect(() => validateAgainstOpenApi(doc, "GET", "/api/products", 418, {})).to.throw(/does not declare/);
			expect(() => validateAgainstOpenApi(doc, "GET", `/api/products/${UNKNOWN}`, 200, { id: UNKNOWN })).to.throw(/does not match/);
			expect(() => validateAgainstOpenApi(doc, "GET", "/api/nowhere", 200, {})).to.throw(/not in the OpenAPI document/);
		});
	});

	describe("GET /api/docs", () => {
		it("answers an HTML page under a strict CSP whose scripts, styles and icon all load from this gateway", async () => {
			const res = await fetch(`${shop.baseUrl}/api/docs`);
			expect(res.status).to.equal(200);
			expect(res.headers.get("content-type")).to.match(/^text\/html/);
			const csp = res.headers.get("content-security-policy") ?? "";
			expect(csp).to.contain("default-src 'none'");
			expect(csp).to.contain("script-src 'self'");
			expect(csp).to.contain("frame-ancestors 'none'");
			expect(csp).to.not.match(/unsafe-eval|https?:/);
			expect(res.headers.get("x-frame-options")).to.equal("DENY");
			expect(res.headers.get("cache-control")).to.match(/^public/);
			const html = await res.text();
			const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(m => m[1]);
			expect(assets).to.have.length.at.least(4);
			const types: Record<string, RegExp> = { js: /^text\/javascript/, css: /^text\/css/, png: /^image\/png/ };
			for (const asset of assets) {
				expect(asset, "no asset from another origin").to.match(/^\/api\/docs\//);
				const loaded = await fetch(shop.baseUrl + asset);
				expect(loaded.status, asset).to.equal(200);
				expect(loaded.headers.get("content-type"), asset).to.match(types[asset.split(".").pop()!]);
				expect((await loaded.arrayBuffer()).byteLength, asset).to.be.greaterThan(100);
			}
			const init = await (await fetch(`${shop.baseUrl}/api/docs/init.js`)).text();
			expect(init).to.contain('"/api/openapi.json"');
		});

		it("serves only the page's own files: another file of the package, or a path out of it, is 404", async () => {
			for (const path of ["/api/docs/package.json", "/api/docs/..%2F..%2Fpackage.json", "/api/docs/index.html", "/api/docs/swagger-ui-bundle.js.map"]) {
				const res = await fetch(shop.baseUrl + path);
				expect(res.status, path).to.equal(404);
				expect(((await res.json()) as { type: string }).type).to.equal("NOT_FOUND");
			}
		});
	});
});
