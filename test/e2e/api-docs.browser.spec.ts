import { expect } from "chai";
import type { Browser } from "playwright-core";
import { chromiumPath, launchBrowser } from "../support/browser";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** The API reference at /api/docs, opened in a real headless Chromium: it renders every operation under its strict CSP. */
describe("the API reference page in Chromium", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let browser: Browser;

	before(async function () {
		if (!chromiumPath()) {
			console.warn("    (no Chromium: install Debian's chromium package or set CHROMIUM_PATH; skipping)");
			this.skip();
		}
		db = await createTestDatabase();
		shop = await startShop(testConfig(db));
		browser = await launchBrowser();
	});
	after(async () => {
		await browser?.close();
		await shop?.stop();
		await db?.drop();
	});

	it("renders every documented operation, loading nothing from elsewhere and breaking no CSP rule", async () => {
		const page = await browser.newPage();
		const problems: string[] = [];
		const foreign: string[] = [];
		page.on("console", m => {
			if (m.type() === "error") problems.push(m.text());
		});
		page.on("pageerror", err => problems.push(err.message));
		page.on("request", r => {
			if (!r.url().startsWith(shop.baseUrl) && !r.url().startsWith("data:")) foreign.push(r.url());
		});
		const res = await page.goto(`${shop.baseUrl}/api/docs`);
		expect(res?.status()).to.equal(200);

		const doc = (await (await fetch(`${shop.baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
		const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).filter(k => k !== "parameters").length, 0);
		// (a string: the test is compiled without the DOM's types)
		await page.waitForFunction(`document.querySelectorAll(".opblock").length >= ${operations}`, undefined, { timeout: 20_000 });
		expect(await page.locator(".opblock").count()).to.equal(operations);
		expect(await page.locator(".opblock-summary-path", { hasText: "/api/orders/{id}" }).count()).to.be.greaterThan(0);
		// the bearer scheme is there to authorize with
		expect(await page.locator("button.authorize").count()).to.equal(1);

		// an operation opens and shows its parameters and responses
		await page.locator(".opblock-summary", { hasText: "/api/products/{id}" }).first().click();
		await page.waitForSelector(".opblock.is-open .responses-table");
		expect(await page.locator(".opblock.is-open .parameters-container").count()).to.equal(1);

		expect(problems, problems.join("\n")).to.deep.equal([]);
		expect(foreign).to.deep.equal([]);
		await page.close();
	});
});
