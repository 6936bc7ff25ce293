import { expect } from "chai";
import zlib from "node:zlib";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** How the gateway serves the storefront and the admin (services/gateway/gateway.pages.ts), and the staff-only saga route. */
describe("the shop's pages over HTTP", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db));
		request = httpClient(shop.baseUrl);
	});
	after(async () => {
		await shop?.stop().catch(() => undefined);
		await db?.drop();
	});

	const get = (path: string, headers: Record<string, string> = {}) => fetch(`${shop.baseUrl}${path}`, { headers });

	it("answers the storefront at / and at each of its routes, the admin at /admin and below, under the pages' CSP", async () => {
		const home = await get("/");
		expect(home.status).to.equal(200);
		expect(home.headers.get("content-type")).to.equal("text/html; charset=utf-8");
		const csp = home.headers.get("content-security-policy")!;
		expect(csp).to.contain("script-src 'self'");
		expect(csp).to.not.contain("unsafe-inline");
		expect(home.headers.get("x-frame-options")).to.equal("DENY");
		const html = await home.text();
		expect(html).to.contain("/assets/storefront/app.js");
		// a mailed link lands on a page, not a 404
		for (const path of ["/products/7b1f5d0e-3c1a-4e7e-9d55-2f1f0f4f7c11", "/cart", "/orders", "/verify-email", "/reset-password"]) {
			const res = await get(`${path}?token=abc`);
			expect(res.status, path).to.equal(200);
			expect(await res.text(), path).to.equal(html);
		}
		for (const path of ["/admin", "/admin/", "/admin/orders/7b1f5d0e-3c1a-4e7e-9d55-2f1f0f4f7c11"]) {
			const res = await get(path);
			expect(res.status, path).to.equal(200);
			expect(await res.text(), path).to.contain("/assets/admin/app.js");
		}
	});

	it("serves the assets gzipped with an ETag, answers 304 when nothing changed, and nothing outside web/", async () => {
		const plain = await fetch(`${shop.baseUrl}/assets/shared/api.js`, { headers: { "accept-encoding": "identity" } });
		expect(plain.status).to.equal(200);
		expect(plain.headers.get("content-type")).to.equal("text/javascript; charset=utf-8");
		expect(plain.headers.get("content-encoding")).to.equal(null);
		const source = Buffer.from(await plain.arrayBuffer());
		expect(source.toString("utf8")).to.contain("export async function api(");

		const node = await import("node:http");
		const gz = await new Promise<{ status: number; encoding?: string; body: Buffer }>((resolve, reject) => {
			node.get(`${shop.baseUrl}/assets/shared/api.js`, { headers: { "accept-encoding": "gzip" } }, res => {
				const chunks: Buffer[] = [];
				res.on("data", (c: Buffer) => chunks.push(c));
				res.on("end", () => resolve({ status: res.statusCode!, encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }));
			}).on("error", reject);
		});
		expect(gz.status).to.equal(200);
		expect(gz.encoding).to.equal("gzip");
		expect(gz.body.length).to.be.lessThan(source.length);
		expect(zlib.gunzipSync(gz.body).equals(source)).to.equal(true);

		const etag = plain.headers.get("etag")!;
		const again = await get("/assets/shared/api.js", { "if-none-match": etag });
		expect(again.status).to.equal(304);

		for (const path of [
			"/assets/shared/../../package.json",
			"/assets/%2e%2e/package.json",
			"/assets/shared/missing.js",
			"/assets/shared/API.JS",
			"/assets/other/x.js",
			"/package.json",
			"/no-such-page"
		]) {
			const res = await get(path);
			expect(res.status, path).to.equal(404);
		}
		// pages are read-only
		expect((await fetch(`${shop.baseUrl}/`, { method: "POST" })).status).to.equal(404);
	});

	it("shows an order's saga to staff holding order.view, and to no one else", async () => {
		let admin = "";
		const steps = checkoutSteps(request, () => admin);
		admin = await adminToken(request);
		const product = await steps.product(1500, 5, "Saga lamp");
		const customer = await newCustomer(request);
		await steps.addToCart(customer.token, product, 1);
		const placed = await steps.placeOrder(customer.token);
		expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
		const id = placed.body.order.id as string;
		await steps.settled(customer.token, id);

		const saga = await request("GET", `/api/orders/${id}/saga`, { token: admin });
		expect(saga.status).to.equal(200);
		expect(saga.body.order.id).to.equal(id);
		const events = (saga.body.events as { service: string; direction: string; event: string }[]).map(e => `${e.service} ${e.direction} ${e.event}`);
		expect(events).to.include("order sent order.created");
		expect(events).to.include("inventory received order.created");
		expect(saga.body.unreachable).to.deep.equal([]);

		// the customer owns the order but not the permission: the trail is for staff
		expect((await request("GET", `/api/orders/${id}/saga`, { token: customer.token })).status).to.equal(403);
		expect((await request("GET", `/api/orders/${id}/saga`)).status).to.equal(401);
		expect((await request("GET", `/api/orders/00000000-0000-4000-8000-000000000000/saga`, { token: admin })).status).to.equal(404);
	});
});

describe("PAGES=off", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,catalog", PAGES: "off" }));
	});
	after(async () => {
		await shop?.stop().catch(() => undefined);
		await db?.drop();
	});

	it("serves the API only", async () => {
		for (const path of ["/", "/admin", "/assets/shared/api.js"]) expect((await fetch(`${shop.baseUrl}${path}`)).status, path).to.equal(404);
		expect((await fetch(`${shop.baseUrl}/api/products`)).status).to.equal(200);
	});
});
