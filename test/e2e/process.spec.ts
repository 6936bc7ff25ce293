import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../lib/embedded-postgres";
import { projectRoot } from "../../lib/paths";
import { eventually, GiveUp } from "../support/eventually";

/** The shop as `npm start` runs it: a real process, real signals, the embedded database. */

interface Started {
	child: ChildProcess;
	output: () => string;
	exited: Promise<number | null>;
}

function launch(env: Record<string, string | undefined>, script = "app/main.ts"): Started {
	const cleanEnv: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: undefined, LOG_LEVEL: "info", ...env };
	for (const k of Object.keys(cleanEnv)) if (cleanEnv[k] === undefined) delete cleanEnv[k];
	const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: projectRoot(), env: cleanEnv, stdio: ["ignore", "pipe", "pipe"] });
	let out = "";
	child.stdout!.on("data", d => (out += d));
	child.stderr!.on("data", d => (out += d));
	const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
	return { child, output: () => out, exited };
}

async function waitReady(port: number, proc: Started, timeoutMs = 60_000): Promise<void> {
	await eventually(
		async () => {
			if (proc.child.exitCode !== null) throw new GiveUp(`exited early:\n${proc.output()}`);
			const status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
				res => res.status,
				() => "not listening yet"
			);
			expect(status, `not ready in time:\n${proc.output()}`).to.equal(200);
		},
		timeoutMs,
		200
	);
}

const post = (port: number, route: string, body: object) =>
	fetch(`http://127.0.0.1:${port}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("the shop process", function () {
	this.timeout(120_000);
	let dataDir: string;
	const running: Started[] = [];

	let tmp: string;
	const secret = crypto.randomBytes(32).toString("hex");

	before(() => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-proc-"));
		fs.chmodSync(tmp, 0o755);
		// a DATA_DIR that does not exist yet, as on a fresh checkout
		dataDir = path.join(tmp, "data");
	});
	after(async () => {
		for (const p of running) if (p.child.exitCode === null) p.child.kill("SIGKILL");
		fs.rmSync(tmp, { recursive: true, force: true });
	});

	it("refuses to start in production with a weak or missing JWT_SECRET, saying why", async () => {
		for (const [secret, reason] of [
			["changeme", "well-known default"],
			["short-secret", "at least 32 characters"],
			[undefined, "required in production"]
		] as const) {
			const proc = launch({ NODE_ENV: "production", JWT_SECRET: secret, DATA_DIR: dataDir, SERVICES: "gateway" });
			expect(await proc.exited).to.equal(1);
			expect(proc.output()).to.contain(reason);
		}
	});

	it("exits 1 within seconds when start-up fails, even while a client polls /health/ready over keep-alive", async () => {
		// gRPC's port is taken: identity's adapter fails to start once the gateway listens and the embedded
		// database runs
		const taken = (await import("node:net")).createServer();
		await new Promise<void>(resolve => taken.listen(0, "127.0.0.1", resolve));
		const grpcPort = (taken.address() as import("node:net").AddressInfo).port;
		const port = await freePort();
		const proc = launch({
			SERVICES: "gateway,identity,catalog",
			DATA_DIR: path.join(tmp, "startup-failure"),
			PORT: String(port),
			HOST: "127.0.0.1",
			IDENTITY_GRPC_PORT: String(grpcPort),
			JWT_SECRET: secret
		});
		running.push(proc);
		const http = await import("node:http");
		const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
		let polling = true;
		// a client asking every 100 ms over its one kept-alive socket, until the test is done with it
		const poll = eventually(
			async () => {
				await new Promise<void>(resolve => {
					const req = http.get({ host: "127.0.0.1", port, path: "/health/ready", agent }, res => {
						res.resume();
						res.on("end", () => resolve());
					});
					req.on("error", () => resolve());
				});
				if (polling) throw new Error("still polling");
			},
			60_000,
			100
		);
		try {
			// within seconds
			await eventually(() => expect(proc.child.exitCode ?? proc.child.signalCode, `still running:\n${proc.output()}`).to.not.equal(null), 20_000);
			const code = await proc.exited;
			expect(code, proc.output()).to.equal(1);
			expect(proc.output()).to.contain("Start-up failed");
		} finally {
			polling = false;
			await poll;
			agent.destroy();
			taken.close();
		}
	});

	it("refuses an unknown service name in SERVICES", async () => {
		const proc = launch({ SERVICES: "identity,shipping", DATA_DIR: dataDir });
		expect(await proc.exited).to.equal(1);
		expect(proc.output()).to.contain("shipping");
	});

	it("runs only the services SERVICES names, stops cleanly on SIGTERM, and keeps users across a restart", async () => {
		const port = await freePort();
		const env = {
			SERVICES: "identity,gateway",
			PORT: String(port),
			IDENTITY_GRPC_PORT: String(await freePort()),
			DATA_DIR: dataDir,
			BCRYPT_ROUNDS: "4",
			JWT_SECRET: secret
		};

		const first = launch(env);
		running.push(first);
		await waitReady(port, first);
		const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as { services: object };
		expect(ready.services).to.deep.equal({ identity: "up" });
		expect((await post(port, "/api/auth/register", { email: "restart@example.com", password: "password123", name: "Restart" })).status).to.equal(201);

		first.child.kill("SIGTERM");
		expect(await first.exited).to.equal(0);
		expect(first.output()).to.contain("SIGTERM received");
		// the embedded server went down with the shop: its pid file is gone
		expect(fs.existsSync(path.join(dataDir, "postgres", "pgdata", "postmaster.pid"))).to.equal(false);

		const second = launch(env);
		running.push(second);
		await waitReady(port, second);
		const login = await post(port, "/api/auth/login", { email: "restart@example.com", password: "password123" });
		expect(login.status).to.equal(200);
		second.child.kill("SIGINT");
		expect(await second.exited).to.equal(0);
	});

	it("adopts the embedded server a killed process left behind instead of failing", async () => {
		const port = await freePort();
		const env = {
			SERVICES: "identity,gateway",
			PORT: String(port),
			IDENTITY_GRPC_PORT: String(await freePort()),
			DATA_DIR: dataDir,
			BCRYPT_ROUNDS: "4",
			JWT_SECRET: secret
		};
		const killed = launch(env);
		running.push(killed);
		await waitReady(port, killed);
		killed.child.kill("SIGKILL");
		await killed.exited;

		const next = launch(env);
		running.push(next);
		await waitReady(port, next);
		expect(next.output()).to.contain("Adopting the embedded PostgreSQL");
		expect((await post(port, "/api/auth/login", { email: "restart@example.com", password: "password123" })).status).to.equal(200);
		next.child.kill("SIGTERM");
		expect(await next.exited).to.equal(0);
	});

	it("lets `npm run seed` use the database of a running shop on the same DATA_DIR without stopping it", async () => {
		const port = await freePort();
		const env = {
			SERVICES: "identity,gateway",
			PORT: String(port),
			IDENTITY_GRPC_PORT: String(await freePort()),
			DATA_DIR: dataDir,
			BCRYPT_ROUNDS: "4",
			JWT_SECRET: secret
		};
		const shop = launch(env);
		running.push(shop);
		await waitReady(port, shop);

		const seed = launch({ DATA_DIR: dataDir, JWT_SECRET: secret }, "app/seed.ts");
		running.push(seed);
		expect(await seed.exited, seed.output()).to.equal(0);
		expect(seed.output()).to.match(/Using the embedded PostgreSQL of process \d+/);
		expect(seed.output()).to.match(/Created 5\d demo product\(s\)/);

		// the shop's database is still up
		expect((await post(port, "/api/auth/login", { email: "restart@example.com", password: "password123" })).status).to.equal(200);
		shop.child.kill("SIGTERM");
		expect(await shop.exited).to.equal(0);
	});
});
