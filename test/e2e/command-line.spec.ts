import { expect } from "chai";
import { spawn } from "node:child_process";
import { projectRoot } from "../../lib/paths";

/** `--help` and mistyped options of the entry points, as a user runs them: nothing starts, no database. */

interface Ran {
	code: number | null;
	stdout: string;
	stderr: string;
}

const running: ReturnType<typeof spawn>[] = [];

/** Were a command to start the shop anyway, it would take no port of anyone's and find no database. */
const NOTHING_TO_START = { PORT: "0", IDENTITY_GRPC_PORT: "0", HEALTH_PORT: "off", DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" };

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
	const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
		cwd: projectRoot(),
		env: { ...process.env, LOG_LEVEL: "info", ...env },
		stdio: ["ignore", "pipe", "pipe"]
	});
	let stdout = "";
	let stderr = "";
	child.stdout.on("data", d => (stdout += d));
	child.stderr.on("data", d => (stderr += d));
	// a process that starts the shop instead of answering is killed in `after`
	running.push(child);
	return new Promise(resolve => child.once("exit", code => resolve({ code, stdout, stderr })));
}

describe("the command line of app/main.ts, app/seed.ts and app/cluster.ts", function () {
	this.timeout(60_000);
	after(() => {
		for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
	});

	for (const script of ["app/main.ts", "app/seed.ts", "app/cluster.ts"]) {
		for (const flag of ["--help", "-h"]) {
			it(`${script} ${flag} prints the usage and exits 0 without starting anything`, async () => {
				const ran = await run(script, [flag], NOTHING_TO_START);
				expect(ran.code, ran.stdout + ran.stderr).to.equal(0);
				expect(ran.stdout).to.match(/^Usage: npm (start|run seed|run cluster)/);
				expect(ran.stdout).to.contain(".env.example");
				expect(ran.stdout).to.contain('"Configuration"');
				expect(ran.stdout).to.contain("DATABASE_URL");
				if (script === "app/main.ts") {
					expect(ran.stdout).to.contain("--repl");
					expect(ran.stdout).to.contain("ADMIN_EMAIL");
				}
				// no broker started, nothing logged
				expect(ran.stdout + ran.stderr).to.not.match(/\bINFO\b|is starting/);
				expect(ran.stderr).to.equal("");
			});
		}

		it(`${script} with an unknown option says so and exits 2`, async () => {
			const ran = await run(script, ["--frobnicate"], NOTHING_TO_START);
			expect(ran.code, ran.stdout + ran.stderr).to.equal(2);
			expect(ran.stderr).to.contain("Unknown option --frobnicate");
			expect(ran.stderr).to.contain("--help");
			expect(ran.stdout).to.equal("");
		});
	}
});
