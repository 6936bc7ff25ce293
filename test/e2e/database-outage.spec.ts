import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../lib/embedded-postgres";
import { TEST_ADMIN, adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startNode, type NodeProc } from "../support/nodes";

/**
 * PostgreSQL crashes (`pg_ctl stop -m immediate`) under a shop that is taking orders, and comes back. The
 * node must ride it out: not ready and answering 503 with Retry-After while the database is away, its
 * pumps backing off, and ready again within seconds of the database's return, without a restart.
 */
describe("a PostgreSQL crash under a running shop", function () {
	this.timeout(180_000);
	let dir: string;
	let pg: EmbeddedServer;
	let shop: NodeProc;
	let request: ReturnType<typeof httpClient>;

	before(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-outage-pg-"));
		fs.chmodSync(dir, 0o755);
		pg = await startEmbeddedPostgres({ dataDir: dir, database: "momentum" });
		shop = await startNode("outage", "gateway,identity,catalog,inventory,cart,order,payment,notification", {
			DATABASE_URL: pg.url("momentum"),
			NODE_ENV: "test",
			JWT_SECRET: crypto.randomBytes(32).toString("hex"),
			BCRYPT_ROUNDS: "4",
			ADMIN_EMAIL: TEST_ADMIN.email,
			ADMIN_PASSWORD: TEST_ADMIN.password,
			EVENT_POLL_MS: "200",
			RATE_LIMIT_API: "off",
			RATE_LIMIT_AUTH: "off",
			LOG_LEVEL: "warn"
		});
		await shop.ready();
		request = httpClient(`http://127.0.0.1:${shop.httpPort}`);
		await eventually(async () => expect((await request("GET", "/api/products")).status).to.equal(200), 30_000, 200);
	});

	after(async () => {
		await shop?.stop("SIGKILL");
		await pg?.stop().catch(() => undefined);
		fs.rmSync(dir, { recursive: true, force: true });
	});

	const ready = async () => (await fetch(`http://127.0.0.1:${shop.healthPort}/health/ready`)).status;

	it("answers 503 with Retry-After and reports not ready while the database is down, and recovers on its own", async () => {
		let admin = await adminToken(request);
		const steps = checkoutSteps(request, () => admin);
		const productId = await steps.product(1500, 1000, "Outage");
		const customers = await Promise.all(Array.from({ length: 4 }, () => newCustomer(request)));

		// orders in flight when the database goes: the saga's pumps are busy
		let running = true;
		const load = Promise.all(
			customers.map(async c => {
				while (running) {
					await request("POST", "/api/cart/items", { token: c.token, body: { productId, quantity: 1 } }).catch(() => undefined);
					await steps.placeOrder(c.token).catch(() => undefined);
				}
			})
		);
		await eventually(async () => {
			const res = await request("GET", "/api/orders", { token: customers[0].token });
			expect(res.body.total).to.be.greaterThan(1);
		});

		await pg.crash();
		await eventually(async () => expect(await ready()).to.equal(503), 15_000, 100);
		// a read the caches cannot answer, and a write
		const read = await eventually(
			async () => {
				const res = await request("GET", `/api/products?search=outage${crypto.randomUUID().slice(0, 8)}`);
				expect(res.status, JSON.stringify(res.body)).to.equal(503);
				return res;
			},
			15_000,
			100
		);
		expect(read.body).to.include({ type: "DATABASE_UNAVAILABLE", code: 503 });
		expect(Number(read.headers.get("retry-after"))).to.be.greaterThan(0);
		const write = await request("POST", "/api/cart/items", { token: customers[1].token, body: { productId, quantity: 1 } });
		expect(write.status).to.equal(503);
		// still down a while later, and the node still running
		await eventually(async () => expect((await request("GET", "/api/cart", { token: customers[2].token })).status).to.equal(503), 10_000, 100);
		expect(shop.running(), shop.output()).to.equal(true);

		await pg.restart();
		await eventually(async () => expect(await ready()).to.equal(200), 30_000, 200);
		running = false;
		await load;
		expect(shop.running(), shop.output()).to.equal(true);

		// every order placed before, during and after ends, and a new one confirms
		admin = await adminToken(request);
		const mine = await request("GET", "/api/orders?pageSize=100", { token: admin });
		expect(mine.status).to.equal(200);
		const c = await newCustomer(request);
		await steps.addToCart(c.token, productId, 1);
		const placed = await steps.placeOrder(c.token);
		expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
		expect((await steps.settled(c.token, placed.body.order.id, undefined, 30_000)).status).to.equal("CONFIRMED");
		for (const customer of customers) {
			const orders = (await request("GET", "/api/orders?pageSize=100", { token: customer.token })).body.items as { id: string }[];
			await Promise.all(orders.map(o => steps.settled(customer.token, o.id, undefined, 60_000)));
		}
		expect(shop.output()).to.not.include("Unhandled promise rejection");
	});
});
