import { expect } from "chai";
import type { Service } from "moleculer";
import type { DbThis } from "../../lib/mixins/db.mixin";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

describe("health probes", () => {
	let db: TestDatabase;
	let shop: RunningShop;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,identity,catalog" }));
	});
	after(async () => {
		await shop?.stop().catch(() => undefined);
		await db?.drop();
	});

	it("is ready while every local database answers, and answers 503 naming the service whose database does not", async () => {
		const request = httpClient(shop.baseUrl);
		const ready = await request("GET", "/health/ready");
		expect(ready.status).to.equal(200);
		expect(ready.body.services).to.deep.equal({ identity: "up", catalog: "up" });

		// catalog loses its database
		const catalog = shop.broker.getLocalService("catalog") as Service & DbThis;
		await catalog.db.sequelize.close();

		const notReady = await request("GET", "/health/ready");
		expect(notReady.status).to.equal(503);
		expect(notReady.body.services).to.deep.equal({ identity: "up", catalog: "down" });
		// the process itself is alive
		expect((await request("GET", "/health/live")).status).to.equal(200);
	});
});
