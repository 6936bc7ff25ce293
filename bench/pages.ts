import crypto from "node:crypto";
import path from "node:path";
import pg from "pg";
import type { Browser } from "playwright-core";
import { chromiumPath, launchBrowser } from "../test/support/browser";
import { cleanUpAll, cleanUpOnSignals, tempDir } from "./lib/proc";
import { startSingle, waitForCatalog } from "./lib/shop";
import { median, percentile } from "./lib/stats";

/**
 * The storefront's first page in a real headless Chromium: how long from navigation start until the first view
 * is on screen and usable (`data-ready`, with the app's `momentum:ready` performance mark), and how many bytes
 * it transfers. Each cold load uses a fresh browser profile (empty cache, no session); each warm load is a reload
 * in that profile (the files revalidated with their ETags). Loopback, so this is the pages' own cost: parsing,
 * module loading, two API calls and rendering, without a network's latency.
 *
 * `node_modules/node/bin/node --import tsx bench/pages.ts [--runs=30]` starts its own shop (as `npm run bench`
 * does: a production process with the demo catalog, embedded PostgreSQL unless BENCH_DATABASE_URL names a
 * server); `npm run bench -- --only=pages` runs it against the benchmark's shop.
 */

export interface PagesResult {
	runs: number;
	/** Milliseconds from navigation start to the first view, cold (fresh profile) and warm (reload). */
	cold: { median: number; p95: number };
	warm: { median: number; p95: number };
	/** Bytes of HTML, CSS and JavaScript the cold load transferred (gzip as served), and their count. */
	bytes: number;
	files: number;
	/** The API calls the first page made. */
	apiCalls: number;
}

const READY = "html[data-ready=true]";
const readyAt = "performance.getEntriesByName('momentum:ready')[0]?.startTime ?? NaN";

export async function measurePages(baseUrl: string, runs = 30, log: (msg: string) => void = console.log): Promise<PagesResult> {
	const browser: Browser = await launchBrowser();
	try {
		const cold: number[] = [];
		const warm: number[] = [];
		let bytes = 0;
		let files = 0;
		let apiCalls = 0;
		// one unmeasured load: the shop's and Chromium's first-time costs are not the page's
		for (let i = -1; i < runs; i++) {
			const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
			const page = await context.newPage();
			const sizes: Promise<number>[] = [];
			let calls = 0;
			page.on("requestfinished", r => {
				const type = r.resourceType();
				if (type === "fetch" || type === "xhr") calls++;
				else if (["document", "stylesheet", "script"].includes(type)) sizes.push(r.sizes().then(s => s.responseBodySize));
			});
			await page.goto(`${baseUrl}/`);
			await page.locator(READY).waitFor({ state: "attached" });
			const coldMs = (await page.evaluate(readyAt)) as number;
			await page.waitForLoadState("networkidle");
			const loaded = await Promise.all(sizes);
			const firstCalls = calls;
			await page.reload();
			await page.locator(READY).waitFor({ state: "attached" });
			const warmMs = (await page.evaluate(readyAt)) as number;
			await context.close();
			if (i < 0) continue;
			cold.push(coldMs);
			warm.push(warmMs);
			bytes = loaded.reduce((a, b) => a + b, 0);
			files = loaded.length;
			apiCalls = firstCalls;
		}
		const result: PagesResult = {
			runs,
			cold: { median: median(cold), p95: percentile(cold, 95) },
			warm: { median: median(warm), p95: percentile(warm, 95) },
			bytes,
			files,
			apiCalls
		};
		log(
			`  storefront first page (${runs} loads): cold median ${result.cold.median.toFixed(0)} ms, p95 ${result.cold.p95.toFixed(0)} ms; ` +
				`warm median ${result.warm.median.toFixed(0)} ms, p95 ${result.warm.p95.toFixed(0)} ms; ` +
				`${files} files, ${(bytes / 1024).toFixed(1)} KB transferred; ${apiCalls} API calls`
		);
		return result;
	} finally {
		await browser.close();
	}
}

async function main(): Promise<void> {
	if (!chromiumPath()) throw new Error("No Chromium: install Debian's chromium package or set CHROMIUM_PATH");
	const runs = Number(process.argv.find(a => a.startsWith("--runs="))?.slice(7) ?? 30);
	const log = (msg: string) => console.log(`[pages] ${msg}`);
	cleanUpOnSignals(log);
	const external = process.env.BENCH_DATABASE_URL?.trim() || undefined;
	let databaseUrl: string | undefined;
	let drop: (() => Promise<void>) | undefined;
	if (external) {
		const name = `momentum_bench_pages_${crypto.randomBytes(4).toString("hex")}`;
		const admin = new pg.Client({ connectionString: external });
		await admin.connect();
		await admin.query(`CREATE DATABASE "${name}"`);
		await admin.end();
		const u = new URL(external);
		u.pathname = `/${name}`;
		databaseUrl = u.toString();
		drop = async () => {
			const c = new pg.Client({ connectionString: external });
			await c.connect();
			await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
			await c.end();
		};
	}
	try {
		log(`starting the shop (${external ? "database on BENCH_DATABASE_URL" : "embedded PostgreSQL"})`);
		const shop = await startSingle({
			dataDir: path.join(tempDir("momentum-bench-pages-"), "shop"),
			databaseUrl,
			jwtSecret: crypto.randomBytes(32).toString("hex"),
			log
		});
		try {
			await waitForCatalog(shop.http);
			await measurePages(shop.baseUrl, runs, log);
		} finally {
			await shop.stop();
		}
	} finally {
		await drop?.();
		await cleanUpAll(log);
	}
}

if (require.main === module) {
	main().then(
		() => process.exit(0),
		err => {
			console.error(err);
			process.exit(1);
		}
	);
}
