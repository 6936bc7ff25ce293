import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { expect } from "chai";
import { Errors, ServiceBroker } from "moleculer";
import { Client } from "pg";
import type { OrderDto } from "../../services/order/order.types";
import { TEST_ADMIN, adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually, until } from "../support/eventually";
import { deliver } from "../support/events";
import { httpClient } from "../support/http";
import { freePort } from "../../lib/embedded-postgres";
import { projectRoot } from "../../lib/paths";
import { startNode, transports, type Bus, type NodeProc } from "../support/nodes";
import { startCollector } from "../support/zipkin";

/**
 * The shop spread over real node processes joined by a real bus, as operators run it: the same guarantees as
 * in one process, and they survive a node being killed or the bus going away. Once over NATS (a nats-server
 * of the test's own) and once over RabbitMQ (a private virtual host on the machine's server).
 */
for (const transport of transports())
	describe(`multi-node cluster over ${transport.name}`, function () {
		this.timeout(180_000);
		let bus: Bus;
		let db: TestDatabase;
		let pg: Client;
		const nodes = new Map<string, NodeProc>();
		let request: ReturnType<typeof httpClient>;
		let admin: string;
		let steps: ReturnType<typeof checkoutSteps>;
		let env: Record<string, string>;
		let collector: Awaited<ReturnType<typeof startCollector>>;

		async function node(name: string, services: string, extra: Record<string, string> = {}): Promise<NodeProc> {
			const n = await startNode(name, services, { ...env, ...extra });
			nodes.set(name, n);
			return n;
		}

		/** Places one order for `quantity` units of `productId` by a new customer; answers the order and the customer's token. */
		async function placeOne(productId: string, quantity = 1, paymentToken = "tok_visa"): Promise<{ order: OrderDto; token: string }> {
			const c = await newCustomer(request);
			await steps.addToCart(c.token, productId, quantity);
			const res = await steps.placeOrder(c.token, paymentToken);
			expect(res.status, JSON.stringify(res.body)).to.equal(201);
			return { order: res.body.order, token: c.token };
		}

		/** Waits until the gateway routes every domain (a route it does not know yet answers 404). */
		async function routesKnown(): Promise<void> {
			const probes = [
				"/api/products",
				"/api/cart",
				"/api/orders",
				"/api/payments",
				"/api/notifications",
				`/api/inventory/${crypto.randomUUID()}`,
				"/api/auth/me"
			];
			await eventually(
				async () => {
					for (const path of probes) expect((await request("GET", path)).status, path).to.be.oneOf([200, 401]);
				},
				30_000,
				200
			);
		}

		const sql = async <T>(text: string, values: unknown[] = []): Promise<T[]> => (await pg.query(text, values)).rows as T[];

		before(async function () {
			const why = await transport.unavailable();
			if (why) {
				console.warn(`    (${why}; skipping the cluster over ${transport.name})`);
				this.skip();
			}
			bus = await transport.start();
			db = await createTestDatabase();
			collector = await startCollector();
			pg = new Client({ connectionString: db.url });
			await pg.connect();
			env = {
				TRANSPORTER: bus.url,
				DATABASE_URL: db.url,
				NODE_ENV: "test",
				JWT_SECRET: crypto.randomBytes(32).toString("hex"),
				BCRYPT_ROUNDS: "4",
				ADMIN_EMAIL: TEST_ADMIN.email,
				ADMIN_PASSWORD: TEST_ADMIN.password,
				EVENT_POLL_MS: "200",
				SAGA_TIMEOUT: "3",
				SAGA_GIVE_UP: "300",
				SAGA_WATCHDOG_INTERVAL: "1",
				// every node sends its spans to one collector, as to a Zipkin in production
				TRACING_EXPORTER: "zipkin",
				TRACING_ENDPOINT: collector.url
			};
			const started = await Promise.all([
				node("gw", "gateway"),
				node("id", "identity"),
				node("cat", "catalog,inventory,cart"),
				node("ord", "order"),
				node("pay", "payment"),
				node("note", "notification")
			]);
			await Promise.all(started.map(n => n.ready()));
			request = httpClient(`http://127.0.0.1:${nodes.get("gw")!.httpPort}`);
			// every node is up; the gateway may still be learning who runs what (its routes follow the registry)
			await routesKnown();
			admin = await adminToken(request);
			steps = checkoutSteps(request, () => admin);
		});

		after(async () => {
			await Promise.all([...nodes.values()].map(n => n.stop("SIGKILL")));
			await pg?.end();
			await db?.drop();
			await bus?.close();
			await collector?.close();
		});

		it("shows one checkout as one trace across the nodes, from the request to the confirmation e-mail", async () => {
			const productId = await steps.product(1900, 2, "Traced");
			const c = await newCustomer(request);
			await steps.addToCart(c.token, productId, 1);
			const requestId = crypto.randomUUID();
			const res = await steps.placeOrder(c.token, "tok_visa", { "X-Request-Id": requestId });
			expect(res.status).to.equal(201);
			await steps.settled(c.token, res.body.order.id);
			const traceId = requestId.replace(/-/g, "").slice(0, 16);
			const spans = await until(
				"the e-mail's span in the checkout's trace",
				() => collector.spans.filter(s => s.traceId === traceId),
				// each node sends its spans every second: wait for the request's own and the e-mail's, for every
				// parent, and for a span of each node
				list => {
					const ids = new Set(list.map(s => s.id));
					const nodes = new Set(list.map(s => s.tags.nodeID));
					return (
						list.some(s => s.name === "POST /api/orders") &&
						list.some(s => s.name === "action 'notification.send'") &&
						list.every(s => !s.parentId || ids.has(s.parentId)) &&
						["gw", "id", "cat", "ord", "pay", "note"].every(n => nodes.has(n))
					);
				},
				20_000
			);
			expect(spans.filter(s => !s.parentId).map(s => s.name)).to.deep.equal(["POST /api/orders"]);
			const ids = new Set(spans.map(s => s.id));
			expect(
				spans.filter(s => s.parentId && !ids.has(s.parentId)).map(s => s.name),
				"spans whose parent is missing"
			).to.deep.equal([]);
			const nodesSeen = new Set(spans.map(s => s.tags.nodeID));
			for (const n of ["gw", "id", "cat", "ord", "pay", "note"]) expect([...nodesSeen], n).to.include(n);
			for (const s of spans.filter(s => s.name.startsWith("handle "))) expect(s.tags.orderId, s.name).to.equal(res.body.order.id);
		});

		it("checks out end to end with the services spread over six node processes", async () => {
			const productId = await steps.product(2500, 5, "Clustered");
			const { order, token } = await placeOne(productId, 2);
			const done = await steps.settled(token, order.id);
			expect(done.status).to.equal("CONFIRMED");
			await eventually(async () => expect(await steps.stock(productId)).to.deep.include({ onHand: 3, reserved: 0 }));
			await eventually(async () => {
				const res = await request("GET", "/api/notifications", { token });
				expect(res.body.items.map((n: { template: string }) => n.template)).to.include("orderConfirmed");
			});
		});

		it("applies a change to a role's permissions at every gateway within seconds, not when their kept answers expire", async () => {
			const second = await node("gw2", "gateway");
			await second.ready();
			const other = httpClient(`http://127.0.0.1:${second.httpPort}`);
			try {
				const role = await request("POST", "/api/admin/roles", { token: admin, body: { name: `Ledger reader ${Date.now()}` } });
				expect(role.status, JSON.stringify(role.body)).to.equal(201);
				const email = `reader.${Date.now()}@example.com`;
				expect(
					(
						await request("POST", "/api/admin/users", {
							token: admin,
							body: { email, password: "password123", name: "Reader", roleId: role.body.role.id }
						})
					).status
				).to.equal(201);
				const reader = (await other("POST", "/api/auth/login", { body: { email, password: "password123" } })).body.accessToken as string;
				const ledger = `/api/inventory/${crypto.randomUUID()}/adjustments`;
				// the second gateway resolves the reader's token now and keeps the answer (up to a minute)
				await eventually(async () => expect((await other("GET", ledger, { token: reader })).status).to.equal(403), 30_000, 200);

				const permissions = (await request("GET", "/api/admin/permissions", { token: admin })).body.items as { id: number; name: string }[];
				const view = permissions.find(p => p.name === "inventory.view")!.id;
				expect((await request("PATCH", `/api/admin/roles/${role.body.role.id}`, { token: admin, body: { permissionIds: [view] } })).status).to.equal(
					200
				);
				// within seconds: the broadcast, not the minute the kept answer would otherwise last
				await eventually(
					async () => {
						const res = await other("GET", ledger, { token: reader });
						expect(res.status, JSON.stringify(res.body)).to.equal(200);
					},
					5_000,
					100
				);
			} finally {
				await second.stop();
				nodes.delete("gw2");
			}
		});

		it("keeps a process without the bus credentials out: it cannot connect, join namespace momentum or call any action", async () => {
			const customer = await newCustomer(request);
			const strangers: Record<string, string> = {
				anonymous: bus.anonymousUrl,
				"wrong-password": bus.urlWith(bus.user, crypto.randomBytes(24).toString("hex"))
			};

			// a raw client of the bus is turned away when it logs in
			for (const [who, url] of Object.entries(strangers)) {
				const err = await bus.rawConnect(url);
				expect(err?.message, who).to.match(bus.refused);
			}

			// a node with the credentials, to look at the cluster from inside
			const insider = new ServiceBroker({
				namespace: "momentum",
				nodeID: `insider-${process.pid}`,
				transporter: bus.transporter(bus.url, []),
				logger: false
			});
			await insider.start();
			const rogues = Object.entries(strangers).map(([who, url]) => {
				// a single attempt: Moleculer 0.15.2 keeps retrying after stop() when no attempt ever succeeded,
				// and every retry is refused the same way
				const failures: Error[] = [];
				const broker = new ServiceBroker({
					namespace: "momentum",
					nodeID: `rogue-${who}-${process.pid}`,
					transporter: bus.transporter(url, failures),
					logger: false,
					transit: { disableReconnect: true }
				});
				broker.localBus.on("$transporter.error", (e: { error: Error }) => failures.push(e.error));
				// never settles: start() waits for a connection that is refused
				void broker.start();
				return { who, broker, failures };
			});
			try {
				await insider.waitForServices(["identity", "payment"], 15_000);
				await eventually(() => {
					for (const r of rogues) expect(r.failures, r.who).to.not.be.empty;
				}, 15_000);
				for (const r of rogues) {
					expect(r.failures[0].message, r.who).to.match(bus.refused);
					const lookup = await r.broker.call("identity.get", { id: customer.id }).then(
						() => undefined,
						(e: Error) => e
					);
					expect(lookup, `${r.who}: identity.get`).to.be.instanceOf(Errors.ServiceNotFoundError);
					// the saga's refund step: handing payment an order.cancelled
					const refund = await deliver(r.broker, "payment", "order.cancelled", {
						orderId: crypto.randomUUID(),
						userId: customer.id,
						customer: { email: customer.email, name: "Customer", phone: null },
						items: [{ productId: crypto.randomUUID(), sku: "SKU-1", name: "Product", quantity: 1, unitPriceCents: 1000, lineTotalCents: 1000 }],
						totalCents: 1000,
						currency: "BRL",
						reason: "customer_request",
						previousStatus: "CONFIRMED"
					}).then(
						() => undefined,
						(e: Error) => e
					);
					expect(refund, `${r.who}: payment's order.cancelled`).to.be.instanceOf(Errors.ServiceNotFoundError);
					expect(
						r.broker.registry.nodes.list({}).map(n => n.id),
						`${r.who} knows no other node`
					).to.deep.equal([r.broker.nodeID]);
				}
				// nor does the cluster know them
				const known = (await insider.call<{ id: string }[], { onlyAvailable: boolean }>("$node.list", { onlyAvailable: false })).map(n => n.id);
				expect(known).to.include.members(["gw", "id", "pay"]);
				for (const r of rogues) expect(known).to.not.include(r.broker.nodeID);
				// the same call with the credentials answers: what kept the rogues out is the bus, not the action
				expect(await insider.call<{ email: string }, { id: string }>("identity.get", { id: customer.id })).to.include({ email: customer.email });
			} finally {
				await Promise.all(rogues.map(r => r.broker.stop()));
				await insider.stop();
			}
			// and the shop serves its customers as before
			const me = await request("GET", "/api/auth/me", { token: customer.token });
			expect(me.status).to.equal(200);
			expect(me.body.user).to.include({ email: customer.email });
		});

		it("spreads the work over two instances of inventory and of payment, and handles each order once", async () => {
			await Promise.all([node("cat2", "inventory"), node("pay2", "payment")]);
			await Promise.all([nodes.get("cat2")!.ready(), nodes.get("pay2")!.ready()]);
			const productId = await steps.product(1000, 100, "Spread");
			const placed = await Promise.all(Array.from({ length: 16 }, () => placeOne(productId)));
			const done = await Promise.all(placed.map(p => steps.settled(p.token, p.order.id, undefined, 60_000)));
			expect(done.every(o => o.status === "CONFIRMED")).to.equal(true);
			const ids = placed.map(p => p.order.id);

			const byNode = async (schema: string, event: string) =>
				sql<{ handled_by: string; n: number }>(
					`SELECT handled_by, count(*)::int AS n FROM ${schema}.inbox WHERE event = $1 AND payload->'data'->>'orderId' = ANY($2) GROUP BY 1`,
					[event, ids]
				);
			const payments = await byNode("payment", "order.paymentRequested");
			const reservations = await byNode("inventory", "order.created");
			expect(payments.map(r => r.handled_by).sort(), "payment nodes").to.deep.equal(["pay", "pay2"]);
			expect(reservations.map(r => r.handled_by).sort(), "inventory nodes").to.deep.equal(["cat", "cat2"]);

			// once: one payment and one stock movement per order, whatever node did it
			const charged = await sql<{ order_id: string; n: number }>(
				`SELECT order_id, count(*)::int AS n FROM payment.payments WHERE order_id = ANY($1) GROUP BY 1`,
				[ids]
			);
			expect(charged).to.have.length(ids.length);
			expect(charged.every(r => r.n === 1)).to.equal(true);
			await eventually(async () => expect(await steps.stock(productId)).to.deep.include({ onHand: 100 - ids.length, reserved: 0 }));
			const moved = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM inventory.adjustments WHERE product_id = $1 AND reason LIKE 'order %'`, [
				productId
			]);
			expect(moved[0].n).to.equal(ids.length);
		});

		it("loses no order and charges none twice when the payment node is killed mid-way and comes back", async () => {
			await Promise.all([nodes.get("pay2")!.stop("SIGTERM"), nodes.get("pay")!.stop("SIGTERM")]);
			const slow = await node("pay3", "payment", { PAYMENT_SIM_LATENCY_MS: "400" });
			await slow.ready();
			const stocked = 8;
			const productId = await steps.product(1500, stocked, "Killed");
			const placed = await Promise.all(Array.from({ length: 12 }, () => placeOne(productId)));
			// mid-way: a first charge is recorded, and the slow provider keeps the others in flight (four at a time)
			await until(
				"a first payment of these orders",
				async () =>
					(await sql<{ n: number }>(`SELECT count(*)::int AS n FROM payment.payments WHERE order_id = ANY($1)`, [placed.map(p => p.order.id)]))[0].n,
				n => n > 0,
				30_000
			);
			expect(await slow.stop("SIGKILL")).to.equal(null); // killed, not exited
			const back = await node("pay4", "payment");
			await back.ready();

			const done = await Promise.all(placed.map(p => steps.settled(p.token, p.order.id, undefined, 90_000)));
			const confirmed = done.filter(o => o.status === "CONFIRMED");
			expect(confirmed.length).to.equal(stocked);
			expect(done.filter(o => o.status === "CANCELLED").every(o => o.cancelReason === "out_of_stock")).to.equal(true);

			const ids = done.map(o => o.id);
			const payments = await sql<{ order_id: string; status: string }>(`SELECT order_id, status FROM payment.payments WHERE order_id = ANY($1)`, [ids]);
			expect(payments.map(p => p.order_id).sort()).to.deep.equal(confirmed.map(o => o.id).sort());
			expect(payments.every(p => p.status === "SUCCEEDED")).to.equal(true);
			await eventually(async () => {
				const level = await steps.stock(productId);
				expect(level.reserved).to.equal(0);
				expect(level.onHand + confirmed.length).to.equal(stocked);
			});
		});

		it("hands an event written while every instance of its consumer is down to the first one back", async () => {
			await nodes.get("note")!.stop("SIGTERM");
			const productId = await steps.product(900, 3, "Quiet");
			const { order, token } = await placeOne(productId);
			expect((await steps.settled(token, order.id)).status).to.equal("CONFIRMED");
			// handed to inventory, kept for notification
			await eventually(async () => {
				const [waiting] = await sql<{ delivered_to: string[]; published_at: Date | null }>(
					`SELECT delivered_to, published_at FROM "order".outbox WHERE event = 'order.confirmed' AND payload->'data'->>'orderId' = $1`,
					[order.id]
				);
				expect(waiting.delivered_to).to.deep.equal(["inventory"]);
				expect(waiting.published_at).to.equal(null);
			});

			const back = await node("note2", "notification");
			await back.ready();
			await eventually(async () => {
				const res = await request("GET", "/api/notifications", { token });
				expect(res.body.items.map((n: { template: string }) => n.template)).to.include("orderConfirmed");
			}, 20_000);
		});

		it("fails a request in flight at once when the bus drops, instead of waiting out its timeout", async () => {
			const lock = new Client({ connectionString: db.url });
			await lock.connect();
			try {
				// a catalog read that cannot finish: the gateway's request to the catalog node stays in flight
				await lock.query("BEGIN");
				await lock.query("LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE");
				const pending = request("GET", `/api/products?search=inflight${Date.now()}`);
				await eventually(async () => {
					const { rows } = await pg.query(
						`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%products%'`
					);
					expect(rows[0].n).to.be.greaterThan(0);
				});
				await bus.stop();
				const res = await pending;
				// 504 REQUEST_TIMEOUT after the read's 5 s without the fail-fast
				expect(res.status, JSON.stringify(res.body)).to.equal(503);
				expect(res.body.type).to.equal("REQUEST_REJECTED");
			} finally {
				await lock.query("ROLLBACK").catch(() => undefined);
				await lock.end();
				await bus.start();
			}
			await routesKnown();
		});

		it("reconnects after the bus goes away under load (NATS restarts; RabbitMQ closes every connection), and every accepted order completes", async () => {
			const productId = await steps.product(700, 1000, "Restart");
			const customers = await Promise.all(Array.from({ length: 8 }, () => newCustomer(request)));
			const accepted: { id: string; token: string }[] = [];
			/** Requests of the load answered 200 (a cart item added), and refused or unanswered. */
			const outcomes = { added: 0, failed: 0 };
			let running = true;
			const load = Promise.all(
				customers.map(async c => {
					while (running) {
						try {
							const added = await request("POST", "/api/cart/items", { token: c.token, body: { productId, quantity: 1 } });
							if (added.status !== 200) {
								outcomes.failed++;
								continue;
							}
							outcomes.added++;
							const res = await steps.placeOrder(c.token);
							if (res.status === 201) accepted.push({ id: res.body.order.id, token: c.token });
						} catch {
							// the gateway itself may not answer while the bus is down
							outcomes.failed++;
						}
						// each customer's pause between orders: the pace of the load, not a wait for anything
						await new Promise(r => setTimeout(r, 50));
					}
				})
			);
			const seen = () => ({ ...outcomes });
			// under load: as many orders accepted as there are customers
			await until(
				"orders to be accepted under load",
				() => accepted.length,
				n => n >= customers.length,
				30_000
			);
			await bus.stop();
			const down = seen();
			// the outage reaches the load: requests fail
			await until("a request to fail while the bus is down", seen, o => o.failed > down.failed, 30_000);
			await bus.start();
			const acceptedWhenUp = accepted.length;
			// back under load: orders are accepted again, as many as there are customers
			await until(
				"orders to be accepted again",
				() => accepted.length,
				n => n >= acceptedWhenUp + customers.length,
				60_000
			);
			running = false;
			await load;

			expect(accepted.length).to.be.greaterThan(0);
			const done = await Promise.all(accepted.map(a => steps.settled(a.token, a.id, undefined, 90_000)));
			expect(
				done.every(o => o.status === "CONFIRMED"),
				JSON.stringify(done.filter(o => o.status !== "CONFIRMED"))
			).to.equal(true);
			const after = await placeOne(productId);
			expect((await steps.settled(after.token, after.order.id, undefined, 30_000)).status).to.equal("CONFIRMED");
		});

		it("stops a node gracefully: requests in flight and during its shutdown all succeed", async () => {
			const spare = await node("cat3", "catalog,inventory,cart");
			await spare.ready();
			const productId = await steps.product(1200, 10, "Steady");
			let running = true;
			const failures: string[] = [];
			let served = 0;
			/** Rounds (two requests) each client has finished. */
			const rounds = Array.from({ length: 6 }, () => 0);
			const load = Promise.all(
				rounds.map(async (_, i) => {
					while (running) {
						const res = await request("GET", `/api/inventory/${productId}`);
						const list = await request("GET", "/api/products?pageSize=5");
						for (const r of [res, list]) {
							if (r.status === 200) served++;
							else failures.push(`${r.status} ${JSON.stringify(r.body)}`);
						}
						rounds[i]++;
					}
				})
			);
			// the load is well under way (both instances take part: the spare was ready, so the gateway knows it)
			await until(
				"five rounds from every client",
				() => [...rounds],
				r => r.every(n => n >= 5),
				30_000
			);
			expect(await spare.stop("SIGTERM")).to.equal(0);
			// every client has finished a round begun after the spare left (the one in flight at its exit may be older)
			const atExit = [...rounds];
			await until(
				"a round from every client begun after the exit",
				() => [...rounds],
				r => r.every((n, i) => n >= atExit[i] + 2),
				30_000
			);
			running = false;
			await load;
			expect(failures).to.deep.equal([]);
			expect(served).to.be.greaterThan(50);
		});
	});

describe("npm run cluster", function () {
	this.timeout(120_000);

	/** Live processes whose environment holds `needle` (the launcher's nodes carry its NODE_ID). */
	function processesWith(needle: string): number[] {
		return processesWhere(pid => fs.readFileSync(`/proc/${pid}/environ`, "utf8").includes(needle));
	}

	/** Live processes whose command line holds `needle`. */
	function processesRunning(needle: string): number[] {
		return processesWhere(pid => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle));
	}

	function processesWhere(test: (pid: string) => boolean): number[] {
		const found: number[] = [];
		for (const entry of fs.readdirSync("/proc")) {
			if (!/^\d+$/.test(entry)) continue;
			try {
				if (test(entry)) found.push(Number(entry));
			} catch {
				// gone meanwhile, or not ours to read
			}
		}
		return found;
	}

	/** The nats-server the launcher started: its pid and the config file on its command line. */
	function launchersNats(launcherPid: number): { pid: number; configFile: string } {
		const children = processesWhere(pid => {
			const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
			// pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis
			return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === launcherPid && stat.includes("(nats-server)");
		});
		expect(children, "nats-server children of the launcher").to.have.length(1);
		const args = fs.readFileSync(`/proc/${children[0]}/cmdline`, "utf8").split("\0");
		return { pid: children[0], configFile: args[args.indexOf("-c") + 1] };
	}

	it("starts its own nats-server with a random password and the four node groups with prefixed logs, serves the shop, and stops it all on Ctrl-C", async () => {
		const db = await createTestDatabase();
		const port = await freePort();
		const nodeId = `launch-${crypto.randomBytes(4).toString("hex")}`;
		const launcher = spawn(process.execPath, ["--import", "tsx", "app/cluster.ts"], {
			cwd: projectRoot(),
			env: {
				...process.env,
				// unset: the launcher starts a nats-server of its own, with authentication
				NATS_URL: undefined,
				DATABASE_URL: db.url,
				NODE_ID: nodeId,
				PORT: String(port),
				HOST: "127.0.0.1",
				IDENTITY_GRPC_PORT: String(await freePort()),
				NODE_ENV: "test",
				JWT_SECRET: crypto.randomBytes(32).toString("hex"),
				SEED_DEMO_DATA: "false",
				RATE_LIMIT_API: "off",
				RATE_LIMIT_AUTH: "off",
				LOG_LEVEL: "info"
			},
			stdio: ["ignore", "pipe", "pipe"]
		});
		let out = "";
		launcher.stdout!.on("data", d => (out += d));
		launcher.stderr!.on("data", d => (out += d));
		const exited = new Promise<number | null>(resolve => launcher.once("exit", code => resolve(code)));
		let configFile: string | undefined;
		try {
			const request = httpClient(`http://127.0.0.1:${port}`);
			await eventually(
				async () => {
					for (const path of ["/api/products", "/api/orders", "/api/cart", "/api/auth/me", "/api/payments", "/api/notifications"]) {
						expect((await request("GET", path)).status, path).to.be.oneOf([200, 401]);
					}
				},
				60_000,
				250
			);
			const customer = await newCustomer(request);
			expect((await request("GET", "/api/orders", { token: customer.token })).status).to.equal(200);
			for (const node of ["gateway", "identity", "catalog", "checkout"]) expect(out, node).to.match(new RegExp(`^\\[${node} *\\] `, "m"));
			expect(processesWith(`NODE_ID=${nodeId}-`)).to.have.length(4);

			// its nats-server takes the password from a private file, not from its command line
			const nats = launchersNats(launcher.pid!);
			configFile = nats.configFile;
			expect(fs.statSync(configFile).mode & 0o777).to.equal(0o600);
			const password = /password: "([0-9a-f]+)"/.exec(fs.readFileSync(configFile, "utf8"))?.[1];
			expect(password).to.have.length.greaterThan(31);
			expect(fs.readFileSync(`/proc/${nats.pid}/cmdline`, "utf8")).to.not.include(password!);
			expect(out).to.match(/\[cluster\] .*nats:\/\/\*\*\*@127\.0\.0\.1:\d+/);

			launcher.kill("SIGINT");
			expect(await exited).to.equal(0);
			expect(out).to.include("[cluster] stopped");
			expect(processesWith(`NODE_ID=${nodeId}-`)).to.deep.equal([]);
			expect(processesRunning(configFile), "nats-server still running").to.deep.equal([]);
			expect(fs.existsSync(configFile), "nats config left behind").to.equal(false);
			expect(out, "the password was printed").to.not.include(password!);
		} finally {
			if (launcher.exitCode === null) launcher.kill("SIGKILL");
			for (const pid of processesWith(`NODE_ID=${nodeId}-`)) process.kill(pid, "SIGKILL");
			if (configFile) for (const pid of processesRunning(configFile)) process.kill(pid, "SIGKILL");
			await db.drop();
		}
	});
	it("joins the nodes over the RabbitMQ TRANSPORTER names, starting no nats-server, and stops them on Ctrl-C", async function () {
		const rabbit = transports().find(t => t.name === "RabbitMQ")!;
		const why = await rabbit.unavailable();
		if (why) {
			console.warn(`    (${why}; skipping npm run cluster over RabbitMQ)`);
			this.skip();
		}
		const bus = await rabbit.start();
		const db = await createTestDatabase();
		const port = await freePort();
		const nodeId = `launch-${crypto.randomBytes(4).toString("hex")}`;
		const launcher = spawn(process.execPath, ["--import", "tsx", "app/cluster.ts"], {
			cwd: projectRoot(),
			env: {
				...process.env,
				NATS_URL: undefined,
				TRANSPORTER: bus.url,
				DATABASE_URL: db.url,
				NODE_ID: nodeId,
				PORT: String(port),
				HOST: "127.0.0.1",
				IDENTITY_GRPC_PORT: String(await freePort()),
				NODE_ENV: "test",
				JWT_SECRET: crypto.randomBytes(32).toString("hex"),
				SEED_DEMO_DATA: "false",
				RATE_LIMIT_API: "off",
				RATE_LIMIT_AUTH: "off",
				LOG_LEVEL: "info"
			},
			stdio: ["ignore", "pipe", "pipe"]
		});
		let out = "";
		launcher.stdout!.on("data", d => (out += d));
		launcher.stderr!.on("data", d => (out += d));
		const exited = new Promise<number | null>(resolve => launcher.once("exit", code => resolve(code)));
		try {
			const request = httpClient(`http://127.0.0.1:${port}`);
			await eventually(
				async () => {
					for (const path of ["/api/products", "/api/orders", "/api/cart", "/api/auth/me", "/api/payments", "/api/notifications"]) {
						expect((await request("GET", path)).status, path).to.be.oneOf([200, 401]);
					}
				},
				60_000,
				250
			);
			const customer = await newCustomer(request);
			expect((await request("GET", "/api/orders", { token: customer.token })).status).to.equal(200);
			expect(processesWith(`NODE_ID=${nodeId}-`)).to.have.length(4);
			const natsChildren = processesWhere(pid => {
				const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
				return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === launcher.pid && stat.includes("(nats-server)");
			});
			expect(natsChildren, "nats-server children of the launcher").to.deep.equal([]);
			expect(out).to.match(/\[cluster\] 4 nodes over amqp:\/\/\*\*\*@127\.0\.0\.1:\d+\/momentum-test-/);
			expect(out, "the password was printed").to.not.include(bus.password);

			launcher.kill("SIGINT");
			expect(await exited).to.equal(0);
			expect(out).to.include("[cluster] stopped");
			expect(processesWith(`NODE_ID=${nodeId}-`)).to.deep.equal([]);
		} finally {
			if (launcher.exitCode === null) launcher.kill("SIGKILL");
			for (const pid of processesWith(`NODE_ID=${nodeId}-`)) process.kill(pid, "SIGKILL");
			await db.drop();
			await bus.close();
		}
	});
});
