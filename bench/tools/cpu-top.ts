import fs from "node:fs";
import path from "node:path";

/**
 * The top self-time functions of a V8 .cpuprofile (as written by `node --cpu-prof`), and self time per
 * package. Usage: node --import tsx bench/tools/cpu-top.ts <file.cpuprofile> [top=25] [fromSeconds toSeconds]
 * The optional window (seconds since the profile started) keeps only the samples of a load phase; a
 * timeline of busy (non-idle) time per second is printed to find it.
 */

interface Node {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	hitCount?: number;
	children?: number[];
}
interface Profile {
	nodes: Node[];
	startTime: number;
	endTime: number;
	samples: number[];
	timeDeltas: number[];
}

const [file, topArg, fromArg, toArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const from = fromArg === undefined ? -Infinity : Number(fromArg) * 1e6;
const to = toArg === undefined ? Infinity : Number(toArg) * 1e6;
const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map(n => [n.id, n]));

// self time per node from the sample deltas (more exact than hitCount x interval)
const selfUs = new Map<number, number>();
const busyPerSecond: number[] = [];
let t = 0;
for (let i = 0; i < profile.samples.length; i++) {
	t += profile.timeDeltas[i] ?? 0;
	const id = profile.samples[i];
	const dt = profile.timeDeltas[i + 1] ?? 0;
	const second = Math.floor(t / 1e6);
	if (byId.get(id)!.callFrame.functionName !== "(idle)") busyPerSecond[second] = (busyPerSecond[second] ?? 0) + dt;
	if (t < from || t > to) continue;
	selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
}
console.log("Busy per second: " + Array.from(busyPerSecond, (us, s) => `${s}:${Math.round((us ?? 0) / 1e4)}%`).join(" "));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
	if (!url) return "";
	const clean = url.replace(/^file:\/\//, "");
	const nm = clean.lastIndexOf("node_modules/");
	return nm >= 0 ? clean.slice(nm + "node_modules/".length) : path.relative(process.cwd(), clean);
};
const pkgOf = (url: string) => {
	if (!url) return "(native / idle / gc)";
	const clean = url.replace(/^file:\/\//, "");
	const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(clean.slice(clean.lastIndexOf("node_modules/")));
	if (m && clean.includes("node_modules/")) return m[1];
	if (clean.startsWith("node:")) return "node core";
	return where(clean).split("/").slice(0, 2).join("/");
};

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, us] of selfUs) {
	const n = byId.get(id)!;
	const key = `${n.callFrame.functionName || "(anonymous)"}  ${where(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
	byFunction.set(key, (byFunction.get(key) ?? 0) + us);
	const pkg = pkgOf(n.callFrame.url);
	byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
console.log(`${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log("\nTop self time by function:");
for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
console.log("\nSelf time by package:");
for (const [k, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
