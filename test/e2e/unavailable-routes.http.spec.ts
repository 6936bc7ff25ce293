import crypto from "node:crypto";
import { expect } from "chai";
import { publishedRoutes } from "../../app/services";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/**
 * A gateway that has not met a service yet (it started first, or the service's nodes are restarting) answers
 * that service's routes with 503 and Retry-After, which clients retry, never with the final 404 of a route
 * that does not exist.
 */
describe("routes whose service is not there yet", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let gateway: RunningShop;
	let request: ReturnType<typeof httpClient>;

	before(async () => {
		db = await createTestDatabase();
		gateway = await startShop(testConfig(db, { SERVICES: "gateway" }));
		request = httpClient(gateway.baseUrl);
	});

	after(async () => {
		await gateway?.stop();
		await db?.drop();
	});

	it("answers 503 SERVICE_UNAVAILABLE with Retry-After for a route that exists, whatever its service", async () => {
		for (const [method, path] of [
			["GET", "/api/products"],
			["GET", `/api/products/${crypto.randomUUID()}`],
			["POST", "/api/orders"],
			["POST", "/api/auth/login"],
			["GET", "/api/cart"],
			["POST", `/api/orders/${crypto.randomUUID()}/cancel`]
		]) {
			const res = await request(method, path, method === "POST" ? { body: {} } : {});
			expect(res.status, `${method} ${path}`).to.equal(503);
			expect(res.body.type).to.equal("SERVICE_UNAVAILABLE");
			expect(res.headers.get("retry-after")).to.equal("1");
		}
	});

	it("still answers 404 for a route no service publishes, or the wrong method", async () => {
		expect((await request("GET", "/api/nothing-here")).status).to.equal(404);
		expect((await request("DELETE", "/api/orders")).status).to.equal(404);
		expect((await request("GET", "/api/PRODUCTS")).status).to.equal(404);
	});

	it("knows every route the services publish", () => {
		const routes = publishedRoutes(gateway.config).map(r => `${r.method} ${r.path}`);
		expect(routes).to.include.members([
			"POST /api/auth/login",
			"GET /api/products/:id",
			"POST /api/orders/:id/cancel",
			"POST /api/admin/dead-letters/:id/replay"
		]);
	});
});
