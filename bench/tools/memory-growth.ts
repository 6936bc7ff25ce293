import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { closedLoop, finishRound } from "../lib/checkout";
import { cleanUpAll, freePort, rssBytes, sleep, tempDir } from "../lib/proc";
import { adminToken, checkoutProduct, createCustomers, startSingle, waitForCatalog } from "../lib/shop";

/**
 * Where the memory scenario's growth goes: a fresh single process (as scenario 5 starts it), orders placed in a
 * closed loop up to each of the given counts; at each, RSS and the V8 heap (from the shop's /metrics, after the
 * full GC a heap snapshot makes) and, with --snapshots, a heap snapshot in <dir> to compare in Chrome DevTools.
 * With --inspect, also process.memoryUsage() and V8's heap spaces through the inspector protocol (after a full GC with --gc,
 * which resets V8's sizing of the heap: the later samples then differ from a run without it).
 * Usage: node --import tsx bench/tools/memory-growth.ts [1000,5000,10000] [customers=32] [--snapshots=<dir>] [--inspect [--gc]] [--node-arg=<flag>]...
 */

const counts = (process.argv[2] ?? "1000,5000,10000").split(",").map(Number);
const customersN = Number(process.argv[3] ?? 32);
const snapDir = process.argv.find(a => a.startsWith("--snapshots="))?.slice("--snapshots=".length);
const extraArgs = process.argv.filter(a => a.startsWith("--node-arg=")).map(a => a.slice("--node-arg=".length));
const log = (msg: string) => console.log(`[memory] ${msg}`);

async function scrape(port: number): Promise<Record<string, number>> {
	const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
	const out: Record<string, number> = { series: text.split("\n").filter(l => l && !l.startsWith("#")).length };
	for (const name of ["process_resident_memory_bytes", "nodejs_heap_used_bytes", "nodejs_heap_size_bytes"]) {
		const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(text);
		if (m) out[name] = Number(m[1]);
	}
	return out;
}

/** RSS by kind of mapping, from /proc/<pid>/smaps: the main thread's malloc arena ([heap]), the node binary, the rest (anonymous: V8's pages, other threads' arenas). */
function smaps(pid: number): { brk: number; binary: number; anon: number } {
	const out = { brk: 0, binary: 0, anon: 0 };
	let kind: keyof typeof out = "anon";
	for (const line of fs.readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
		const map = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
		if (map) kind = map[1] === "[heap]" ? "brk" : map[1] === "" ? "anon" : "binary";
		const rss = /^Rss:\s+(\d+) kB/.exec(line);
		if (rss) out[kind] += Number(rss[1]) * 1024;
	}
	return out;
}

/** An inspector protocol session with the shop (started with --inspect=<port>). */
async function session(port: number) {
	const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
	const ws = new WebSocket(target.webSocketDebuggerUrl);
	await new Promise((resolve, reject) => {
		ws.onopen = resolve;
		ws.onerror = reject;
	});
	let id = 0;
	const call = (method: string, params: object = {}) =>
		new Promise<{ result?: { result?: { value?: string }; profile?: SamplingProfile } }>(resolve => {
			const my = ++id;
			ws.addEventListener("message", function on(e: MessageEvent) {
				const msg = JSON.parse(String(e.data)) as { id?: number };
				if (msg.id !== my) return;
				ws.removeEventListener("message", on);
				resolve(msg as never);
			});
			ws.send(JSON.stringify({ id: my, method, params }));
		});
	return { call, close: () => ws.close() };
}

interface SampleNode {
	callFrame: { functionName: string; url: string; lineNumber: number };
	selfSize: number;
	children: SampleNode[];
}
interface SamplingProfile {
	head: SampleNode;
}

/** The allocation sites with the most sampled bytes (self), from a sampling heap profile. */
function topSites(profile: SamplingProfile, n: number): string[] {
	const bySite = new Map<string, number>();
	const walk = (node: SampleNode, parent: string) => {
		const f = node.callFrame;
		const here = f.url.includes("node_modules") || f.url.startsWith("node:") || !f.url ? `${parent} > ` : "";
		const site = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(node_modules\/|work\/[^/]+\/)/, "")}:${f.lineNumber + 1}`;
		bySite.set(`${here}${site}`, (bySite.get(`${here}${site}`) ?? 0) + node.selfSize);
		for (const c of node.children) walk(c, here ? parent : site);
	};
	walk(profile.head, "");
	return [...bySite.entries()]
		.sort((a, b) => b[1] - a[1])
		.slice(0, n)
		.map(([site, bytes]) => `${(bytes / 2 ** 20).toFixed(1).padStart(7)} MiB  ${site}`);
}

/** With --inspect=<port>: (a full GC with --gc, then) process.memoryUsage() and V8's heap spaces, through the inspector protocol. */
async function inspect(port: number, gc: boolean): Promise<{ mem: NodeJS.MemoryUsage; spaces: [string, number, number][] }> {
	const { call, close: closeSession } = await session(port);
	if (gc) await call("HeapProfiler.collectGarbage");
	const r = await call("Runtime.evaluate", {
		expression: `JSON.stringify({ mem: process.memoryUsage(), spaces: process.getBuiltinModule("v8").getHeapSpaceStatistics().map(s => [s.space_name, s.space_size, s.space_used_size]) })`,
		returnByValue: true
	});
	closeSession();
	return JSON.parse(r.result!.result!.value!) as never;
}

async function main(): Promise<void> {
	const work = tempDir("momentum-memory-");
	const healthPort = await freePort();
	const withGc = process.argv.includes("--gc");
	const inspectPort = process.argv.includes("--inspect") ? await freePort() : undefined;
	if (snapDir) fs.mkdirSync(snapDir, { recursive: true });
	const shop = await startSingle({
		dataDir: path.join(work, "shop"),
		jwtSecret: crypto.randomBytes(32).toString("hex"),
		nodeArgs: [
			...(snapDir ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${path.resolve(snapDir)}`] : []),
			...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
			...extraArgs
		],
		log,
		env: { HEALTH_PORT: String(healthPort) }
	});
	const pid = shop.procs[0].pid;
	const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
	try {
		const admin = await adminToken(shop.http);
		await waitForCatalog(shop.http);
		const product = await checkoutProduct(shop.http, admin, 2_000_000);
		const customers = await createCustomers(shop.http, customersN, "memory");
		let placed = 0;
		const sample = async (label: string) => {
			await sleep(2000);
			const rss = rssBytes(pid)!;
			let snap = "";
			if (snapDir) {
				const before = new Set(fs.readdirSync(snapDir));
				process.kill(pid, "SIGUSR2");
				const deadline = Date.now() + 120_000;
				for (;;) {
					const fresh = fs.readdirSync(snapDir).filter(f => !before.has(f) && f.endsWith(".heapsnapshot"));
					if (fresh.length) {
						const f = path.join(snapDir, fresh[0]);
						let size = -1;
						while (size !== fs.statSync(f).size) {
							size = fs.statSync(f).size;
							await sleep(1000);
						}
						const to = path.join(snapDir, `${label}.heapsnapshot`);
						fs.renameSync(f, to);
						snap = ` snapshot ${to}`;
						break;
					}
					if (Date.now() > deadline) throw new Error("no heap snapshot");
					await sleep(500);
				}
			}
			const m = await scrape(healthPort);
			const s = smaps(pid);
			log(
				`${label}: RSS ${mib(rss)}${snap ? ` (${mib(rssBytes(pid)!)} after the snapshot)` : ""}; V8 heap used ${mib(m.nodejs_heap_used_bytes)} of ${mib(m.nodejs_heap_size_bytes)}; ` +
					`main malloc arena ${mib(s.brk)}, other anonymous ${mib(s.anon)}, files ${mib(s.binary)}; ${m.series} metric series${snap}`
			);
			if (inspectPort) {
				const i = await inspect(inspectPort, withGc);
				log(
					`  ${withGc ? "after a full GC" : "as it is"}: RSS ${mib(i.mem.rss)}, heap used ${mib(i.mem.heapUsed)} of ${mib(i.mem.heapTotal)}, external ${mib(i.mem.external)} (array buffers ${mib(i.mem.arrayBuffers)}); spaces (size/used): ` +
						i.spaces
							.filter(([, size]) => size >= 2 ** 20)
							.map(([n, size, used]) => `${n.replace("_space", "")} ${(size / 2 ** 20).toFixed(1)}/${(used / 2 ** 20).toFixed(1)}`)
							.join(", ")
				);
			}
		};
		/** With --settle=<s>: RSS every 5 s for that long after each phase (does it come down when the load stops?). */
		const settle = Number(process.argv.find(a => a.startsWith("--settle="))?.slice("--settle=".length) ?? 0);
		const settleCurve = async () => {
			const curve: string[] = [];
			for (let t = 0; t < settle; t += 5) {
				await sleep(5000);
				curve.push(`${t + 5} s ${(rssBytes(pid)! / 2 ** 20).toFixed(0)}`);
			}
			if (curve.length) log(`  RSS (MiB) after the load stopped: ${curve.join(", ")}`);
		};
		await sample("idle");
		// --promoted: a sampling heap profile over the phases after the first, objects collected by mark-compacts
		// included (what the young generation promoted and the old generation then had to collect)
		let profiler: Awaited<ReturnType<typeof session>> | undefined;
		for (const upTo of counts) {
			if (upTo !== counts[0] && inspectPort && process.argv.includes("--promoted") && !profiler) {
				profiler = await session(inspectPort);
				await profiler.call("HeapProfiler.enable");
				await profiler.call("HeapProfiler.startSampling", { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true });
			}
			const t = Date.now();
			const run = await closedLoop(shop.http, customers, product, 3600, upTo - placed);
			placed += run.placed.filter(p => p.orderId).length;
			const r = await finishRound(shop.http, admin, run, { mode: "closed", concurrency: customersN }, 300_000);
			log(`${placed} orders (${r.confirmed} confirmed, ${r.errors} errors, ${r.busy} busy) in ${((Date.now() - t) / 1000).toFixed(0)} s`);
			await sample(`after-${placed}`);
			await settleCurve();
		}
		if (profiler) {
			const r = await profiler.call("HeapProfiler.stopSampling");
			profiler.close();
			log(`allocation sites of objects that reached the old generation (sampled bytes, live and collected):`);
			for (const line of topSites(r.result!.profile!, 40)) log(`  ${line}`);
		}
	} finally {
		await shop.stop();
		await cleanUpAll(log);
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
