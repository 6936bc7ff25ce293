import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { sleep } from "../lib/proc";
import type { Row } from "../lib/report";
import { cpuSeconds, cpuUsedSince, DEFAULT_MIX, descendants, machineCpu, readCatalog, Shoppers, type MixOptions, type WindowResult } from "../lib/shoppers";
import { adminToken, createCustomers, startCluster, startNats, startSingle, waitForCatalog, type Customer, type Shop, type ShopOptions } from "../lib/shop";

/**
 * Scenario 8, the storefront mix: virtual shoppers (bench/lib/shoppers.ts) on a step ramp, against a fresh single
 * process and a fresh cluster over NATS. Each step adds shoppers, lets them settle, then measures a window; the
 * ramp stops at the first step that breaks the rule (p99 <= 250 ms for pages and for API calls, no error) and
 * refines between the last step that held and that one. The answer is the most shoppers held, with the request
 * rate, the orders per minute and the latencies at that step, and what the shop, its database and the
 * generator itself took of the machine's CPU.
 */

export interface MixContext {
	quick: boolean;
	log: (msg: string) => void;
	/** Options for a fresh shop named `tag`: its data folder, database, secret, node flags, log folder. */
	shopOptions: (tag: string) => Promise<ShopOptions>;
}

const PAGE_P99_MS = 250;
const API_P99_MS = 250;
const TARGET = `p99 <= ${PAGE_P99_MS} ms pages and API, 0 errors`;

interface Plan {
	ladder: number[];
	/** New shoppers start spread over this long; then the step settles before its window. */
	rampMs: number;
	settleMs: number;
	holdMs: number;
	/** Steps between the last that held and the first that broke. */
	refine: number;
	mix: MixOptions;
}

const FULL: Plan = { ladder: [500, 1000, 2000, 4000, 8000], rampMs: 5000, settleMs: 3000, holdMs: 10_000, refine: 2, mix: DEFAULT_MIX };
/** A smoke test of the harness: short sessions and a high checkout share so every screen, the order included, runs in its seconds. */
const QUICK: Plan = {
	ladder: [20, 80],
	rampMs: 1500,
	settleMs: 1000,
	holdMs: 3000,
	refine: 0,
	mix: { ...DEFAULT_MIX, thinkMs: [500, 1500], actionsPerSession: [2, 4], checkoutShare: 0.25 }
};

/** The shop gets BCRYPT_ROUNDS=4: the mix never signs in (its shoppers come back with a stored session), and the many customers it registers are set-up, not load. */
const SHOP_ENV = { BCRYPT_ROUNDS: "4" };

export interface MixStep extends WindowResult {
	target: number;
	holds: boolean;
	/** CPU over the window, % of one core: the shop's node processes, its PostgreSQL (and NATS), the machine as a whole. */
	shopCpuPercent: number;
	databaseCpuPercent: number;
	machineCpuPercent: number;
	/** The routes with the highest p99 in the window. */
	slowest: string[];
}

export interface MixShopResult {
	kind: "single" | "cluster";
	steps: MixStep[];
	/** The step with the most shoppers that held the rule (undefined: not even the first). */
	held?: MixStep;
	/** The first step that broke it (undefined: the ladder's top held). */
	broke?: MixStep;
	customers: number;
	products: number;
}

const holds = (r: WindowResult) => r.errors === 0 && r.pages.p99 <= PAGE_P99_MS && r.api.p99 <= API_P99_MS;

function fmtStep(s: MixStep): string {
	const errors = s.errors ? `, ${s.errors} errors (${Object.keys(s.errorSamples).slice(0, 2).join("; ")})` : "";
	return (
		`${s.holds ? "held " : "BROKE"} ${String(s.target).padStart(5)} shoppers: ${s.requestsPerSecond.toFixed(0)} req/s, ` +
		`pages p50 ${s.pages.p50.toFixed(1)} / p99 ${s.pages.p99.toFixed(1)} ms, API p50 ${s.api.p50.toFixed(1)} / p99 ${s.api.p99.toFixed(1)} ms, ` +
		`${s.ordersPerMinute.toFixed(1)} orders/min${errors}; CPU shop ${s.shopCpuPercent.toFixed(0)} %, database ${s.databaseCpuPercent.toFixed(0)} %, ` +
		`generator ${s.generatorCpuPercent.toFixed(0)} % (loop delay p99 ${s.generatorLoopDelayP99Ms.toFixed(0)} ms), machine ${s.machineCpuPercent.toFixed(0)} %; slowest ${s.slowest[0] ?? "-"}`
	);
}

/** The embedded PostgreSQL's postmaster under `dataDir` (undefined: the database is elsewhere). */
function postmaster(dataDir: string): number | undefined {
	try {
		return Number(fs.readFileSync(path.join(dataDir, "postgres", "pgdata", "postmaster.pid"), "utf8").split("\n")[0]) || undefined;
	} catch {
		return undefined;
	}
}

async function rampShop(shop: Shop, dataDir: string, otherPids: number[], plan: Plan, log: (msg: string) => void): Promise<MixShopResult> {
	const name = shop.kind === "single" ? "single process" : "cluster";
	const admin = await adminToken(shop.http);
	await waitForCatalog(shop.http);
	const catalog = await readCatalog(shop.http);
	// stock for every product, so no order is cancelled for the lack of it
	for (const id of catalog.productIds)
		await shop.http.expect(200, "POST", `/api/inventory/${id}/adjustments`, { token: admin, body: { delta: 1_000_000, reason: "benchmark stock" } });
	const shoppers = new Shoppers(shop.baseUrl, catalog, [], plan.mix);
	const customers: Customer[] = [];
	const enoughFor = async (target: number) => {
		const want = Math.ceil(target * plan.mix.signedInShare * 1.05) + 20;
		if (customers.length >= want) return;
		const started = performance.now();
		const more = await createCustomers(shop.http, want - customers.length, `mix-${shop.kind}-${customers.length}`, 16);
		customers.push(...more);
		shoppers.addCustomers(more);
		log(
			`  ${name}: ${more.length} more customers registered and signed in (${((performance.now() - started) / 1000).toFixed(1)} s), ${customers.length} in all`
		);
	};
	const shopPids = shop.procs.map(p => p.pid);
	const pm = postmaster(dataDir);
	const dbPids = () => [...(pm ? [pm, ...descendants(pm)] : []), ...otherPids];
	const cpu = () => ({ at: performance.now(), shop: cpuSeconds(shopPids), db: cpuSeconds(dbPids()), machine: machineCpu().busy });
	const steps: MixStep[] = [];
	const step = async (target: number): Promise<MixStep> => {
		await enoughFor(target);
		await shoppers.setTarget(target, plan.rampMs);
		await sleep(plan.settleMs);
		const before = cpu();
		const end = shoppers.window();
		await sleep(plan.holdMs);
		const r = end();
		const after = cpu();
		const pct = (used: number) => (used / ((after.at - before.at) / 1000)) * 100;
		const slowest = Object.entries(r.byRoute)
			.sort((a, b) => b[1].p99 - a[1].p99)
			.slice(0, 3)
			.map(([route, s]) => `${route} p99 ${s.p99.toFixed(0)} ms (${s.count})`);
		const s: MixStep = {
			target,
			holds: holds(r),
			...r,
			shopCpuPercent: pct(cpuUsedSince(before.shop, after.shop)),
			databaseCpuPercent: pct(cpuUsedSince(before.db, after.db)),
			machineCpuPercent: pct(after.machine - before.machine),
			slowest
		};
		steps.push(s);
		log(`  ${name} ${fmtStep(s)}`);
		return s;
	};
	let held: MixStep | undefined;
	let broke: MixStep | undefined;
	for (const target of plan.ladder) {
		const s = await step(target);
		if (!s.holds) {
			broke = s;
			break;
		}
		held = s;
	}
	// between the last step that held and the first that broke, on a 10-shopper grid
	for (let i = 0; i < plan.refine && broke; i++) {
		const lo = held?.target ?? 0;
		const mid = Math.round((lo + broke.target) / 2 / 10) * 10;
		if (mid <= lo || mid >= broke.target) break;
		const s = await step(mid);
		if (s.holds) held = s;
		else broke = s;
	}
	await shoppers.stop();
	shoppers.close();
	return { kind: shop.kind, steps, held, broke, customers: customers.length, products: catalog.productIds.length };
}

function rowOf(r: MixShopResult, plan: Plan): Row {
	const m = plan.mix;
	const what = r.kind === "single" ? "single process" : "cluster of 4 processes over NATS";
	const h = r.held;
	const b = r.broke;
	const brokeWords = b
		? `${h ? "next step" : "step"} ${b.target}: pages p99 ${b.pages.p99.toFixed(0)} ms, API p99 ${b.api.p99.toFixed(0)} ms, ${b.errors} errors; first past the line ${b.slowest[0] ?? "-"}`
		: `the ladder's top (${plan.ladder[plan.ladder.length - 1]}) held`;
	return {
		scenario: `11. Storefront mix, ${what}: most concurrent shoppers held (think ${m.thinkMs[0] / 1000}-${m.thinkMs[1] / 1000} s, ${Math.round(m.signedInShare * 100)} % signed in, ${Math.round(m.checkoutShare * 100)} % of sessions check out)`,
		throughput: h
			? `${b ? "" : ">= "}${h.target} shoppers (${h.requestsPerSecond.toFixed(0)} req/s, ${h.ordersPerMinute.toFixed(1)} orders/min)`
			: `none: the first step (${r.steps[0]?.target}) broke the rule`,
		p50: h?.api.p50 ?? NaN,
		p99: h?.api.p99 ?? NaN,
		baseline: h ? `pages (screens): p50 ${h.pages.p50.toFixed(1)} / p99 ${h.pages.p99.toFixed(1)} ms` : "-",
		ratio: brokeWords,
		target: TARGET,
		holds: h !== undefined,
		note: h
			? `p50/p99 are of the API calls; at ${h.target} shoppers CPU (% of one core): shop ${h.shopCpuPercent.toFixed(0)}, PostgreSQL${r.kind === "cluster" ? " and NATS" : ""} ${h.databaseCpuPercent.toFixed(0)}, ` +
				`the shoppers' generator ${h.generatorCpuPercent.toFixed(0)}, machine ${h.machineCpuPercent.toFixed(0)} of ${machineCpu().cores * 100}; ` +
				`${h.sessions} sessions began in the window, ${(h.signedInShare * 100).toFixed(0)} % signed in; steps ${r.steps.map(s => `${s.target}${s.holds ? "" : "x"}`).join(", ")} (x: broke)`
			: undefined
	};
}

/** Runs the ramp on a fresh single process, then on a fresh cluster over NATS (skipped, with a note, without nats-server). */
export async function storefrontMix(ctx: MixContext): Promise<{ rows: Row[]; notes: string[]; raw: Record<string, unknown> }> {
	const plan = ctx.quick ? QUICK : FULL;
	const { log } = ctx;
	const rows: Row[] = [];
	const notes: string[] = [];
	const raw: Record<string, unknown> = { plan };

	log(`scenario 11: storefront mix on a fresh single process, shoppers ${plan.ladder.join(", ")} until the rule breaks`);
	const singleOpts = { ...(await ctx.shopOptions("mix-single")), env: SHOP_ENV };
	const single = await startSingle(singleOpts);
	try {
		const r = await rampShop(single, singleOpts.dataDir, [], plan, log);
		raw.single = r;
		rows.push(rowOf(r, plan));
	} finally {
		await single.stop();
	}

	const nats = await startNats();
	if (!nats) {
		notes.push("Scenario 8 (storefront mix) on the cluster was skipped: `nats-server` is not installed.");
		return { rows, notes, raw };
	}
	try {
		log("scenario 11: storefront mix on a fresh cluster over NATS");
		const clusterOpts = { ...(await ctx.shopOptions("mix-cluster")), env: SHOP_ENV, natsUrl: nats.url };
		const cluster = await startCluster(clusterOpts);
		try {
			const natsPids = descendants(process.pid).filter(pid => !cluster.procs.some(p => p.pid === pid) && isNats(pid));
			const r = await rampShop(cluster, clusterOpts.dataDir, natsPids, plan, log);
			raw.cluster = r;
			rows.push(rowOf(r, plan));
		} finally {
			await cluster.stop();
		}
	} finally {
		await nats.stop();
	}
	return { rows, notes, raw };
}

function isNats(pid: number): boolean {
	try {
		return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "nats-server";
	} catch {
		return false;
	}
}
