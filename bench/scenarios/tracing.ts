import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { closedLoop, finishRound, waitEventsHandled, type CheckoutRound } from "../lib/checkout";
import { runLoad, type LoadResult } from "../lib/load";
import { onCleanUp, sleep } from "../lib/proc";
import type { Row } from "../lib/report";
import { adminToken, checkoutProduct, createCustomers, startSingle, waitForCatalog, type Customer, type Shop, type ShopOptions } from "../lib/shop";
import { median } from "../lib/stats";

/**
 * Scenario 6b: what tracing costs. Tracing is off by default (TRACING_EXPORTER); this compares the bench's main
 * shop (tracing off) with two shops of its own sending Zipkin v2 JSON to a stand-in collector on loopback (`startSink`),
 * one sampling every request (TRACING_SAMPLE_RATE=1) and one a tenth (0.1), in interleaved rounds (off, 1, 0.1):
 * - an anonymous catalog read `GET /api/products/:id` (answered from the gateway's kept responses, which bypass
 *   moleculer-web and so the tracer: its spans per request are counted to show it);
 * - a signed-in read `GET /api/cart` (the caller's own cart: never a kept response, so it goes through the
 *   gateway's route, `cart.get` and the catalog, each a span when sampled);
 * - checkout, closed loop, orders/s to CONFIRMED (bench/lib/checkout.ts, as scenario 6).
 * Target: >= 0.9x of tracing off at sample 0.1 (issue 18: "tracing costs stated"); sample 1 is stated, not held
 * to a target. Also the spans (and bytes) a collector receives per order at sample 1 and 0.1. The scenario fails
 * loudly if a span body holds a secret (a customer's JWT, refresh token or password, the admin's token, the card
 * token) or reaches the collector from anything but loopback, or if a traced shop holds a TCP connection to
 * anything but loopback.
 */

export interface TracingParams {
	rounds: number;
	readSeconds: number;
	readWarm: number;
	readConnections: number;
	checkoutConcurrency: number;
	closedSeconds: number;
	closedOrders: number;
}

export interface TracingInput {
	/** The bench's main single-process shop, tracing off (the baseline). */
	base: Shop;
	baseAdmin: string;
	/** A product on the main shop with stock for the checkout rounds. */
	baseProduct: string;
	/** Options for a fresh shop (its own data folder or database), by tag. */
	shopOptions: (tag: string) => Promise<ShopOptions>;
	P: TracingParams;
	log: (msg: string) => void;
	raw: Record<string, unknown>;
}

/** The sample rates compared with tracing off. */
const RATES = [1, 0.1] as const;
/** The target at the lower rate (issue 18 item 5). */
const TARGET = 0.9;

interface TraceTally {
	spans: number;
	bytes: number;
	root?: string;
}

/**
 * A Zipkin-compatible collector on loopback: accepts `POST /api/v2/spans` and counts spans per trace (with the
 * root span's name, to tell an order's traces from the bench's admin polling). Bodies are kept only until the next
 * `check`, which scans them for the secrets it is given.
 */
async function startSink() {
	const traces = new Map<string, TraceTally>();
	let spans = 0;
	let bytes = 0;
	let posts = 0;
	const remotes = new Set<string>();
	let unscanned: string[] = [];
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on("data", (c: Buffer) => chunks.push(c));
		req.on("end", () => {
			if (req.method !== "POST" || req.url !== "/api/v2/spans") return void res.writeHead(404).end();
			const body = Buffer.concat(chunks).toString("utf8");
			remotes.add(req.socket.remoteAddress ?? "unknown");
			posts++;
			unscanned.push(body);
			try {
				const list = JSON.parse(body) as { traceId: string; parentId?: string | null; name: string }[];
				for (const s of list) {
					const size = Buffer.byteLength(JSON.stringify(s));
					const t = traces.get(s.traceId) ?? { spans: 0, bytes: 0 };
					t.spans++;
					t.bytes += size;
					if (!s.parentId) t.root = s.name;
					traces.set(s.traceId, t);
					spans++;
					bytes += size;
				}
				res.writeHead(202).end();
			} catch {
				res.writeHead(400).end();
			}
		});
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const close = () => new Promise<void>(resolve => server.close(() => resolve()));
	const forget = onCleanUp("zipkin sink", async () => {
		server.closeAllConnections();
		await close();
	});
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		count: () => ({ spans, bytes, posts }),
		/** Forgets the traces counted so far (answers them). */
		takeTraces: () => {
			const t = [...traces.values()];
			traces.clear();
			return t;
		},
		remotes: () => [...remotes],
		/** Scans every body received since the last check for `secrets`; answers the ones found (never their values). */
		check(secrets: { name: string; value: string }[]): string[] {
			const found = new Set<string>();
			for (const body of unscanned) for (const s of secrets) if (s.value && body.includes(s.value)) found.add(s.name);
			unscanned = [];
			return [...found];
		},
		async stop() {
			server.closeAllConnections();
			await close();
			forget();
		}
	};
}
type Sink = Awaited<ReturnType<typeof startSink>>;

/** Waits until the sink has received nothing new for `quietMs` (the exporters send every second). */
async function sinkQuiet(sink: Sink, quietMs = 1500, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last = sink.count().spans;
	let since = Date.now();
	while (Date.now() < deadline) {
		await sleep(250);
		const now = sink.count().spans;
		if (now !== last) {
			last = now;
			since = Date.now();
		} else if (Date.now() - since >= quietMs) return;
	}
}

/** CPU time (user + system) process `pid` has used, in ms (Linux /proc; clock ticks of 10 ms, the kernel's USER_HZ). */
function cpuMs(pid: number): number {
	const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
	return (Number(fields[11]) + Number(fields[12])) * 10;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.|0\.0\.0\.0$|::$)/;

/** Remote addresses of the TCP connections process `pid` holds that are not loopback (Linux /proc). */
function nonLoopbackPeers(pid: number): string[] {
	const inodes = new Set<string>();
	try {
		for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
			try {
				const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(path.join(`/proc/${pid}/fd`, fd)));
				if (m) inodes.add(m[1]);
			} catch {
				// closed meanwhile
			}
		}
	} catch {
		return [];
	}
	const peers: string[] = [];
	for (const file of ["tcp", "tcp6"]) {
		let table: string;
		try {
			table = fs.readFileSync(`/proc/${pid}/net/${file}`, "utf8");
		} catch {
			continue;
		}
		for (const line of table.split("\n").slice(1)) {
			const cols = line.trim().split(/\s+/);
			if (cols.length < 10 || !inodes.has(cols[9])) continue;
			const address = hexAddress(cols[2]);
			if (!LOOPBACK.test(address)) peers.push(address);
		}
	}
	return peers;
}

/** /proc/net/tcp's "0100007F:1F90" (or tcp6's 32 hex digits) as an address. */
function hexAddress(hex: string): string {
	const [ip] = hex.split(":");
	if (ip.length === 8)
		return ip
			.match(/../g)!
			.reverse()
			.map(b => parseInt(b, 16))
			.join(".");
	// tcp6: four 32-bit words, each little-endian
	const words = ip.match(/.{8}/g)!.map(w => w.match(/../g)!.reverse().join(""));
	const v4mapped = words[0] === "00000000" && words[1] === "00000000" && words[2] === "0000FFFF";
	if (v4mapped)
		return (
			"::ffff:" +
			words[3]
				.match(/../g)!
				.map(b => parseInt(b, 16))
				.join(".")
		);
	const groups = words
		.join("")
		.match(/.{4}/g)!
		.map(g => parseInt(g, 16).toString(16));
	const joined = groups.join(":");
	return joined === "0:0:0:0:0:0:0:1" ? "::1" : joined === "0:0:0:0:0:0:0:0" ? "::" : joined;
}

interface Subject {
	label: string;
	rate: number | undefined;
	shop: Shop;
	admin: string;
	product: string;
	productPath: string;
	customers: Customer[];
	reader: Customer;
	/** The collector of a traced shop. */
	sink?: Sink;
}

const ratio = (a: number, b: number) => a / b;
const fmtLoad = (r: LoadResult) =>
	`${r.rps.toFixed(0)} req/s, p99 ${r.latency.p99.toFixed(2)} ms${r.non2xx + r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ""}`;

export async function tracingCost(input: TracingInput): Promise<Row[]> {
	const { base, baseAdmin, baseProduct, P, log, raw } = input;
	// a collector per traced shop, so each one's spans are counted apart
	const sinks: Sink[] = [];
	for (const rate of RATES) {
		sinks.push(await startSink());
		log(`  zipkin sink for sample ${rate} on ${sinks[sinks.length - 1].url}`);
	}
	const rows: Row[] = [];
	try {
		// the two traced shops start side by side
		const traced = await Promise.all(
			RATES.map(async (rate, k) => {
				const tag = `tracing-${String(rate).replace(".", "")}`;
				const shop = await startSingle({
					...(await input.shopOptions(tag)),
					env: { TRACING_EXPORTER: "zipkin", TRACING_ENDPOINT: sinks[k].url, TRACING_SAMPLE_RATE: String(rate) }
				});
				await waitForCatalog(shop.http);
				return { rate, shop, sink: sinks[k] };
			})
		);
		const subjectOf = async (label: string, rate: number | undefined, shop: Shop, admin: string, product: string, sink?: Sink): Promise<Subject> => {
			const list = await shop.http.expect(200, "GET", "/api/products?page=1");
			const tag = label.replace(/\W+/g, "-");
			const productPath = `/api/products/${(list.body.items as { id: string }[])[0].id}`;
			const customers = await createCustomers(shop.http, P.checkoutConcurrency, `${tag}-c`);
			const [reader] = await createCustomers(shop.http, 1, `${tag}-r`);
			// the reader's cart holds a line, so `GET /api/cart` asks the catalog for it
			await shop.http.expect(200, "POST", "/api/cart/items", { token: reader.token, body: { productId: product, quantity: 1 } });
			return { label, rate, shop, admin, product, productPath, customers, reader, sink };
		};
		const subjects: Subject[] = [await subjectOf("tracing-off", undefined, base, baseAdmin, baseProduct)];
		for (const t of traced) {
			const admin = await adminToken(t.shop.http);
			subjects.push(await subjectOf(`sample ${t.rate}`, t.rate, t.shop, admin, await checkoutProduct(t.shop.http, admin, 2_000_000), t.sink));
		}
		log(`  shops ready (tracing off: the main shop; sample ${RATES.join(", sample ")})`);

		const secrets = [
			{ name: "card token", value: "tok_visa" },
			{ name: "admin access token", value: baseAdmin },
			...subjects.flatMap(s => [
				{ name: "admin access token", value: s.admin },
				...[...s.customers, s.reader].flatMap(c => [
					{ name: "customer access token (JWT)", value: c.token },
					{ name: "customer refresh token", value: c.refreshToken },
					{ name: "customer password", value: c.password }
				])
			])
		];
		const assertClean = (when: string) => {
			for (const sink of sinks) {
				const found = sink.check(secrets);
				if (found.length) throw new Error(`SECRET IN SPANS: the collector received ${found.join(", ")} (${when})`);
				const remote = sink.remotes().filter(a => !LOOPBACK.test(a));
				if (remote.length) throw new Error(`spans reached the collector from ${remote.join(", ")}, not loopback (${when})`);
			}
		};
		const allQuiet = () => Promise.all(sinks.map(s => sinkQuiet(s)));
		assertClean("set-up: registration, login, cart");

		// warm-up: a few orders through each shop's saga (its traces are dropped after the reads)
		for (const s of subjects)
			await finishRound(s.shop.http, s.admin, await closedLoop(s.shop.http, s.customers.slice(0, 8), s.product, 2), { mode: "closed" }, 60_000);
		/** Round `i`'s order of the shops: each goes first in turn (a shop measured first meets a calmer machine). */
		const turn = (i: number) => subjects.map((_, k) => (k + i) % subjects.length);

		// reads: rounds of the three shops in turn, each path warmed first
		const reads = [
			{ key: "get", what: "anonymous catalog read `GET /api/products/:id`", path: (s: Subject) => s.productPath, token: (_s: Subject) => undefined },
			{ key: "cart", what: "signed-in read `GET /api/cart`", path: (_s: Subject) => "/api/cart", token: (s: Subject) => s.reader.token }
		];
		const readResults: Record<string, { rounds: LoadResult[][]; spansPerRequest: Record<string, number>; cpuUs: number[] }> = {};
		for (const r of reads) {
			const load = (s: Subject, seconds: number) => {
				const token = r.token(s);
				return runLoad({
					url: s.shop.baseUrl + r.path(s),
					connections: P.readConnections,
					seconds,
					headers: token ? { authorization: `Bearer ${token}` } : undefined
				});
			};
			for (const s of subjects) await load(s, P.readWarm);
			await allQuiet();
			const rounds: LoadResult[][] = subjects.map(() => []);
			const cpu = subjects.map(() => 0);
			const spansBefore = subjects.map(s => s.sink?.count().spans ?? 0);
			for (let i = 0; i < P.rounds; i++) {
				for (const j of turn(i)) {
					const before = cpuMs(subjects[j].shop.procs[0].pid);
					rounds[j][i] = await load(subjects[j], P.readSeconds);
					cpu[j] += cpuMs(subjects[j].shop.procs[0].pid) - before;
				}
				log(`  tracing ${r.key} round ${i + 1}: ${subjects.map((s, j) => `${s.label} ${fmtLoad(rounds[j][i])}`).join("; ")}`);
			}
			await allQuiet();
			for (const sink of sinks) sink.takeTraces();
			// spans received during the rounds, per request (whatever else the shop traced meanwhile included)
			const spansPerRequest: Record<string, number> = {};
			// the shop process's CPU per answered request: what tracing adds to each, whatever else the machine runs
			const cpuUs = subjects.map((_, j) => (cpu[j] * 1000) / rounds[j].reduce((n, x) => n + x.ok + x.non2xx, 0));
			for (const [j, s] of subjects.entries()) {
				if (!s.sink) continue;
				const requests = rounds[j].reduce((n, x) => n + x.ok + x.non2xx, 0);
				spansPerRequest[s.label] = (s.sink.count().spans - spansBefore[j]) / requests;
			}
			log(
				`  tracing ${r.key}: spans per request ${Object.entries(spansPerRequest)
					.map(([k, v]) => `${k} ${v.toFixed(3)}`)
					.join(", ")}; shop CPU per request ${subjects.map((s, j) => `${s.label} ${cpuUs[j].toFixed(0)} µs`).join(", ")}`
			);
			readResults[r.key] = { rounds, spansPerRequest, cpuUs };
			assertClean(`reads ${r.key}`);
			const off = median(rounds[0].map(x => x.rps));
			for (const [j, s] of subjects.entries()) {
				if (s.rate === undefined) continue;
				const on = median(rounds[j].map(x => x.rps));
				const p50 = median(rounds[j].map(x => x.latency.p50));
				const p99 = median(rounds[j].map(x => x.latency.p99));
				rows.push({
					scenario: `6b. Tracing (sample ${s.rate}) vs off: ${r.what} (${P.readConnections} connections)`,
					throughput: `${on.toFixed(0)} req/s`,
					p50,
					p99,
					baseline: `tracing off: ${off.toFixed(0)} req/s, p50 ${median(rounds[0].map(x => x.latency.p50)).toFixed(2)} / p99 ${median(rounds[0].map(x => x.latency.p99)).toFixed(2)} ms`,
					ratio: `${ratio(on, off).toFixed(3)}x throughput`,
					target: s.rate === 0.1 ? `>= ${TARGET}x throughput (cost stated)` : "(cost stated, no target)",
					holds: s.rate === 0.1 ? ratio(on, off) >= TARGET : undefined,
					note: `shop CPU ${cpuUs[j].toFixed(0)} µs per request (tracing off ${cpuUs[0].toFixed(0)} µs, ${(cpuUs[j] / cpuUs[0]).toFixed(2)}x); ${spansPerRequest[s.label].toFixed(3)} spans per request reached the collector${r.key === "get" ? " (a kept response is answered before moleculer-web: the tracer never sees it)" : ""}`
				});
			}
		}

		// checkout: rounds of the three shops in turn, each shop's events handled before its round (the reads' end took every trace so far)
		const checkout: CheckoutRound[][] = subjects.map(() => []);
		const checkoutCpu = subjects.map(() => ({ ms: 0, orders: 0 }));
		const perOrder: { rate: number; orders: number; spans: number; bytes: number; cartSpans: number; orderSpans: number; otherSpans: number }[] = [];
		for (let i = 0; i < P.rounds; i++) {
			for (const j of turn(i)) {
				const s = subjects[j];
				await waitEventsHandled(s.shop.databaseUrl);
				const sink = s.sink;
				const cpuBefore = cpuMs(s.shop.procs[0].pid);
				const run = await closedLoop(s.shop.http, s.customers, s.product, P.closedSeconds, P.closedOrders);
				const round = await finishRound(s.shop.http, s.admin, run, { mode: "closed", concurrency: P.checkoutConcurrency }, 180_000);
				checkout[j][i] = round;
				// every follow-up event (stock commit, e-mail) handled: the order's whole CPU cost in the shop process
				await waitEventsHandled(s.shop.databaseUrl);
				checkoutCpu[j].ms += cpuMs(s.shop.procs[0].pid) - cpuBefore;
				checkoutCpu[j].orders += round.placed;
				if (sink && s.rate !== undefined) {
					// ... and exported: the round's traces, by their root
					await sinkQuiet(sink);
					const traces = sink.takeTraces();
					const sum = (f: (t: TraceTally) => boolean, k: "spans" | "bytes" = "spans") => traces.filter(f).reduce((n, t) => n + t[k], 0);
					const isOrder = (t: TraceTally) => t.root === "POST /api/orders";
					const isCart = (t: TraceTally) => t.root === "POST /api/cart/items";
					perOrder.push({
						rate: s.rate,
						orders: round.placed,
						orderSpans: sum(isOrder),
						cartSpans: sum(isCart),
						spans: sum(t => isOrder(t) || isCart(t)),
						bytes: sum(t => isOrder(t) || isCart(t), "bytes"),
						otherSpans: sum(t => !isOrder(t) && !isCart(t))
					});
					assertClean(`checkout ${s.label} round ${i + 1}`);
				}
			}
			log(
				`  tracing checkout round ${i + 1}: ${subjects.map((s, j) => `${s.label} ${checkout[j][i].confirmedPerSecond.toFixed(1)} orders/s`).join(", ")}`
			);
		}
		for (const t of traced) {
			const peers = nonLoopbackPeers(t.shop.procs[0].pid);
			if (peers.length) throw new Error(`the shop at sample ${t.rate} holds TCP connections to ${peers.join(", ")}, not loopback`);
		}
		const offRate = median(checkout[0].map(r => r.confirmedPerSecond));
		const cpuPerOrder = checkoutCpu.map(c => c.ms / c.orders);
		log(`  shop CPU per order (with the bench's polling for it): ${subjects.map((s, j) => `${s.label} ${cpuPerOrder[j].toFixed(2)} ms`).join(", ")}`);
		const spanFigures = (rate: number) => {
			const rs = perOrder.filter(p => p.rate === rate);
			const orders = rs.reduce((n, p) => n + p.orders, 0);
			const per = (k: "spans" | "bytes" | "cartSpans" | "orderSpans" | "otherSpans") => rs.reduce((n, p) => n + p[k], 0) / orders;
			return { orders, spans: per("spans"), bytes: per("bytes"), cart: per("cartSpans"), order: per("orderSpans"), other: per("otherSpans") };
		};
		for (const [j, s] of subjects.entries()) {
			if (s.rate === undefined) continue;
			const on = median(checkout[j].map(r => r.confirmedPerSecond));
			const mid = [...checkout[j]].sort((a, b) => a.confirmedPerSecond - b.confirmedPerSecond)[Math.floor((checkout[j].length - 1) / 2)];
			const errors = checkout[j].reduce((n, r) => n + r.errors, 0);
			rows.push({
				scenario: `6b. Tracing (sample ${s.rate}) vs off: checkout maximum, orders/s to CONFIRMED, closed loop, ${P.checkoutConcurrency} customers`,
				throughput: `${on.toFixed(1)} orders/s`,
				p50: mid.post.p50,
				p99: mid.post.p99,
				baseline: `tracing off: ${offRate.toFixed(1)} orders/s`,
				ratio: `${ratio(on, offRate).toFixed(3)}x`,
				target: s.rate === 0.1 ? `>= ${TARGET}x (cost stated)` : "(cost stated, no target)",
				holds: s.rate === 0.1 ? ratio(on, offRate) >= TARGET && errors === 0 : undefined,
				note: `shop CPU ${cpuPerOrder[j].toFixed(2)} ms per order (tracing off ${cpuPerOrder[0].toFixed(2)} ms, ${(cpuPerOrder[j] / cpuPerOrder[0]).toFixed(2)}x); p50/p99 are of the POST; saga p99 ${mid.saga.p99.toFixed(0)} ms; ${errors} errors`
			});
		}
		const [one, tenth] = RATES.map(spanFigures);
		rows.push({
			scenario: `6b. Tracing: what a collector receives per order at sample 1 (cart add, \`POST /api/orders\` and every saga step, ${one.orders} orders)`,
			throughput: `${one.spans.toFixed(1)} spans, ${(one.bytes / 1024).toFixed(1)} KiB per order`,
			p50: NaN,
			p99: NaN,
			baseline: `sample 0.1: ${tenth.spans.toFixed(1)} spans, ${(tenth.bytes / 1024).toFixed(2)} KiB per order (${tenth.orders} orders)`,
			ratio: `at ${offRate.toFixed(0)} orders/s: ${((one.spans * offRate) / 1000).toFixed(1)}k spans/s at sample 1`,
			target: "-",
			holds: undefined,
			note: `sample 1: ${one.cart.toFixed(1)} in the cart add's trace, ${one.order.toFixed(1)} in the order's (request and saga); the bench's admin polling added ${one.other.toFixed(1)} more per order (not counted); span sizes as the sink re-serialises them`
		});
		const received = traced.map(t => ({ rate: t.rate, ...t.sink.count(), remotes: t.sink.remotes() }));
		raw.tracing = {
			reads: readResults,
			checkout: Object.fromEntries(subjects.map((s, j) => [s.label, checkout[j]])),
			perOrder,
			cpuPerOrderMs: Object.fromEntries(subjects.map((s, j) => [s.label, cpuPerOrder[j]])),
			received
		};
		log(
			`  spans per order: sample 1 ${one.spans.toFixed(1)} (${(one.bytes / 1024).toFixed(1)} KiB), sample 0.1 ${tenth.spans.toFixed(1)}; ` +
				`the collectors received ${received.map(r => `${r.spans} spans in ${r.posts} bodies from ${r.remotes.join(", ")}`).join(" and ")}; no secret in any`
		);
		for (const t of traced) await t.shop.stop();
	} finally {
		for (const sink of sinks) await sink.stop();
	}
	return rows;
}
