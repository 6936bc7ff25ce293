import bcrypt from "bcrypt";

/**
 * Baseline for the login: bcrypt.compare alone (the same `bcrypt` package and call the identity service
 * uses), at the same cost factor and the same number of comparisons in flight as the login load has
 * connections. Prints one JSON line: { count, seconds, latencies }.
 *
 * Usage: node bcrypt.ts <rounds> <concurrency> <seconds>
 */
async function main(): Promise<void> {
	const [rounds, concurrency, seconds] = process.argv.slice(2).map(Number);
	const password = "correct horse battery staple";
	const hash = await bcrypt.hash(password, rounds);
	const loop = async (until: number, latencies?: number[]) => {
		while (performance.now() < until) {
			const t0 = performance.now();
			const ok = await bcrypt.compare(password, hash);
			if (!ok) throw new Error("bcrypt.compare answered false");
			latencies?.push(performance.now() - t0);
		}
	};
	// warm-up: the thread pool started, the code optimised
	const warmUntil = performance.now() + 1000;
	await Promise.all(Array.from({ length: concurrency }, () => loop(warmUntil)));

	const latencies: number[] = [];
	const start = performance.now();
	const until = start + seconds * 1000;
	await Promise.all(Array.from({ length: concurrency }, () => loop(until, latencies)));
	const elapsed = (performance.now() - start) / 1000;
	process.stdout.write(JSON.stringify({ count: latencies.length, seconds: elapsed, latencies }) + "\n");
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
