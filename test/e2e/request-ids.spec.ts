import crypto from "node:crypto";
import { expect } from "chai";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { until } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the Console logger printed while `fn` ran (the logger writes through console.*). */
function captureConsole(): { lines: string[]; restore(): void } {
	const lines: string[] = [];
	const methods = ["log", "info", "warn", "error", "debug", "trace"] as const;
	const saved = methods.map(m => console[m]);
	for (const m of methods) console[m] = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
	return {
		lines,
		restore: () => methods.forEach((m, i) => (console[m] = saved[i]))
	};
}

describe("request ids and JSON logs", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let capture: ReturnType<typeof captureConsole>;

	before(async () => {
		db = await createTestDatabase();
		capture = captureConsole();
		shop = await startShop(testConfig(db, { LOG_FORMAT: "json", LOG_LEVEL: "info", EVENT_POLL_MS: "100" }));
	});
	after(async () => {
		await shop?.stop();
		capture?.restore();
		await db?.drop();
	});

	it("answers every request with X-Request-Id: the caller's when usable, else a new one", async () => {
		const request = httpClient(shop.baseUrl);
		const mine = crypto.randomUUID();
		const kept = await request("GET", "/api/products", { headers: { "X-Request-Id": mine } });
		expect(kept.status).to.equal(200);
		expect(kept.headers.get("x-request-id")).to.equal(mine);
		const w3c = "4bf92f3577b34da6a3ce929d0e0e4736";
		expect((await request("GET", "/api/products", { headers: { "X-Request-Id": w3c } })).headers.get("x-request-id")).to.equal(w3c);

		for (const bad of ["not a request id", "x".repeat(500), "abc", "<script>"]) {
			const res = await request("GET", "/api/products", { headers: { "X-Request-Id": bad } });
			const id = res.headers.get("x-request-id");
			expect(id, bad).to.match(UUID);
		}
		const fresh = await request("GET", "/api/products");
		expect(fresh.headers.get("x-request-id")).to.match(UUID);
	});

	it("puts the request id in error bodies", async () => {
		const request = httpClient(shop.baseUrl);
		const mine = crypto.randomUUID();
		const unauthenticated = await request("GET", "/api/orders", { headers: { "X-Request-Id": mine } });
		expect(unauthenticated.status).to.equal(401);
		expect(unauthenticated.headers.get("x-request-id")).to.equal(mine);
		expect(unauthenticated.body).to.include({ type: "UNAUTHENTICATED", requestId: mine });
		const invalid = await request("POST", "/api/auth/register", { body: { email: "nope" } });
		expect(invalid.status).to.equal(422);
		expect(invalid.body.requestId).to.equal(invalid.headers.get("x-request-id")).and.match(UUID);
	});

	it("logs one JSON object per line, with the request id of the call it was logged in", async () => {
		const request = httpClient(shop.baseUrl);
		const admin = await adminToken(request);
		const steps = checkoutSteps(request, () => admin);
		const productId = await steps.product(1500, 2, "Logged");
		const customer = await newCustomer(request);
		await steps.addToCart(customer.token, productId, 1);
		const requestId = crypto.randomUUID();
		const placed = await steps.placeOrder(customer.token, "tok_visa", { "X-Request-Id": requestId });
		const orderId: string = placed.body.order.id;

		const entries = () => capture.lines.map(l => JSON.parse(l) as Record<string, unknown>);
		// every line is an object with the fields log pipelines index
		for (const entry of entries()) expect(entry).to.include.keys("time", "level", "node", "service", "message");
		const line = await until(
			"the order's placed line",
			() => entries().find(e => typeof e.message === "string" && e.message.startsWith(`Order ${orderId} placed`)),
			e => e !== undefined
		);
		expect(line).to.include({ level: "info", service: "order", requestId, traceId: requestId });
		expect(Date.parse(line!.time as string)).to.be.closeTo(Date.now(), 60_000);
		// the saga's later steps, handled from the inbox, log under the same request id
		const later = await until(
			"a saga line of the same request",
			() => entries().filter(e => e.requestId === requestId && e.service !== "order"),
			list => list.length > 0
		);
		expect(later.length).to.be.greaterThan(0);
		// and nothing secret reaches the log
		expect(capture.lines.join("\n")).to.not.include("tok_visa").and.not.include("password123").and.not.include(customer.token);
	});
});
