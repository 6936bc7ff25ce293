import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Every process and temporary folder the benchmark creates is registered here, so that a normal end, an
 * error and Ctrl-C all stop and remove them (in reverse order of creation).
 */

type CleanUp = { name: string; run: () => Promise<void>; hard: () => void };
const cleanUps: CleanUp[] = [];

/** Registers something to undo at the end; `hard` is the last resort on a synchronous exit. Answers an unregister function. */
export function onCleanUp(name: string, run: () => Promise<void>, hard: () => void = () => undefined): () => void {
	const entry = { name, run, hard };
	cleanUps.push(entry);
	return () => {
		const i = cleanUps.indexOf(entry);
		if (i >= 0) cleanUps.splice(i, 1);
	};
}

let cleaning: Promise<void> | undefined;

/** Undoes everything registered, newest first; never throws. */
export function cleanUpAll(log: (msg: string) => void = () => undefined): Promise<void> {
	cleaning ??= (async () => {
		while (cleanUps.length > 0) {
			const entry = cleanUps.pop()!;
			try {
				await entry.run();
			} catch (err) {
				log(`clean-up of ${entry.name} failed: ${(err as Error).message}`);
				try {
					entry.hard();
				} catch {
					// nothing more to do
				}
			}
		}
	})();
	return cleaning;
}

process.once("exit", () => {
	for (const entry of cleanUps.reverse()) {
		try {
			entry.hard();
		} catch {
			// exiting anyway
		}
	}
});

/**
 * Ctrl-C or a SIGTERM stops everything registered for clean-up before the process exits (a signal ends a
 * Node process without its "exit" event, which would leave servers and nodes behind); a second signal
 * exits at once.
 */
export function cleanUpOnSignals(log: (msg: string) => void = () => undefined): void {
	let interrupted = false;
	for (const signal of ["SIGINT", "SIGTERM"] as const) {
		process.on(signal, () => {
			if (interrupted) process.exit(130);
			interrupted = true;
			log(`${signal}: stopping everything this run started`);
			void cleanUpAll(log).finally(() => process.exit(130));
		});
	}
}

export function tempDir(prefix: string): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	// the embedded PostgreSQL runs as the `postgres` user when we are root: it must be able to pass through
	fs.chmodSync(dir, 0o755);
	onCleanUp(
		`folder ${dir}`,
		async () => fs.rmSync(dir, { recursive: true, force: true }),
		() => fs.rmSync(dir, { recursive: true, force: true })
	);
	return dir;
}

export { freePort, portOpen } from "../../lib/embedded-postgres";

export const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

export interface Proc {
	name: string;
	child: ChildProcess;
	pid: number;
	/** The last lines the process printed (for error messages). */
	tail(): string;
	/** Lines it logged at WARN level or above (how many, and the first few distinct ones). */
	warnings(): { count: number; samples: string[] };
	running(): boolean;
	exited: Promise<number | null>;
	/** SIGTERM, then SIGKILL after `graceMs`; waits for the exit. */
	stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a child in its own process group (a terminal's Ctrl-C reaches only the benchmark, which then
 * stops its children in order) and registers it for clean-up.
 */
export function startProc(
	name: string,
	command: string,
	args: string[],
	opts: { cwd?: string; env?: NodeJS.ProcessEnv; echo?: boolean; logFile?: string; onStop?: () => Promise<void> } = {}
): Proc {
	const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
	const logFile = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: "a" }) : undefined;
	const lines: string[] = [];
	const warned: string[] = [];
	let warnCount = 0;
	const keep = (chunk: Buffer) => {
		logFile?.write(chunk);
		for (const line of chunk.toString().split("\n")) {
			if (!line) continue;
			if (/\b(WARN|ERROR|FATAL)\b/.test(line)) {
				warnCount++;
				// the same message about another order or event id counts as one sample
				const shape = line
					.replace(/^\[[^\]]*\]\s*/, "")
					.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<id>")
					.slice(0, 240);
				if (warned.length < 8 && !warned.includes(shape)) warned.push(shape);
			}
			lines.push(line);
			if (lines.length > 200) lines.shift();
			if (opts.echo) process.stderr.write(`  [${name}] ${line}\n`);
		}
	};
	child.stdout!.on("data", keep);
	child.stderr!.on("data", keep);
	const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
	const running = () => child.exitCode === null && child.signalCode === null;
	let stopping: Promise<void> | undefined;
	const proc: Proc = {
		name,
		child,
		pid: child.pid ?? -1,
		tail: () => lines.slice(-40).join("\n"),
		warnings: () => ({ count: warnCount, samples: [...warned] }),
		running,
		exited,
		stop(graceMs = 30_000) {
			stopping ??= (async () => {
				if (running()) {
					child.kill("SIGTERM");
					const timer = setTimeout(() => running() && child.kill("SIGKILL"), graceMs);
					await exited;
					clearTimeout(timer);
				}
				await opts.onStop?.();
			})();
			return stopping;
		}
	};
	const unregister = onCleanUp(
		`process ${name}`,
		() => proc.stop(),
		() => running() && child.kill("SIGKILL")
	);
	void exited.then(() => {
		if (!opts.onStop) unregister();
	});
	return proc;
}

/** VmRSS of a process in bytes (Linux), undefined when it cannot be read. */
export function rssBytes(pid: number): number | undefined {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
		const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
		return m ? Number(m[1]) * 1024 : undefined;
	} catch {
		return undefined;
	}
}

/** Waits while a test run (mocha) is using the machine's cores (it would skew every number). */
export async function waitForQuietMachine(log: (msg: string) => void, maxWaitMs = 60 * 60_000): Promise<void> {
	const { execFileSync } = await import("node:child_process");
	const busy = (): string | undefined => {
		try {
			// a test run (mocha) on the same two cores would skew every number
			const out = execFileSync("pgrep", ["-af", "mocha"], { encoding: "utf8" });
			const others = out.split("\n").filter(l => l.trim() && !l.startsWith(`${process.pid} `) && !/pgrep/.test(l));
			return others.length > 0 ? others[0] : undefined;
		} catch {
			return undefined; // pgrep exits 1 when nothing matches (or is missing)
		}
	};
	const deadline = Date.now() + maxWaitMs;
	let told = false;
	for (let b = busy(); b; b = busy()) {
		if (!told) log(`waiting: a test run is using the machine (${b.slice(0, 100)})`);
		told = true;
		if (Date.now() > deadline) throw new Error("the machine stayed busy with test runs; giving up");
		await sleep(5000);
	}
}
