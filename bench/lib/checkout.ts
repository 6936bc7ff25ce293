import crypto from "node:crypto";
import pg from "pg";
import type { Client } from "./http";
import { sleep } from "./proc";
import type { Customer } from "./shop";
import { summarize, type LatencySummary } from "./stats";

/**
 * The checkout load: each order is one customer adding the product to their cart and placing the order
 * (`POST /api/orders` with tok_visa and an Idempotency-Key). The POST latency is measured here; the saga's
 * from the order's own history (PENDING at -> CONFIRMED at), read through the admin API afterwards.
 */

export interface Placed {
	orderId?: string;
	/** Client clock (ms since epoch) when the order was due: the arrival (open loop) or the start (closed loop). */
	dueAt: number;
	/** How late the order started against its arrival time (open loop: no free customer, or a busy event loop). */
	lateMs: number;
	cartMs: number;
	postMs: number;
	/** How often the shop answered 503 ORDERS_BUSY (too many orders in flight) before it took this one. */
	busy: number;
	error?: string;
}

const MAX_BUSY_RETRIES = 100;

async function placeOne(http: Client, customer: Customer, productId: string, dueAt: number): Promise<Placed> {
	const lateMs = Math.max(0, Date.now() - dueAt);
	try {
		const cart = await http.request("POST", "/api/cart/items", { token: customer.token, body: { productId, quantity: 1 } });
		if (cart.status !== 200)
			return { dueAt, lateMs, cartMs: cart.ms, postMs: NaN, busy: 0, error: `cart ${cart.status} ${JSON.stringify(cart.body).slice(0, 200)}` };
		const key = crypto.randomUUID();
		// a well-behaved client: told the shop is busy, it waits as long as Retry-After says and sends the same order again
		for (let busy = 0; ; busy++) {
			const post = await http.request("POST", "/api/orders", {
				token: customer.token,
				headers: { "Idempotency-Key": key },
				body: { paymentToken: "tok_visa" }
			});
			if (post.status === 503 && post.body?.type === "ORDERS_BUSY" && busy < MAX_BUSY_RETRIES) {
				await sleep(Number(post.headers["retry-after"] ?? 1) * 1000);
				continue;
			}
			if (post.status !== 201)
				return { dueAt, lateMs, cartMs: cart.ms, postMs: post.ms, busy, error: `order ${post.status} ${JSON.stringify(post.body).slice(0, 200)}` };
			return { orderId: post.body.order.id, dueAt, lateMs, cartMs: cart.ms, postMs: post.ms, busy };
		}
	} catch (err) {
		return { dueAt, lateMs, cartMs: NaN, postMs: NaN, busy: 0, error: (err as Error).message };
	}
}

/** `customers.length` workers, each placing orders back to back until `seconds` have passed (or `maxOrders` are placed). */
export async function closedLoop(
	http: Client,
	customers: Customer[],
	productId: string,
	seconds: number,
	maxOrders = Infinity
): Promise<{ placed: Placed[]; startedAt: number; endedAt: number }> {
	const placed: Placed[] = [];
	const startedAt = Date.now();
	const until = startedAt + seconds * 1000;
	let started = 0;
	await Promise.all(
		customers.map(async c => {
			while (Date.now() < until && started < maxOrders) {
				started++;
				placed.push(await placeOne(http, c, productId, Date.now()));
			}
		})
	);
	return { placed, startedAt, endedAt: Date.now() };
}

/**
 * An open loop: orders arrive at `rate` per second for `seconds`, whatever the shop's answers do. Each
 * arrival takes a customer who is not placing an order at the moment (their cart must hold one line);
 * an arrival that finds none waits for one and is counted late.
 */
export async function openLoop(
	http: Client,
	customers: Customer[],
	productId: string,
	rate: number,
	seconds: number
): Promise<{ placed: Placed[]; startedAt: number; endedAt: number }> {
	const free = [...customers];
	const waiting: ((c: Customer) => void)[] = [];
	const take = (): Promise<Customer> => (free.length > 0 ? Promise.resolve(free.pop()!) : new Promise(resolve => waiting.push(resolve)));
	const give = (c: Customer) => {
		const next = waiting.shift();
		if (next) next(c);
		else free.push(c);
	};
	const placed: Placed[] = [];
	const inFlight: Promise<void>[] = [];
	const total = Math.round(rate * seconds);
	const startedAt = Date.now();
	for (let i = 0; i < total; i++) {
		const dueAt = startedAt + (i * 1000) / rate;
		const wait = dueAt - Date.now();
		if (wait > 1) await sleep(wait);
		inFlight.push(
			(async () => {
				const c = await take();
				try {
					placed.push(await placeOne(http, c, productId, dueAt));
				} finally {
					give(c);
				}
			})()
		);
	}
	await Promise.all(inFlight);
	return { placed, startedAt, endedAt: Date.now() };
}

interface OrderView {
	id: string;
	status: string;
	history: { status: string; at: string }[];
}

/** How many orders are still in flight (PENDING or STOCK_RESERVED), through the admin listing. */
async function inFlight(http: Client, admin: string): Promise<number> {
	const [pending, reserved] = await Promise.all(
		["PENDING", "STOCK_RESERVED"].map(status => http.expect(200, "GET", `/api/orders?status=${status}&pageSize=1`, { token: admin }))
	);
	return pending.body.total + reserved.body.total;
}

/**
 * Waits until no order is in flight; answers false on timeout. Twice in a row: the two counts are two reads, and
 * an order moving from PENDING to STOCK_RESERVED between them is in neither (one round counted such an order
 * as an error).
 */
export async function waitSettled(http: Client, admin: string, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	let quiet = 0;
	while (Date.now() < deadline) {
		quiet = (await inFlight(http, admin)) === 0 ? quiet + 1 : 0;
		if (quiet === 2) return true;
		await sleep(quiet ? 50 : 250);
	}
	return false;
}

/**
 * Waits until the saga's events are all handled: no due inbox row pending and no outbox row unpublished in
 * any service's schema. An order is CONFIRMED before its follow-ups (the stock commit, the e-mail) are
 * done, so a round that starts right after another would otherwise queue behind the last one's backlog.
 * Answers how long it waited (ms); gives up after `timeoutMs` (a row waiting for an absent consumer).
 */
export async function waitEventsHandled(databaseUrl: string, timeoutMs = 60_000): Promise<number> {
	const started = Date.now();
	const c = new pg.Client({ connectionString: databaseUrl });
	await c.connect();
	try {
		const { rows } = await c.query<{ schema: string }>(
			`SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'inbox'
			 INTERSECT SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'`
		);
		const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
		const sql = rows
			.map(
				r => `SELECT (SELECT count(*) FROM ${ident(r.schema)}.inbox WHERE status = 'PENDING' AND next_attempt_at <= now())
			          + (SELECT count(*) FROM ${ident(r.schema)}.outbox WHERE published_at IS NULL) AS n`
			)
			.join(" UNION ALL ");
		while (rows.length > 0 && Date.now() - started < timeoutMs) {
			const left = (await c.query<{ n: string }>(sql)).rows.reduce((s, r) => s + Number(r.n), 0);
			if (left === 0) break;
			await sleep(100);
		}
	} finally {
		await c.end();
	}
	return Date.now() - started;
}

/** The orders with these ids, through the admin listing (newest first, so a round's orders come first). */
export async function readOrders(http: Client, admin: string, ids: readonly string[]): Promise<Map<string, OrderView>> {
	const wanted = new Set(ids);
	const found = new Map<string, OrderView>();
	for (let page = 1; found.size < wanted.size; page++) {
		const res = await http.expect(200, "GET", `/api/orders?page=${page}&pageSize=100`, { token: admin });
		const items = res.body.items as OrderView[];
		for (const o of items) if (wanted.has(o.id)) found.set(o.id, o);
		if (items.length < 100) break;
	}
	return found;
}

export interface CheckoutRound {
	mode: "closed" | "open";
	/** Arrival rate asked for (open loop). */
	rate?: number;
	concurrency?: number;
	placed: number;
	confirmed: number;
	cancelled: number;
	unsettled: number;
	/** Failed cart or order requests, cancelled and unsettled orders. */
	errors: number;
	errorSamples: string[];
	/** 503 ORDERS_BUSY answers the customers waited out and retried (the shop shedding load; not errors). */
	busy: number;
	/** Confirmed orders per second: confirmed / (last confirmation - start). */
	confirmedPerSecond: number;
	/** Orders placed per second during the load. */
	postsPerSecond: number;
	post: LatencySummary;
	cart: LatencySummary;
	saga: LatencySummary;
	lateP99: number;
	/** Open loop: every order as [arrival offset s, cart ms, POST ms], to see whether slow requests bunch up in time. */
	timeline?: [number, number, number][];
	seconds: number;
	drainSeconds: number;
}

/** Waits for the round's orders to settle and turns them into the round's numbers. */
export async function finishRound(
	http: Client,
	admin: string,
	run: { placed: Placed[]; startedAt: number; endedAt: number },
	meta: { mode: "closed" | "open"; rate?: number; concurrency?: number },
	settleTimeoutMs: number
): Promise<CheckoutRound> {
	await waitSettled(http, admin, settleTimeoutMs);
	const settledAt = Date.now();
	const ids = run.placed.filter(p => p.orderId).map(p => p.orderId!);
	const orders = await readOrders(http, admin, ids);
	let confirmed = 0;
	let cancelled = 0;
	let lastConfirmation = run.startedAt;
	const saga: number[] = [];
	for (const o of orders.values()) {
		if (o.status === "CANCELLED") cancelled++;
		if (o.status !== "CONFIRMED") continue;
		confirmed++;
		const pending = o.history.find(h => h.status === "PENDING");
		const done = o.history.find(h => h.status === "CONFIRMED");
		if (!pending || !done) continue;
		const at = Date.parse(done.at);
		saga.push(at - Date.parse(pending.at));
		if (at > lastConfirmation) lastConfirmation = at;
	}
	const failed = run.placed.filter(p => p.error);
	const unsettled = ids.length - confirmed - cancelled;
	const ok = run.placed.filter(p => !p.error);
	return {
		...meta,
		placed: ids.length,
		confirmed,
		cancelled,
		unsettled,
		errors: failed.length + cancelled + unsettled,
		errorSamples: [...new Set(failed.map(p => p.error!))].slice(0, 5),
		busy: run.placed.reduce((n, p) => n + p.busy, 0),
		confirmedPerSecond: confirmed / ((lastConfirmation - run.startedAt) / 1000),
		postsPerSecond: ids.length / ((run.endedAt - run.startedAt) / 1000),
		post: summarize(ok.map(p => p.postMs)),
		cart: summarize(ok.map(p => p.cartMs)),
		saga: summarize(saga),
		lateP99: summarize(run.placed.map(p => p.lateMs)).p99,
		timeline:
			meta.mode === "open"
				? run.placed.map(p => [Math.round(p.dueAt - run.startedAt) / 1000, Math.round(p.cartMs * 10) / 10, Math.round(p.postMs * 10) / 10])
				: undefined,
		seconds: (run.endedAt - run.startedAt) / 1000,
		drainSeconds: (settledAt - run.endedAt) / 1000
	};
}
