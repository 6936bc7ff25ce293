import fs from "node:fs";
import path from "node:path";
import type { MachineInfo } from "./machine";

export interface Row {
	scenario: string;
	throughput: string;
	/** Milliseconds; NaN when not meaningful. */
	p50: number;
	p99: number;
	baseline: string;
	ratio: string;
	target: string;
	/** undefined: no target. */
	holds: boolean | undefined;
	note?: string;
}

export interface Results {
	startedAt: string;
	finishedAt?: string;
	seconds?: number;
	command: string;
	quick: boolean;
	params: Record<string, number>;
	machine?: MachineInfo;
	git?: string;
	rssIdle?: number;
	rssCluster?: number;
	rows: Row[];
	notes: string[];
	raw: unknown;
}

const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : "-");
const cell = (s: string) => s.replace(/\|/g, "\\|");

const METHOD = `## Method

- **Processes.** The shop runs as users run it: \`node --import tsx app/main.ts\` child processes with
  \`NODE_ENV=production\`, a random 64-hex \`JWT_SECRET\`, \`LOG_LEVEL=warn\`, \`BCRYPT_ROUNDS=10\`, the demo catalog
  seeded, saga and event settings at their defaults, per-client rate limits off (every client is 127.0.0.1). Without \`BENCH_DATABASE_URL\` the single process starts its
  own embedded PostgreSQL in a fresh temporary \`DATA_DIR\`; the cluster gets one embedded server started by the
  benchmark (as \`npm run cluster\` does) and a nats-server of its own (with a random user and password) on a free loopback port,
  and runs the four process groups of \`npm run cluster\`; then the same again over RabbitMQ (the machine's server at
  127.0.0.1:5672, in a fresh virtual host with a random user and password, deleted at the end), its rows side by side
  with NATS's ("over NATS", "over RabbitMQ"; skipped, with a note, where no RabbitMQ and \`rabbitmqctl\` are at hand). With \`BENCH_DATABASE_URL\` each shop gets a uniquely
  named database on that server, dropped at the end. Everything listens on 127.0.0.1; every process is stopped
  and every temporary folder removed at the end, also on errors and Ctrl-C.
- **Load.** HTTP reads and logins are closed loops by autocannon's programmatic API (a fixed number of
  connections, each sending its next request when the previous one answered). Latencies are recorded from
  autocannon's per-response events with sub-millisecond resolution. The load generator runs in the benchmark's
  own process on the same two cores as the server, for the baselines and the shop alike.
- **Interleaving.** After a warm-up, each scenario runs several rounds, each round its baseline then the shop;
  the table shows the median over rounds (throughput, p50 and p99 each the median of the rounds' values).
- **Baselines.** Catalog reads: a bare \`node:http\` server (its own process) answering the same JSON bodies the
  shop answered, serialised with \`JSON.stringify\` per request. Login: \`bcrypt.compare\` alone (its own process,
  the same \`bcrypt\` package, cost 10, as many comparisons in flight as the login load has connections).
  Checkout: the database limit, i.e. the same PostgreSQL server running one checkout transaction per order with
  node-postgres at the same concurrency (\`BEGIN; SELECT ... FOR UPDATE\` the stock row, \`UPDATE\` it, \`INSERT\`
  an order and an outbox row shaped like the shop's, same indexes; \`COMMIT\`). Multi-node: the single process,
  in interleaved rounds (both shops up at once, only one loaded at a time).
- **Checkout.** Each order is one customer (registered and logged in through the API) adding a product with
  plenty of stock to the cart and \`POST /api/orders\` with \`tok_visa\` and an \`Idempotency-Key\`. The POST
  latency is measured by the client; the saga latency is the order's own history (\`PENDING\` at ->
  \`CONFIRMED\` at), read through the admin listing after the round. Orders per second to CONFIRMED = confirmed
  orders / (last confirmation - start of the round). The maximum is measured with a closed loop (every customer
  places orders back to back; the saga drains the backlog after the loop stops); then an open loop offers
  half that rate at fixed arrival times, whatever the answers do. An order is CONFIRMED before its follow-up
  events (the stock commit, the e-mail) are handled, so every round (and every database-limit round) starts
  once no service has an event left to handle or to hand on (read from the event tables), rather than behind
  the last round's backlog. The half-load rows are the median of three open rounds; the notes list every
  round's p99, since one stall of the machine's disk moves a round's p99 (see the findings). Errors count
  failed requests, cancelled orders and orders not settled within the time limit. A request whose kept-alive
  socket the server had just closed for idleness (it never reached the server) is sent once more.
- **Memory.** VmRSS from \`/proc/<pid>/status\` of a fresh single process: idle (started, catalog seeded,
  customers created), after its first 1,000 orders and after 10,000 (closed loop, 32 customers, each time once
  the saga has drained and 2 s have passed), or as far as the run's time budget goes. A sample per second is
  in results.json.
`;

export function writeReport(results: Results, root: string): void {
	fs.writeFileSync(path.join(root, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
	const m = results.machine;
	const lines: string[] = [];
	lines.push("# Benchmarks", "");
	lines.push("Generated by `npm run bench` (bench/run.ts); raw numbers in [bench/results.json](bench/results.json). Do not edit the");
	lines.push("tables by hand: run the benchmark again. The findings at the end come from bench/findings.md.", "");
	lines.push(
		"```bash",
		"npm run bench                     # about 9 minutes; embedded PostgreSQL, nothing else to install",
		"BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench",
		"npm run bench -- --only=catalog,login --cpu-prof   # some scenarios; profiles in bench/profiles/",
		"```",
		""
	);
	lines.push(`- **Command:** \`${results.command}\`${results.quick ? " (quick mode: short rounds, rough numbers)" : ""}`);
	lines.push(`- **Date:** ${results.startedAt} (took ${results.seconds ?? "?"} s), commit ${results.git ?? "unknown"}`);
	if (m) {
		lines.push(`- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}`);
		lines.push(`- **Software:** Node.js ${m.node}, PostgreSQL ${m.postgres}`);
	}
	lines.push("", "## Results", "");
	lines.push("| Scenario | Median throughput | p50 (ms) | p99 (ms) | Baseline | Ratio | Target | Holds? |");
	lines.push("| --- | --- | --- | --- | --- | --- | --- | --- |");
	for (const r of results.rows) {
		const holds = r.holds === undefined ? "-" : r.holds ? "yes" : "**no**";
		lines.push(
			`| ${cell(r.scenario)} | ${cell(r.throughput)} | ${ms(r.p50)} | ${ms(r.p99)} | ${cell(r.baseline)} | ${cell(r.ratio)} | ${cell(r.target)} | ${holds} |`
		);
	}
	const notes = results.rows.filter(r => r.note).map(r => `- ${r.scenario.split(":")[0].split(" (")[0]}: ${r.note}`);
	if (notes.length || results.notes.length) lines.push("", ...notes, ...results.notes.map(n => `- ${n}`));
	lines.push("", METHOD);
	const findings = path.join(root, "bench", "findings.md");
	if (fs.existsSync(findings)) lines.push(fs.readFileSync(findings, "utf8").trim(), "");
	fs.writeFileSync(path.join(root, "BENCHMARKS.md"), lines.join("\n"));
}
