import { expect } from "chai";
import { startHealthServer, type HealthServer } from "../../lib/health";
import { readConfig } from "../../app/read-config";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";

describe("node health probes (HEALTH_PORT)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let health: HealthServer;
	const get = (path: string, method = "GET") => fetch(`http://127.0.0.1:${health.port}${path}`, { method });

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "catalog,cart" }));
		health = await startHealthServer(shop.broker, 0, "127.0.0.1");
	});
	after(async () => {
		await health?.close();
		await shop?.stop();
		await db?.drop();
	});

	it("answers live, and ready with each local service's database reachable", async () => {
		expect((await get("/health/live")).status).to.equal(200);
		const ready = await get("/health/ready");
		expect(ready.status).to.equal(200);
		expect(await ready.json()).to.deep.include({ status: "ready", services: { catalog: "up", cart: "up" } });
	});

	it("refuses other paths and methods", async () => {
		expect((await get("/health")).status).to.equal(404);
		expect((await get("/health/ready", "POST")).status).to.equal(405);
	});

	it("answers 503 once the node is leaving, so balancers stop sending to it", async () => {
		health.markStopping();
		const res = await get("/health/ready");
		expect(res.status).to.equal(503);
		expect(await res.json()).to.deep.include({ status: "not ready", services: { catalog: "stopping", cart: "stopping" } });
		expect((await get("/health/live")).status).to.equal(200);
	});
});

describe("a REPL joining a cluster", () => {
	const saved = { ...process.env };
	afterEach(() => {
		for (const k of ["TRANSPORTER", "SERVICES", "JWT_SECRET"]) {
			if (saved[k] === undefined) delete process.env[k];
			else process.env[k] = saved[k];
		}
	});

	it("runs no services of its own unless SERVICES names some", () => {
		process.env.JWT_SECRET = "a-test-secret-that-is-long-enough-for-anything-0123456789"; // no development secret file is written
		process.env.TRANSPORTER = "nats://127.0.0.1:4222";
		delete process.env.SERVICES;
		expect(readConfig({ repl: true }).services).to.deep.equal([]);
		expect(readConfig({ repl: false }).services.length, "npm start on a cluster runs everything").to.equal(8);
		process.env.SERVICES = "order";
		expect(readConfig({ repl: true }).services).to.deep.equal(["order"]);
		delete process.env.TRANSPORTER;
		delete process.env.SERVICES;
		expect(readConfig({ repl: true }).services.length, "without a cluster the REPL runs the shop").to.equal(8);
	});
});
