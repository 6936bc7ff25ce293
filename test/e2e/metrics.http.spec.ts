import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import { startHealthServer, type HealthServer } from "../../lib/health";

const ALL = "gateway,identity,catalog,inventory,cart,order,payment,notification";
const PROMTOOL = ["/usr/bin/promtool", "/usr/local/bin/promtool"].find(p => spawnSync(p, ["--version"]).status === 0);

/** The value of one sample of the scrape: `name{labels}` with exactly these labels; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
	for (const line of text.split("\n")) {
		if (line.startsWith("#")) continue;
		const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
		if (!m || m[1] !== name) continue;
		const got: Record<string, string> = {};
		for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[k] = v;
		if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
	}
	return undefined;
}

function promtool(args: string[], input?: string): { status: number | null; output: string } {
	const run = spawnSync(PROMTOOL!, args, { input, encoding: "utf8" });
	return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

describe("Prometheus metrics on the health port", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let health: HealthServer;
	let scrape: () => Promise<string>;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: ALL, EVENT_POLL_MS: "100" }));
		health = await startHealthServer(shop.broker, 0, "127.0.0.1");
		scrape = async () => {
			const res = await fetch(`http://127.0.0.1:${health.port}/metrics`);
			expect(res.status).to.equal(200);
			expect(res.headers.get("content-type")).to.match(/^text\/plain; version=0\.0\.4/);
			return res.text();
		};
	});
	after(async () => {
		await health?.close();
		await shop?.stop();
		await db?.drop();
	});

	it("after a confirmed order shows the HTTP requests by route, the saga's outcome and time, and the events handled, with no ids, and passes promtool", async function () {
		const request = httpClient(shop.baseUrl);
		const admin = await adminToken(request);
		const steps = checkoutSteps(request, () => admin);
		const ana = await newCustomer(request, "Ana");
		const mug = await steps.product(2590, 10, "Mug");
		await steps.addToCart(ana.token, mug, 1);
		const placed = await steps.placeOrder(ana.token);
		expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
		const orderId: string = placed.body.order.id;
		expect((await steps.settled(ana.token, orderId)).status).to.equal("CONFIRMED");
		// a wrong password
		expect((await request("POST", "/api/auth/login", { body: { email: ana.email, password: "not-her-password" } })).status).to.equal(401);

		// the saga's end is counted once its transaction commits, and the backlogs when scraped
		const text = await eventually(async () => {
			const t = await scrape();
			expect(sample(t, "momentum_saga_duration_seconds_count", { outcome: "confirmed" }), "saga histogram").to.equal(1);
			expect(sample(t, "momentum_outbox_waiting", { service: "order", event: "order.confirmed" }), "order.confirmed waiting").to.equal(0);
			expect(sample(t, "momentum_inbox_backlog", { service: "notification", event: "order.confirmed" }), "notification backlog").to.equal(0);
			return t;
		});
		expect(sample(text, "momentum_orders", { status: "CONFIRMED" })).to.equal(1);
		expect(sample(text, "momentum_orders", { status: "PENDING" })).to.equal(0);
		expect(sample(text, "momentum_orders", { status: "CANCELLED" })).to.equal(0);
		expect(sample(text, "momentum_saga_duration_seconds_bucket", { outcome: "confirmed", le: "+Inf" })).to.equal(1);
		expect(sample(text, "momentum_saga_duration_seconds_count", { outcome: "cancelled" })).to.equal(undefined);
		// one POST /api/orders, answered 201; reads of the order counted under the pattern, not the id
		expect(sample(text, "momentum_http_requests_total", { route: "/api/orders", method: "POST", status: "2xx" })).to.equal(1);
		expect(sample(text, "momentum_http_request_duration_seconds_count", { route: "/api/orders", method: "POST", status: "2xx" })).to.equal(1);
		// bounds in seconds (kept in milliseconds inside): the last bucket holds the one request, the sum is seconds
		expect(sample(text, "momentum_http_request_duration_seconds_bucket", { route: "/api/orders", method: "POST", status: "2xx", le: "60" })).to.equal(1);
		expect(text).to.match(/^momentum_http_request_duration_seconds_bucket\{[^}]*le="0\.005"\} \d+$/m);
		expect(sample(text, "momentum_http_request_duration_seconds_sum", { route: "/api/orders", method: "POST", status: "2xx" })).to.be.within(0, 20);
		expect(sample(text, "momentum_http_requests_total", { route: "/api/orders/:id", method: "GET", status: "2xx" })).to.be.greaterThan(0);
		// the saga's events were handled where they go, none failed, none is dead
		expect(sample(text, "momentum_inbox_handling_attempts_total", { service: "payment", event: "order.paymentRequested" })).to.equal(1);
		expect(sample(text, "momentum_inbox_handling_attempts_total", { service: "order", event: "payment.succeeded" })).to.equal(1);
		expect(sample(text, "momentum_inbox_dead_letters", { service: "order", event: "payment.succeeded" })).to.equal(0);
		expect(sample(text, "momentum_outbox_oldest_waiting_seconds", { service: "order" })).to.be.a("number");
		expect(sample(text, "momentum_payments_total", { outcome: "succeeded" })).to.equal(1);
		// Moleculer's own, under conventional names
		expect(text).to.match(/^moleculer_requests_total\{[^}]*action="order\.place"[^}]*\} [1-9]/m);
		expect(text).to.match(/^moleculer_request_duration_seconds_bucket\{[^}]*action="order\.place"[^}]*le="0\.001"/m);
		expect(sample(text, "momentum_login_failures_total", { outcome: "invalid_credentials" })).to.equal(1);
		expect(sample(text, "momentum_http_requests_total", { route: "/api/auth/login", method: "POST", status: "4xx" })).to.equal(1);
		expect(sample(text, "momentum_db_pool_max_connections", { service: "order" })).to.equal(10);
		expect(sample(text, "momentum_notifications_total", { channel: "email", status: "sent" })).to.be.greaterThan(0);
		expect(sample(text, "process_resident_memory_bytes")).to.be.greaterThan(0);

		// nothing that names a customer or an order
		for (const secret of [orderId, ana.id, ana.email, ana.token, "tok_visa", mug]) expect(text, secret).not.to.include(secret);

		if (!PROMTOOL) {
			console.log("      promtool is not installed (Debian: apt-get install prometheus): skipping `promtool check metrics`");
			this.skip(); // the metric checks above have run
		}
		const lint = promtool(["check", "metrics"], text);
		expect(lint.output, lint.output).to.equal("");
		expect(lint.status).to.equal(0);
	});

	it("answers 405 to anything but GET and 404 to other paths", async () => {
		const base = `http://127.0.0.1:${health.port}`;
		expect((await fetch(`${base}/metrics`, { method: "POST" })).status).to.equal(405);
		expect((await fetch(`${base}/metrics/../../etc/passwd`)).status).to.equal(404);
		expect((await fetch(`${base}/metricsx`)).status).to.equal(404);
	});
});

describe("Prometheus alert rules (deploy/prometheus/alerts.yml)", () => {
	it("pass promtool check rules", function () {
		if (!PROMTOOL) {
			console.log("      promtool is not installed (Debian: apt-get install prometheus): skipping the rules check");
			this.skip();
		}
		const check = promtool(["check", "rules", path.join(__dirname, "..", "..", "deploy", "prometheus", "alerts.yml")]);
		expect(check.status, check.output).to.equal(0);
		expect(check.output).to.match(/SUCCESS: \d+ rules found/);
	});
});
