import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../../lib/paths";
import { seedDemoData } from "../../services/catalog/catalog.demo-data";
import { TEST_ADMIN } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** The README's curl walk-through, run as a reader would: its bash block, top to bottom, against a fresh shop. */

function walkThrough(): string {
	const readme = fs.readFileSync(path.join(projectRoot(), "README.md"), "utf8");
	const section = readme.slice(readme.indexOf("### Try it with curl"));
	const block = /```bash\n([\s\S]*?)```/.exec(section);
	if (!block) throw new Error("README has no bash block under 'Try it with curl'");
	return block[1];
}

function run(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
	return new Promise(resolve => {
		const child = spawn("bash", ["-euo", "pipefail", "-c", script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		child.stdout.on("data", d => (out += d));
		child.stderr.on("data", d => (out += d));
		child.once("exit", code => resolve({ code, out }));
	});
}

describe("the README's curl walk-through", function () {
	this.timeout(120_000);
	let db: TestDatabase;
	let shop: RunningShop;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { EVENT_POLL_MS: "100" }));
		// what `npm start` does in development: the demo catalog, with stock
		await seedDemoData(shop.broker, { info: () => undefined, warn: () => undefined });
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("runs top to bottom and does what its comments say", async () => {
		const { code, out } = await run(walkThrough(), { BASE: shop.baseUrl, ADMIN_EMAIL: TEST_ADMIN.email, ADMIN_PASSWORD: TEST_ADMIN.password });
		expect(code, out).to.equal(0);
		expect(out).to.match(/order [0-9a-f-]{36}: CONFIRMED/);
		expect(out).to.contain("forgot-password: 202");
		expect(out).to.contain("archive: 204");
		expect(out).to.contain("Kim adjusts stock: 200");
		expect(out).to.contain("Kim creates a product: 403");
		// the order was cancelled after confirmation: refunded and restocked
		expect(out).to.match(/^CANCELLED$/m);
		expect(out).to.not.match(/UNAUTHENTICATED|VALIDATION_ERROR|NOT_FOUND|INTERNAL/);
	});
});
