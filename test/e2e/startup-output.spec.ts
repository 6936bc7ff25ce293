import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { READY_LINE } from "../../app/banner";
import { freePort } from "../../lib/embedded-postgres";
import { projectRoot } from "../../lib/paths";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually, GiveUp } from "../support/eventually";

/** What `npm start` prints in development: a short start-up that ends with where to go next. */

const MAX_LINES = 40;

describe("the start-up output of `npm start`", function () {
	this.timeout(120_000);
	let db: TestDatabase;
	let tmp: string;
	let child: ChildProcess | undefined;
	let out = "";

	before(async () => {
		db = await createTestDatabase();
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-startup-"));
	});
	after(async () => {
		if (child && child.exitCode === null && child.signalCode === null) {
			const exited = new Promise(resolve => child!.once("exit", resolve));
			child.kill("SIGTERM");
			await exited;
		}
		await db?.drop();
		fs.rmSync(tmp, { recursive: true, force: true });
	});

	it("is a few lines ending in a banner with a REST URL that answers, the ports and the admin's sign-in, never the password", async () => {
		const [port, healthPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
		const env: NodeJS.ProcessEnv = {
			...process.env,
			NODE_ENV: "development",
			LOG_LEVEL: "info",
			LOG_FORMAT: "text",
			DATABASE_URL: db.url,
			DATA_DIR: tmp,
			PORT: String(port),
			HEALTH_PORT: String(healthPort),
			IDENTITY_GRPC_PORT: String(grpcPort),
			BCRYPT_ROUNDS: "4",
			ADMIN_EMAIL: "boss@example.com",
			ADMIN_PASSWORD: "admin-password-not-to-be-printed"
		};
		for (const k of ["SERVICES", "TRANSPORTER", "SEED_DEMO_DATA"]) delete env[k];
		child = spawn(process.execPath, ["--import", "tsx", "app/main.ts"], { cwd: projectRoot(), env, stdio: ["ignore", "pipe", "pipe"] });
		child.stdout!.on("data", d => (out += d));
		child.stderr!.on("data", d => (out += d));

		// the banner, whole: it ends with a blank line
		const lines = await eventually(
			() => {
				if (child!.exitCode !== null) throw new GiveUp(`exited early:\n${out}`);
				const all = out.split("\n");
				const at = all.findIndex(l => l.startsWith(READY_LINE));
				if (at < 0 || !all.slice(at).some(l => l === "")) throw new Error(`no banner yet:\n${out}`);
				return all;
			},
			90_000,
			100
		);
		const ready = lines.findIndex(l => l.startsWith(READY_LINE));
		const banner = lines.slice(ready, lines.indexOf("", ready));
		expect(banner.length, out).to.be.at.most(10);

		const api = /REST API\s+(http:\/\/\S+)/.exec(banner.join("\n"))?.[1];
		expect(api, out).to.equal(`http://127.0.0.1:${port}/api/products`);
		const res = await fetch(api!);
		expect(res.status).to.equal(200);
		expect(((await res.json()) as { total: number }).total).to.be.greaterThan(0);

		expect(banner.join("\n")).to.contain(`http://127.0.0.1:${healthPort}/health/ready`);
		expect((await fetch(`http://127.0.0.1:${healthPort}/health/ready`)).status).to.equal(200);
		expect(banner.join("\n")).to.contain(`127.0.0.1:${grpcPort}`);
		expect(banner.join("\n")).to.contain("boss@example.com");
		// the admin named in the banner can sign in where it says
		const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ email: "boss@example.com", password: env.ADMIN_PASSWORD })
		});
		expect(login.status).to.equal(200);

		// short: no route tables, no framework report, and no secret
		const printed = out.trimEnd().split("\n");
		expect(printed.length, out).to.be.at.most(MAX_LINES);
		expect(out).to.not.match(/=>|Register route|Generate aliases/);
		expect(out).to.not.contain(env.ADMIN_PASSWORD);
	});
});
