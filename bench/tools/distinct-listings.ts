import crypto from "node:crypto";
import path from "node:path";
import { cleanUpAll, rssBytes, sleep, tempDir } from "../lib/proc";
import { startSingle } from "../lib/shop";

/**
 * The shop process's memory after anonymous catalog listings with distinct query strings (each one a new
 * cache key for the broker's cacher and the gateway's kept responses): RSS idle, right after, and 15 s later.
 * LISTINGS_SAME=1 sends one query string every time instead (cache hits: what the load alone costs).
 * Usage: [CACHE_MAX_MB=..] [CACHE_MAX_ENTRIES=..] node --import tsx bench/tools/distinct-listings.ts [requests=10000] [concurrency=16]
 */

const requests = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 16);
const log = (msg: string) => console.log(`[distinct-listings] ${msg}`);
const mb = (bytes: number | undefined) => `${((bytes ?? NaN) / 1024 / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
	const work = tempDir("momentum-listings-");
	// CACHE_MAX_ENTRIES / CACHE_MAX_MB of this command's environment try other bounds
	const env: Record<string, string> = {};
	for (const name of ["CACHE_MAX_ENTRIES", "CACHE_MAX_MB"]) if (process.env[name]) env[name] = process.env[name]!;
	const shop = await startSingle({ dataDir: path.join(work, "shop"), jwtSecret: crypto.randomBytes(32).toString("hex"), log, env });
	try {
		const pid = shop.procs[0].pid;
		// the demo catalog is seeded at start; let the process settle first
		await sleep(5000);
		const idle = rssBytes(pid);
		let next = 0;
		const statuses: Record<number, number> = {};
		await Promise.all(
			Array.from({ length: concurrency }, async () => {
				while (next < requests) {
					const i = next++;
					const r = await shop.http.request("GET", `/api/products?minPrice=${process.env.LISTINGS_SAME ? 0 : i}&pageSize=50`);
					statuses[r.status] = (statuses[r.status] ?? 0) + 1;
				}
			})
		);
		const after = rssBytes(pid);
		await sleep(15_000);
		log(`${requests} distinct listings (${JSON.stringify(statuses)}): RSS idle ${mb(idle)}, right after ${mb(after)}, 15 s later ${mb(rssBytes(pid))}`);
	} finally {
		await shop.stop();
		await cleanUpAll(log);
	}
}

main().catch(err => {
	console.error(err);
	process.exitCode = 1;
});
