import { expect } from "chai";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { LoginResult } from "../../services/identity/identity.types";
import { startShop, testConfig } from "../support/shop";

function portOpen(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect(port, "127.0.0.1");
		socket.once("connect", () => {
			socket.destroy();
			resolve(true);
		});
		socket.once("error", () => resolve(false));
	});
}

function embeddedPort(dataDir: string): number {
	const pid = fs.readFileSync(path.join(dataDir, "postgres", "pgdata", "postmaster.pid"), "utf8").split("\n");
	return Number(pid[3]);
}

/** What `npm start` does with no DATABASE_URL: the shop starts its own PostgreSQL under DATA_DIR. */
describe("embedded PostgreSQL (no DATABASE_URL)", function () {
	this.timeout(120_000);
	let dataDir: string;

	before(() => {
		dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-data-"));
		fs.chmodSync(dataDir, 0o755);
	});
	after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

	it("starts its own server, keeps the data across a restart, and stops the server with the shop", async () => {
		const env = { SERVICES: "identity", DATA_DIR: dataDir, DATABASE_URL: undefined };
		const first = await startShop(testConfig(undefined, env));
		const port = embeddedPort(dataDir);
		try {
			expect(await portOpen(port)).to.equal(true);
			await first.broker.call("identity.register", { email: "keeper@example.com", password: "password123", name: "Keeper" });
		} finally {
			await first.stop();
		}
		expect(await portOpen(port)).to.equal(false);

		const second = await startShop(testConfig(undefined, env));
		try {
			const login = await second.broker.call<LoginResult, object>("identity.login", { email: "keeper@example.com", password: "password123" });
			expect(login.user.name).to.equal("Keeper");
		} finally {
			await second.stop();
		}
	});

	it("lets two shops with different data folders run side by side", async () => {
		const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-data-"));
		fs.chmodSync(otherDir, 0o755);
		const a = await startShop(testConfig(undefined, { SERVICES: "identity,gateway", DATA_DIR: dataDir, DATABASE_URL: undefined }));
		const b = await startShop(testConfig(undefined, { SERVICES: "identity,gateway", DATA_DIR: otherDir, DATABASE_URL: undefined }));
		try {
			expect(embeddedPort(dataDir)).not.to.equal(embeddedPort(otherDir));
			expect(a.baseUrl).not.to.equal(b.baseUrl);
			expect(a.grpcPort).not.to.equal(b.grpcPort);
			// the same e-mail registers in both: they share nothing
			for (const shop of [a, b]) {
				const res = await fetch(`${shop.baseUrl}/api/auth/register`, {
					method: "POST",
					headers: { "content-type": "application/json" },
					body: JSON.stringify({ email: "twin@example.com", password: "password123", name: "Twin" })
				});
				expect(res.status).to.equal(201);
			}
		} finally {
			await Promise.all([a.stop(), b.stop()]);
			fs.rmSync(otherDir, { recursive: true, force: true });
		}
	});
});
