import crypto from "node:crypto";
import path from "node:path";
import { cleanUpAll, tempDir } from "../lib/proc";
import { startSingle } from "../lib/shop";
import { summarize } from "../lib/stats";

/**
 * A signed-up user's login latency while anonymous logins flood the shop from many addresses (a botnet, as
 * far as the per-address limits can tell), with bcrypt work bounded per node (the defaults) and unbounded
 * (what the shop did before BCRYPT_MAX_IN_FLIGHT / BCRYPT_MAX_QUEUE). One process, bcrypt cost 10, loopback.
 * The user retries a 503 or 429 after its Retry-After, as a client should; the time to their 200 counts.
 * Usage: [FLOOD_SETTINGS=4/32,2/8,256/10000] node --import tsx bench/tools/login-flood.ts [floodRequests=700] [concurrency=64]
 */

const floodRequests = Number(process.argv[2] ?? 700);
const concurrency = Number(process.argv[3] ?? 64);
const log = (msg: string) => console.log(`[login-flood] ${msg}`);

async function run(label: string, env: Record<string, string>): Promise<void> {
	const work = tempDir("momentum-login-flood-");
	// 127.0.0.1 is the flood's "proxy", so every flood request can come from an address of its own
	const shop = await startSingle({
		dataDir: path.join(work, "shop"),
		jwtSecret: crypto.randomBytes(32).toString("hex"),
		log,
		logDir: process.env.FLOOD_LOG_DIR,
		env: { TRUSTED_PROXIES: "127.0.0.1", SEED_DEMO_DATA: "false", ...env }
	});
	try {
		const email = `user.${Date.now()}@example.com`;
		const user = { "x-forwarded-for": "198.51.100.1" };
		const registered = await shop.http.request("POST", "/api/auth/register", { body: { email, password: "a real password", name: "User" }, headers: user });
		if (registered.status !== 201) throw new Error(`registering the user answered ${registered.status}: ${JSON.stringify(registered.body)}`);
		let userRefusals = 0;
		/** The user's login as a client does it: a 503 or 429 is tried again after Retry-After. Answers the time to a 200. */
		const userLogin = async () => {
			const started = performance.now();
			for (let attempt = 0; attempt < 20; attempt++) {
				const r = await shop.http.request("POST", "/api/auth/login", { body: { email, password: "a real password" }, headers: user });
				if (r.status === 200) return performance.now() - started;
				if (r.status !== 503 && r.status !== 429) throw new Error(`the user's login answered ${r.status}`);
				userRefusals++;
				await new Promise(resolve => setTimeout(resolve, Number(r.headers["retry-after"] ?? 1) * 1000));
			}
			throw new Error("the user could not log in in 20 attempts");
		};
		const idle: number[] = [];
		for (let i = 0; i < 20; i++) idle.push(await userLogin());

		const statuses: Record<string, number> = {};
		let next = 0;
		let flooding = true;
		const started = performance.now();
		const flood = Promise.all(
			Array.from({ length: concurrency }, async () => {
				while (next < floodRequests) {
					const i = next++;
					const status = await shop.http
						.request("POST", "/api/auth/login", {
							body: { email: `nobody.${i}@example.com`, password: "guess" },
							headers: { "x-forwarded-for": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }
						})
						.then(
							r => String(r.status),
							(err: NodeJS.ErrnoException) => err.code ?? err.message
						);
					statuses[status] = (statuses[status] ?? 0) + 1;
				}
			})
		).then(() => (flooding = false));
		const during: number[] = [];
		while (flooding) during.push(await userLogin());
		await flood;
		const seconds = (performance.now() - started) / 1000;
		const a = summarize(idle);
		const b = summarize(during);
		log(
			`${label}: user's login idle p50 ${a.p50.toFixed(0)} ms / p99 ${a.p99.toFixed(0)} ms; during the flood p50 ${b.p50.toFixed(0)} ms / p99 ${b.p99.toFixed(0)} ms (${during.length} logins, ${userRefusals} refusals waited out)`
		);
		log(`${label}: flood of ${floodRequests} at concurrency ${concurrency} took ${seconds.toFixed(1)} s, answers ${JSON.stringify(statuses)}`);
	} finally {
		await shop.stop();
	}
}

async function main(): Promise<void> {
	try {
		const settings = (process.env.FLOOD_SETTINGS ?? "4/32,2/8,256/10000").split(",");
		for (const s of settings) {
			const [inFlight, queue] = s.split("/");
			await run(`BCRYPT_MAX_IN_FLIGHT=${inFlight}, BCRYPT_MAX_QUEUE=${queue}`, { BCRYPT_MAX_IN_FLIGHT: inFlight, BCRYPT_MAX_QUEUE: queue });
		}
	} finally {
		await cleanUpAll(log);
	}
}

main().catch(err => {
	console.error(err);
	process.exitCode = 1;
});
