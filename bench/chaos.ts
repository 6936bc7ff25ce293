import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Client as Pg } from "pg";
import { startEmbeddedPostgres, type EmbeddedServer } from "../lib/embedded-postgres";
import { privateNatsConfig } from "../lib/nats-config";
import { client, type Client } from "./lib/http";
import { cleanUpAll, cleanUpOnSignals, freePort, onCleanUp, portOpen, sleep, startProc, tempDir, type Proc } from "./lib/proc";
import { ROOT } from "./lib/shop";
import { seededRandom } from "./lib/random";

/**
 * `npm run chaos`: a seven-node cluster on loopback (two gateways, two shop nodes, two checkout nodes,
 * identity) with a nats-server and a PostgreSQL of its own, under a steady checkout load whose clients retry
 * with the same Idempotency-Key, while a nemesis injects one fault at a time: kill -9 of a node, SIGSTOP of a
 * node for 6 s, nats-server killed and restarted, PostgreSQL crashed and restarted, a gateway killed. At the
 * end it checks what a shop owner cares about and prints the figures; exit 1 on any violation.
 *
 * Usage: npm run chaos -- [--seconds=90] [--seed=1] [--faults=kill,stop,nats,postgres,gateway]
 */

const args = Object.fromEntries(process.argv.slice(2).map(a => a.replace(/^--/, "").split("=") as [string, string]));
const SECONDS = Number(args.seconds ?? 90);
const SEED = Number(args.seed ?? 1);
const FAULTS = (args.faults ?? "kill,stop,nats,postgres,gateway").split(",");
const log = (msg: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// The nemesis draws from its own sequence, so a seed always means the same faults in the same order (the
// load's draws depend on timing and would shift them).
const nemesisRandom = seededRandom(SEED);
const random = seededRandom(SEED ^ 0x9e3779b9);
const pickWith = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];
const pick = <T>(list: readonly T[]): T => pickWith(random, list);
const pickFault = <T>(list: readonly T[]): T => pickWith(nemesisRandom, list);

interface Node {
	name: string;
	services: string;
	httpPort?: number;
	healthPort: number;
	proc?: Proc;
	/** Set while the nemesis has it down on purpose: its exit is not a crash. */
	expectedDown: boolean;
	unexpectedExits: number;
}

const GROUPS: { name: string; services: string }[] = [
	{ name: "gateway-1", services: "gateway" },
	{ name: "gateway-2", services: "gateway" },
	{ name: "identity", services: "identity" },
	{ name: "shop-1", services: "catalog,inventory,cart" },
	{ name: "shop-2", services: "catalog,inventory,cart" },
	{ name: "checkout-1", services: "order,payment,notification" },
	{ name: "checkout-2", services: "order,payment,notification" }
];

async function main(): Promise<void> {
	const work = tempDir("momentum-chaos-");
	fs.chmodSync(work, 0o755);
	log(`seed ${SEED}, ${SECONDS} s of load, faults: ${FAULTS.join(", ")}`);

	// PostgreSQL and NATS of our own, both of which the nemesis may take down
	const pg: EmbeddedServer = await startEmbeddedPostgres({ dataDir: path.join(work, "postgres"), database: "momentum" });
	// registered after the folder it lives in, so it is stopped before the folder goes
	onCleanUp("chaos PostgreSQL", () => pg.stop());
	const databaseUrl = pg.url("momentum");
	const nats = privateNatsConfig(await freePort(), { prefix: "momentum-chaos-nats-" });
	let natsProc = startProc("nats", "nats-server", ["-c", nats.file]);
	const natsUp = async () => {
		while (!(await portOpen(nats.port))) await sleep(50);
	};
	await natsUp();

	const admin = { email: "chaos-admin@example.com", password: "chaos-admin-password" };
	const env = {
		...process.env,
		NODE_ENV: "production",
		JWT_SECRET: crypto.randomBytes(32).toString("hex"),
		TRANSPORTER: nats.url,
		DATABASE_URL: databaseUrl,
		HOST: "127.0.0.1",
		LOG_LEVEL: "warn",
		BCRYPT_ROUNDS: "4",
		ADMIN_EMAIL: admin.email,
		ADMIN_PASSWORD: admin.password,
		RATE_LIMIT_API: "off",
		RATE_LIMIT_AUTH: "off",
		// the soak's shoppers never open their verification mails: production's default would refuse their orders
		REQUIRE_EMAIL_VERIFICATION: "false",
		SEED_DEMO_DATA: "false",
		EVENT_POLL_MS: "200",
		SAGA_TIMEOUT: "5",
		SAGA_WATCHDOG_INTERVAL: "1",
		IDENTITY_GRPC_PORT: "0"
	};
	const nodes: Node[] = [];
	for (const g of GROUPS) {
		nodes.push({
			...g,
			healthPort: await freePort(),
			httpPort: g.services === "gateway" ? await freePort() : undefined,
			expectedDown: false,
			unexpectedExits: 0
		});
	}
	const start = (n: Node) => {
		n.proc = startProc(n.name, process.execPath, ["--import", "tsx", "app/main.ts"], {
			cwd: ROOT,
			env: { ...env, SERVICES: n.services, NODE_ID: n.name, HEALTH_PORT: String(n.healthPort), PORT: String(n.httpPort ?? 0) },
			logFile: path.join(work, `${n.name}.log`)
		});
		const proc = n.proc;
		void proc.exited.then(code => {
			if (!n.expectedDown && !stopping) {
				n.unexpectedExits++;
				log(`!! ${n.name} exited on its own (${code}):\n${proc.tail()}`);
			}
		});
	};
	const ready = async (n: Node, timeoutMs = 90_000) => {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			const ok = await fetch(`http://127.0.0.1:${n.healthPort}/health/ready`).then(
				r => r.status === 200,
				() => false
			);
			if (ok) return;
			await sleep(200);
		}
		throw new Error(`${n.name} not ready in time:\n${n.proc?.tail()}`);
	};
	let stopping = false;
	for (const n of nodes) start(n);
	await Promise.all(nodes.map(n => ready(n)));
	const gateways = nodes.filter(n => n.httpPort).map(n => client(`http://127.0.0.1:${n.httpPort}`));
	log("cluster ready");

	// the catalog: a few products with limited stock, so some orders run out and cancel
	const g0 = gateways[0];
	const until200 = async <T>(fn: () => Promise<{ status: number; body: T }>): Promise<T> => {
		for (let i = 0; ; i++) {
			const r = await fn().catch(() => ({ status: 0, body: undefined as T }));
			if (r.status >= 200 && r.status < 300) return r.body;
			if (i > 100) throw new Error(`set-up step kept failing (${r.status}): ${JSON.stringify(r.body)}`);
			await sleep(300);
		}
	};
	const adminToken = ((await until200(() => g0.request("POST", "/api/auth/login", { body: admin }))) as { accessToken: string }).accessToken;
	const products: { id: string; stock: number; priceCents: number }[] = [];
	for (let i = 0; i < 5; i++) {
		const priceCents = 1000 + i * 250;
		const p = (await until200(() =>
			g0.request("POST", "/api/products", {
				token: adminToken,
				body: { sku: `CHAOS-${SEED}-${i}`, name: `Chaos product ${i}`, priceCents, category: "Chaos" }
			})
		)) as { id: string };
		const stock = 60;
		await until200(() => g0.request("POST", `/api/inventory/${p.id}/adjustments`, { token: adminToken, body: { delta: stock, reason: "chaos stock" } }));
		products.push({ id: p.id, stock, priceCents });
	}

	// the load: shoppers who retry a failed request with the same Idempotency-Key, over either gateway
	const shoppers = await Promise.all(
		Array.from({ length: 10 }, async (_, i) => {
			const email = `chaos.${SEED}.${i}.${Date.now()}@example.com`;
			await until200(() => g0.request("POST", "/api/auth/register", { body: { email, password: "chaos-password", name: `Shopper ${i}` } }));
			const token = (
				(await until200(() => g0.request("POST", "/api/auth/login", { body: { email, password: "chaos-password" } }))) as { accessToken: string }
			).accessToken;
			return { token, email };
		})
	);
	const stats = { requests: 0, fiveXX: 0, networkErrors: 0, duringFaults: 0, fiveXXDuringFaults: 0, accepted: 0, lost404: 0, abandoned: 0, refused4xx: 0 };
	const fiveXXByCode = new Map<string, number>();
	let faultActive = false;
	let rr = 0;
	/** One request as a client behind a load balancer sends it: a gateway that refuses the connection is skipped. */
	const send = async (method: string, route: string, opts: Parameters<Client["request"]>[2]) => {
		for (let attempt = 0; attempt < gateways.length; attempt++) {
			const gw = gateways[rr++ % gateways.length];
			try {
				const r = await gw.request(method, route, { ...opts, timeoutMs: 30_000 });
				stats.requests++;
				if (faultActive) stats.duringFaults++;
				if (r.status >= 500) {
					stats.fiveXX++;
					if (faultActive) stats.fiveXXDuringFaults++;
					const code = `${r.status} ${(r.body as { type?: string } | undefined)?.type ?? ""}`.trim();
					fiveXXByCode.set(code, (fiveXXByCode.get(code) ?? 0) + 1);
				}
				return r;
			} catch {
				stats.networkErrors++;
			}
		}
		return { status: 0, body: undefined, headers: {}, ms: 0 };
	};
	const accepted = new Map<string, { orderId: string; token: string }>();
	const keysToOrders = new Map<string, Set<string>>();
	let loading = true;
	const load = Promise.all(
		shoppers.map(async s => {
			while (loading) {
				const product = pick(products);
				const added = await send("POST", "/api/cart/items", { token: s.token, body: { productId: product.id, quantity: 1 } });
				if (added.status !== 200) {
					await sleep(200);
					continue;
				}
				const key = crypto.randomUUID();
				// a retry sends the same request again: the same key and the same body
				const paymentToken = random() < 0.1 ? "tok_chargeDeclined" : "tok_visa";
				let answered = false;
				for (let attempt = 0; attempt < 60 && !answered; attempt++) {
					const r = await send("POST", "/api/orders", { token: s.token, body: { paymentToken }, headers: { "Idempotency-Key": key } });
					if (r.status === 201) {
						const id = (r.body as { order: { id: string } }).order.id;
						accepted.set(key, { orderId: id, token: s.token });
						(keysToOrders.get(key) ?? keysToOrders.set(key, new Set()).get(key)!).add(id);
						answered = true;
						break;
					}
					if (r.status === 404) stats.lost404++;
					if (r.status >= 400 && r.status < 500 && r.status !== 404 && r.status !== 429) {
						// an answer, not an outage (e.g. the cart was emptied by an earlier try whose 201 got lost,
						// which the same key then replays): the client stops here
						stats.refused4xx++;
						answered = true;
						break;
					}
					const retryAfter = Number((r.headers as Record<string, string>)["retry-after"] ?? 0);
					await sleep(Math.max(200, retryAfter * 1000));
				}
				if (!answered) stats.abandoned++;
				// a customer cancels now and then, also after confirmation (a refund)
				if (random() < 0.1 && accepted.get(key)) {
					await sleep(300);
					await send("POST", `/api/orders/${accepted.get(key)!.orderId}/cancel`, { token: s.token });
				}
			}
		})
	);

	// the nemesis: one fault at a time, then time to heal
	const faults: Record<string, number> = {};
	const deadline = Date.now() + SECONDS * 1000;
	let lastFaultEnded = Date.now();
	/** When each fault began and when every node was ready again after it. */
	const faultWindows: { start: number; end: number }[] = [];
	await sleep(3000);
	while (Date.now() + 15_000 < deadline) {
		const kind = pickFault(FAULTS);
		faults[kind] = (faults[kind] ?? 0) + 1;
		faultActive = true;
		const faultStarted = Date.now();
		if (kind === "kill" || kind === "gateway") {
			const victim = pickFault(nodes.filter(n => (kind === "gateway" ? n.httpPort : !n.httpPort)));
			log(`fault: kill -9 ${victim.name}`);
			victim.expectedDown = true;
			victim.proc!.child.kill("SIGKILL");
			await victim.proc!.exited;
			await sleep(2000);
			start(victim);
			victim.expectedDown = false;
			await ready(victim);
		} else if (kind === "stop") {
			const victim = pickFault(nodes.filter(n => !n.httpPort));
			log(`fault: SIGSTOP ${victim.name} for 6 s`);
			victim.proc!.child.kill("SIGSTOP");
			await sleep(6000);
			victim.proc!.child.kill("SIGCONT");
		} else if (kind === "nats") {
			log("fault: nats-server killed, back after 2 s");
			natsProc.child.kill("SIGKILL");
			await natsProc.exited;
			await sleep(2000);
			natsProc = startProc("nats", "nats-server", ["-c", nats.file]);
			await natsUp();
		} else if (kind === "postgres") {
			log("fault: PostgreSQL crashed (immediate stop), back after 3 s");
			await pg.crash();
			await sleep(3000);
			await pg.restart();
		}
		await Promise.all(nodes.map(n => ready(n)));
		faultActive = false;
		lastFaultEnded = Date.now();
		faultWindows.push({ start: faultStarted, end: lastFaultEnded });
		await sleep(4000 + nemesisRandom() * 3000);
	}
	while (Date.now() < deadline) await sleep(200);
	loading = false;
	await load;
	log(`load stopped: ${accepted.size} orders accepted`);

	// quiescence: every accepted order CONFIRMED or CANCELLED, and every event about them delivered and handled
	// (inventory commits and notification mails follow the order's last transition)
	const terminal = async () => {
		const db = new Pg({ connectionString: databaseUrl });
		await db.connect();
		try {
			const { rows } = await db.query(`SELECT count(*)::int AS n FROM "order".orders WHERE status NOT IN ('CONFIRMED', 'CANCELLED')`);
			let open = rows[0].n as number;
			for (const schema of ["order", "inventory", "payment", "notification", "cart", "identity"]) {
				const pending = await db.query(
					`SELECT (SELECT count(*) FROM "${schema}".outbox WHERE published_at IS NULL)::int + (SELECT count(*) FROM "${schema}".inbox WHERE status = 'PENDING')::int AS n`
				);
				open += pending.rows[0].n as number;
			}
			return open;
		} finally {
			await db.end();
		}
	};
	/** What is still open, for the log when quiescence is slow: orders by status, events by where they wait. */
	const describeOpen = async () => {
		const db = new Pg({ connectionString: databaseUrl });
		await db.connect();
		try {
			const lines: string[] = [];
			const { rows } = await db.query(`SELECT status, count(*)::int AS n FROM "order".orders WHERE status NOT IN ('CONFIRMED', 'CANCELLED') GROUP BY 1`);
			for (const r of rows) lines.push(`${r.n} order(s) ${r.status}`);
			for (const schema of ["order", "inventory", "payment", "notification", "cart", "identity"]) {
				const out = await db.query(
					`SELECT event, count(*)::int AS n, round(extract(epoch FROM max(next_attempt_at) - now()))::int AS due_in FROM "${schema}".outbox WHERE published_at IS NULL GROUP BY 1`
				);
				for (const r of out.rows) lines.push(`${schema} outbox: ${r.n} ${r.event} not yet handed on (next try in ${r.due_in} s)`);
				const inbox = await db.query(
					`SELECT event, count(*)::int AS n, max(attempts)::int AS attempts, round(extract(epoch FROM max(next_attempt_at) - now()))::int AS due_in, max(last_error) AS error
					 FROM "${schema}".inbox WHERE status = 'PENDING' GROUP BY 1`
				);
				for (const r of inbox.rows)
					lines.push(
						`${schema} inbox: ${r.n} ${r.event} pending (attempts ${r.attempts}, next in ${r.due_in} s${r.error ? `, last error: ${r.error}` : ""})`
					);
			}
			return lines.join("\n  ");
		} finally {
			await db.end();
		}
	};
	const loadStopped = Date.now();
	let described = false;
	while ((await terminal()) > 0 && Date.now() - loadStopped < 120_000) {
		if (!described && Date.now() - loadStopped > 2000) {
			described = true;
			log(`still open 2 s after the load stopped:\n  ${await describeOpen()}`);
		}
		await sleep(250);
	}
	const quiescenceMs = Date.now() - loadStopped;
	const sinceLastFaultMs = Date.now() - lastFaultEnded;

	// how long an order stayed open once nothing stood in its way: from when it was placed, or from the end
	// of a fault it ran into (the last one before its final change), to its final change
	const settle = await (async () => {
		const db = new Pg({ connectionString: databaseUrl });
		await db.connect();
		try {
			const { rows } = await db.query(`SELECT id, created_at, updated_at FROM "order".orders WHERE id = ANY($1::uuid[])`, [
				[...accepted.values()].map(a => a.orderId)
			]);
			let worst = { ms: 0, id: "" };
			for (const r of rows) {
				const created = (r.created_at as Date).getTime();
				const final = (r.updated_at as Date).getTime();
				const lastFault = faultWindows.filter(w => w.start <= final).reduce((m, w) => Math.max(m, w.end), 0);
				const ms = Math.max(0, final - Math.max(created, lastFault));
				if (ms > worst.ms) worst = { ms, id: r.id as string };
			}
			if (worst.ms > 10_000) {
				// what the slowest order went through, for whoever reads the log
				const trail: string[] = [];
				const order = await db.query(`SELECT status, payment_status, created_at, updated_at FROM "order".orders WHERE id = $1`, [worst.id]);
				trail.push(`order ${JSON.stringify(order.rows[0])}`);
				for (const schema of ["order", "inventory", "payment", "notification", "cart"]) {
					const out = await db.query(`SELECT event, created_at, published_at, delivered_to FROM "${schema}".outbox WHERE correlation_id = $1`, [
						worst.id
					]);
					for (const r of out.rows)
						trail.push(
							`${schema} sent ${r.event} at ${r.created_at.toISOString()}, handed to all at ${r.published_at?.toISOString() ?? "-"} (${r.delivered_to})`
						);
					const inb = await db.query(`SELECT event, received_at, handled_at, attempts, last_error FROM "${schema}".inbox WHERE correlation_id = $1`, [
						worst.id
					]);
					for (const r of inb.rows)
						trail.push(
							`${schema} got ${r.event} at ${r.received_at.toISOString()}, handled at ${r.handled_at?.toISOString() ?? "-"} after ${r.attempts} attempt(s)${r.last_error ? ` (${r.last_error})` : ""}`
						);
				}
				log(
					`the slowest order's trail:\n  ${trail.sort().join("\n  ")}\n  faults: ${faultWindows.map(w => `${new Date(w.start).toISOString()}..${new Date(w.end).toISOString()}`).join(", ")}`
				);
			}
			return worst;
		} finally {
			await db.end();
		}
	})();

	const violations = await checkInvariants(databaseUrl, products, accepted, keysToOrders);
	if (stats.lost404 > 0) violations.push(`${stats.lost404} checkout attempts answered 404`);
	if (stats.abandoned > 0) violations.push(`${stats.abandoned} checkouts never answered after 60 tries`);
	for (const n of nodes) if (n.unexpectedExits > 0) violations.push(`${n.name} exited on its own ${n.unexpectedExits} time(s)`);

	stopping = true;
	const availability = stats.duringFaults ? (1 - stats.fiveXXDuringFaults / stats.duringFaults) * 100 : 100;
	log(`orders accepted ${accepted.size} (checkouts answered 4xx: ${stats.refused4xx}, abandoned: ${stats.abandoned}); faults ${JSON.stringify(faults)}`);
	log(
		`requests ${stats.requests}: ${stats.fiveXX} 5xx, ${stats.networkErrors} connections refused or reset (a load balancer retries those on the other gateway)`
	);
	if (fiveXXByCode.size > 0)
		log(
			`5xx answers: ${[...fiveXXByCode]
				.sort((a, b) => b[1] - a[1])
				.map(([code, n]) => `${n} ${code}`)
				.join(", ")}`
		);
	log(`answered without a 5xx during faults: ${availability.toFixed(1)} % of ${stats.duringFaults}`);
	log(
		`every order terminal and every event handled ${(quiescenceMs / 1000).toFixed(1)} s after the load stopped (${(sinceLastFaultMs / 1000).toFixed(1)} s after the last fault ended, with load in between)`
	);
	log(
		`slowest order to become final: ${(settle.ms / 1000).toFixed(1)} s after it was placed or the fault it met had ended${settle.id ? ` (${settle.id})` : ""}`
	);
	await Promise.all(nodes.map(n => n.proc?.stop(15_000)));
	await natsProc.stop();
	await pg.stop();
	fs.rmSync(nats.dir, { recursive: true, force: true });
	if (violations.length > 0) {
		log(`FAILED: ${violations.length} invariant violation(s):\n  - ${violations.join("\n  - ")}\nlogs in ${work}`);
		process.exitCode = 1;
	} else {
		log("PASSED: every invariant holds");
	}
}

/** What a shop owner checks after the storm. */
async function checkInvariants(
	url: string,
	products: { id: string; stock: number; priceCents: number }[],
	accepted: Map<string, { orderId: string }>,
	keysToOrders: Map<string, Set<string>>
): Promise<string[]> {
	const v: string[] = [];
	const db = new Pg({ connectionString: url });
	await db.connect();
	try {
		const q = async <T>(sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows as T[];
		for (const [key, ids] of keysToOrders) if (ids.size > 1) v.push(`Idempotency-Key ${key} made ${ids.size} orders`);
		const orders = await q<{
			id: string;
			status: string;
			total_cents: string;
			items: { productId: string; quantity: number }[];
			payment_status: string | null;
		}>(`SELECT id, status, total_cents, items, payment_status FROM "order".orders`);
		const byId = new Map(orders.map(o => [o.id, o]));
		for (const { orderId } of accepted.values()) {
			const o = byId.get(orderId);
			if (!o) v.push(`accepted order ${orderId} is missing`);
			else if (o.status !== "CONFIRMED" && o.status !== "CANCELLED") v.push(`order ${orderId} is stuck in ${o.status}`);
		}
		// stock conserved: what was stocked minus what confirmed orders took is on hand, nothing reserved
		const levels = await q<{ product_id: string; on_hand: number; reserved: number }>(`SELECT product_id, on_hand, reserved FROM inventory.stock`);
		for (const p of products) {
			const level = levels.find(l => l.product_id === p.id);
			const sold = orders
				.filter(o => o.status === "CONFIRMED")
				.reduce((n, o) => n + o.items.filter(i => i.productId === p.id).reduce((m, i) => m + i.quantity, 0), 0);
			if (!level) v.push(`no stock level for ${p.id}`);
			else {
				if (level.on_hand < 0) v.push(`product ${p.id} has ${level.on_hand} on hand`);
				if (level.reserved !== 0) v.push(`product ${p.id} still has ${level.reserved} reserved`);
				if (level.on_hand !== p.stock - sold) v.push(`product ${p.id}: ${level.on_hand} on hand, expected ${p.stock} - ${sold} sold`);
			}
		}
		// money: each confirmed order charged once for its total; a cancelled one not charged, or refunded
		const payments = await q<{ order_id: string; status: string; amount_cents: string }>(`SELECT order_id, status, amount_cents FROM payment.payments`);
		for (const o of orders) {
			const mine = payments.filter(p => p.order_id === o.id);
			if (mine.length > 1) v.push(`order ${o.id} has ${mine.length} payments`);
			if (o.status === "CONFIRMED" && !(mine.length === 1 && mine[0].status === "SUCCEEDED" && Number(mine[0].amount_cents) === Number(o.total_cents))) {
				v.push(`confirmed order ${o.id} is not charged once for its total (${JSON.stringify(mine)})`);
			}
			if (o.status === "CANCELLED" && mine.some(p => p.status === "SUCCEEDED")) v.push(`cancelled order ${o.id} is still charged`);
		}
		// no dead letters anywhere
		for (const schema of ["order", "inventory", "payment", "notification", "cart", "identity"]) {
			const [dead] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".inbox WHERE status = 'DEAD'`);
			if (dead.n > 0) v.push(`${dead.n} dead letter(s) in ${schema}`);
		}
		// one notification per outcome
		// the dedupe key names the fact (`orderConfirmed:<orderId>`) and the channel
		const notes = await q<{ template: string; order_id: string; n: number }>(
			`SELECT template, split_part(dedupe_key, ':', 2) AS order_id, count(*)::int AS n FROM notification.notifications
			 WHERE channel = 'email' AND template IN ('orderConfirmed', 'orderCancelled') GROUP BY 1, 2`
		);
		for (const o of orders) {
			const template = o.status === "CONFIRMED" ? "orderConfirmed" : "orderCancelled";
			const got = notes.filter(n => n.order_id === o.id && n.template === template).reduce((s, n) => s + n.n, 0);
			if (got !== 1) v.push(`order ${o.id} (${o.status}) has ${got} ${template} e-mails`);
		}
	} finally {
		await db.end();
	}
	return v;
}

cleanUpOnSignals(log);
main()
	.catch(err => {
		console.error(err);
		process.exitCode = 1;
	})
	.finally(() => cleanUpAll(log));
