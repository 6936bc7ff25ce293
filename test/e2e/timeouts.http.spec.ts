import { expect } from "chai";
import { Client } from "pg";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** A call gives up when its kind of work should have finished: a catalog read after 5 s, not the 30 s it used to wait. */
describe("per-action timeouts", function () {
	this.timeout(20_000);
	let db: TestDatabase;
	let shop: RunningShop;

	before(async function () {
		this.timeout(60_000);
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,catalog,inventory" }));
	});

	after(async function () {
		this.timeout(60_000);
		await shop?.stop();
		await db?.drop();
	});

	it("answers a catalog read that cannot finish with 504 REQUEST_TIMEOUT within its 5 s", async () => {
		const request = httpClient(shop.baseUrl);
		const blocker = new Client({ connectionString: db.url });
		await blocker.connect();
		try {
			await blocker.query("BEGIN");
			await blocker.query("LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE");
			const res = await request("GET", "/api/products?search=blocked");
			expect(res.status, JSON.stringify(res.body)).to.equal(504);
			expect(res.body.type).to.equal("REQUEST_TIMEOUT");
		} finally {
			await blocker.query("ROLLBACK").catch(() => undefined);
			await blocker.end();
		}
		expect((await request("GET", "/api/products?search=free")).status).to.equal(200);
	});
});
