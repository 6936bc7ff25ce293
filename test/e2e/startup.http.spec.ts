import { expect } from "chai";
import { setWarmingUp } from "../../lib/health";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** A development start seeds the demo catalog after the services are up (app/main.ts): meanwhile, 503, not half a catalog. */
describe("a node still warming up", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db));
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("answers the API with 503 and Retry-After, and is not ready, until it is done; then serves", async () => {
		const request = httpClient(shop.baseUrl);
		setWarmingUp(shop.broker, true);
		try {
			const busy = await request("GET", "/api/products");
			expect(busy.status).to.equal(503);
			expect(busy.headers.get("retry-after")).to.equal("1");
			expect(busy.body).to.include({ type: "SERVICE_UNAVAILABLE" });
			expect(busy.body.requestId).to.equal(busy.headers.get("x-request-id"));
			expect((await request("GET", "/health/ready")).status).to.equal(503);
			// liveness is not readiness: the process is fine
			expect((await request("GET", "/health/live")).status).to.equal(200);
		} finally {
			setWarmingUp(shop.broker, false);
		}
		expect((await request("GET", "/api/products")).status).to.equal(200);
		expect((await request("GET", "/health/ready")).status).to.equal(200);
	});
});
