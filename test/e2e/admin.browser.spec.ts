import crypto from "node:crypto";
import { expect } from "chai";
import type { Service, ServiceBroker, ServiceSchema } from "moleculer";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { AppConfig } from "../../app/config";
import { defineEvents, subscriptions, type IncomingEnvelope } from "../../lib/events";
import { ReliableEventsMixin } from "../../lib/mixins/reliable-events.mixin";
import { adminToken, loginAs, newCustomer, TEST_ADMIN, uniqueEmail } from "../support/auth";
import { chromiumPath, launchBrowser } from "../support/browser";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually, until } from "../support/eventually";
import { httpClient } from "../support/http";
import { axeViolations, describeViolations, screenshot, VIEWPORTS, watchProblems, type PageProblems } from "../support/pages";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** A test fact only the test's own consumer handles: its handler fails until the test "fixes" it. */
const EVENT = "test.adminDeadLetter";
type Wanted = { n: number; ref: string };
const testEvents = defineEvents<{ [EVENT]: Wanted }>("test", {
	[EVENT]: {
		summary: "A test fact for the admin's dead letters.",
		correlateBy: "ref",
		schema: { type: "object", properties: { n: { type: "integer" }, ref: { type: "string" } }, required: ["n", "ref"] }
	}
});

/** The admin at /admin in a real headless Chromium, against a whole shop: what staff see and do there. */
describe("the admin in Chromium", function () {
	this.timeout(120_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let browser: Browser;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let steps: ReturnType<typeof checkoutSteps>;
	const contexts: BrowserContext[] = [];

	let broken = true;
	const handled: number[] = [];
	const wanted = subscriptions<unknown>("audit").on(testEvents, {
		async [EVENT](event) {
			if (broken) throw new Error("the audit handler is broken");
			handled.push(event.data.n);
		}
	});
	/** The shop's broker as soon as it exists: a start that fails halfway must still be stopped (or mocha never exits). */
	let broker: ServiceBroker | undefined;
	/** A service of the test's own, with an inbox like every consumer's: its dead letters are the shop's too. */
	const auditConsumer = (config: AppConfig): ServiceSchema => ({
		name: "audit",
		created(this: Service) {
			broker = this.broker;
		},
		mixins: [ReliableEventsMixin({ service: "audit", config: config.events, database: config.database, migrations: [], subscriptions: wanted, routes: {} })]
	});

	before(async function () {
		if (!chromiumPath()) {
			console.warn("    (no Chromium: install Debian's chromium package or set CHROMIUM_PATH; skipping)");
			this.skip();
		}
		db = await createTestDatabase();
		// small pools: other suites may share the PostgreSQL server (100 connections)
		const config = testConfig(db, {
			DATABASE_POOL_MAX: "3",
			EVENT_POLL_MS: "50",
			EVENT_MAX_ATTEMPTS: "2",
			EVENT_RETRY_BASE_MS: "10",
			EVENT_RETRY_MAX_MS: "20"
		});
		shop = await startShop(config, [auditConsumer(config)]);
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		steps = checkoutSteps(request, () => admin);
		browser = await launchBrowser();
	});
	after(async () => {
		// each step on its own: a failed one must not keep the others (and mocha) hanging
		for (const step of [() => browser?.close(), () => (shop?.broker ?? broker)?.stop(), () => db && eventually(() => db.drop(), 10_000, 200)]) {
			try {
				await step();
			} catch (err) {
				console.warn("    cleanup failed:", err);
			}
		}
	});

	interface Tab {
		page: Page;
		problems: PageProblems;
	}

	/** A fresh browser profile (its own storage: nobody signed in) at `width`, on `path`, once the page is ready. */
	async function open(path = "/admin", viewport: keyof typeof VIEWPORTS = "desktop"): Promise<Tab> {
		const context = await browser.newContext({ viewport: VIEWPORTS[viewport] });
		contexts.push(context);
		const page = await context.newPage();
		const problems = watchProblems(page, shop.baseUrl);
		await page.goto(shop.baseUrl + path);
		await ready(page);
		return { page, problems };
	}

	// (locators, not waitForFunction: a string predicate is eval, which the page's CSP forbids)
	const ready = (page: Page) => page.locator("html[data-ready=true]").waitFor({ state: "attached", timeout: 15_000 });

	/** Runs `action` and waits for the screen it leads to: a new heading, rendered and focused, nothing loading. */
	async function navigation(page: Page, action: () => Promise<void>): Promise<void> {
		await page.locator("main h1").evaluate(el => {
			(el as unknown as { id: string }).id = "stale-title";
		});
		await action();
		await page.locator("main:not([aria-busy]) > h1#view-title:focus").waitFor({ timeout: 15_000 });
	}

	/** Waits for the screen whose main heading is `name`. */
	const heading = (page: Page, name: string | RegExp) =>
		page.getByRole("heading", { level: 1, name, exact: typeof name === "string" }).waitFor({ timeout: 15_000 });

	async function signIn(page: Page, email = TEST_ADMIN.email, password = TEST_ADMIN.password): Promise<void> {
		await heading(page, "Sign in to the admin");
		await page.getByLabel("E-mail").fill(email);
		await page.getByLabel("Password").fill(password);
		await page.getByRole("button", { name: "Sign in" }).click();
	}

	/** Follows a screen's link in the admin's navigation (opening the menu on a phone first). */
	async function goTo(page: Page, screen: string): Promise<void> {
		const toggle = page.getByRole("button", { name: "Menu" });
		if (await toggle.isVisible()) await toggle.click();
		await navigation(page, () => page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: screen, exact: true }).click());
	}

	/** The words of the screen's status line (what the last action did). */
	const flash = async (page: Page, text: string | RegExp) => {
		const status = page.locator("#view-alert [role=status]", { hasText: text });
		await status.waitFor({ timeout: 15_000 });
		return (await status.textContent()) ?? "";
	};

	/** The cells of the table row holding `text`. */
	const row = (page: Page, text: string | RegExp) => page.getByRole("row").filter({ hasText: text });

	/** Only the console errors that are not the browser reporting an API answer the test provoked on purpose. */
	const unexpected = (problems: PageProblems, allowedStatuses: number[] = []) =>
		problems.errors.filter(e => !allowedStatuses.some(s => e.includes(`status of ${s}`)));

	afterEach(async () => {
		for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
	});

	it("lets the admin sign in, create a product, stock it, change its price and archive it", async () => {
		const { page, problems } = await open("/admin");
		await signIn(page);
		await heading(page, "Admin");
		await goTo(page, "Products");

		await page.getByRole("link", { name: "New product" }).click();
		await heading(page, "New product");
		const name = `Enamel mug ${Date.now()}`;
		const sku = `MUG-${Date.now()}`;
		await page.getByLabel("SKU").fill("not a sku");
		await page.getByLabel("Name", { exact: true }).fill(name);
		await page.getByLabel("Description").fill("A sturdy mug.");
		await page.getByLabel("Price").fill("twelve");
		await page.getByLabel("Category").fill("Kitchen");
		await page.getByRole("button", { name: "Create product" }).click();
		// a price that is no number is refused before it is sent, in words, at the field
		expect(await page.getByRole("alert").textContent()).to.include("Enter the price as a number");
		await page.getByLabel("Price").fill("12.50");
		await page.getByRole("button", { name: "Create product" }).click();
		// the API's refusal of the SKU, in words, under the field
		await page.locator(".field-error").first().waitFor();
		expect(await page.getByRole("alert").textContent()).to.match(/sku/i);
		expect(await page.getByLabel("SKU").getAttribute("aria-invalid")).to.equal("true");
		await page.getByLabel("SKU").fill(sku);
		await page.getByRole("button", { name: "Create product" }).click();
		await heading(page, name);
		expect(await flash(page, "Created")).to.include(name);
		// focus moved to the new screen's heading
		expect(await page.evaluate("document.activeElement?.tagName")).to.equal("H1");
		const product = (await request("GET", `/api/products/${page.url().split("/").pop()}`)).body;
		expect(product).to.include({ sku, name, priceCents: 1250, category: "Kitchen" });

		// stock: an adjustment, the new level and its ledger entry
		await page.getByRole("link", { name: "Stock and ledger of this product" }).click();
		await heading(page, `Stock: ${name}`);
		await page.getByLabel("Units").fill("25");
		await page.getByLabel("Reason").fill("First delivery");
		await page.getByRole("button", { name: "Apply adjustment" }).click();
		expect(await flash(page, "raised by 25")).to.include("25 on hand");
		const level = page.locator(".facts");
		expect(await level.textContent()).to.match(/On hand\s*25.*Available to sell\s*25/);
		const entry = row(page, "First delivery");
		expect(await entry.getByRole("cell").allTextContents()).to.include.members(["+25", "First delivery", "25", "you"]);
		expect((await steps.stock(product.id)).onHand).to.equal(25);
		await screenshot(page, "admin-stock-detail-desktop");

		// the stock screen lists it with its level
		await goTo(page, "Stock");
		expect(await row(page, name).getByRole("cell").allTextContents()).to.include.members([name, sku, "25", "0"]);

		// a new price
		await goTo(page, "Products");
		await page.getByRole("link", { name, exact: true }).click();
		await heading(page, name);
		await page.getByLabel(/^Price/).fill("9.99");
		await page.getByRole("button", { name: "Save changes" }).click();
		expect(await flash(page, "Saved")).to.include(name);
		expect(await page.getByLabel(/^Price/).inputValue()).to.equal("9.99");
		expect((await request("GET", `/api/products/${product.id}`)).body.priceCents).to.equal(999);

		// archiving asks first: kept, then archived
		await page.getByRole("button", { name: "Archive product" }).click();
		const dialog = page.getByRole("dialog", { name: `Archive ${name}?` });
		await dialog.waitFor();
		await dialog.getByRole("button", { name: "Keep it" }).click();
		await dialog.waitFor({ state: "detached" });
		expect((await request("GET", `/api/products/${product.id}`)).status).to.equal(200);
		await page.getByRole("button", { name: "Archive product" }).click();
		await dialog.getByRole("button", { name: "Archive", exact: true }).click();
		await heading(page, "Products");
		expect(await flash(page, "Archived")).to.include(name);
		expect(await page.getByRole("link", { name, exact: true }).count()).to.equal(0);
		expect((await request("GET", `/api/products/${product.id}`)).status).to.equal(404);

		// staff see it among the archived products and bring it back
		await page.getByLabel("Show").selectOption("archived");
		await page.getByRole("button", { name: "Search" }).click();
		await page.waitForURL(/status=archived/);
		const archivedRow = page.getByRole("row", { name: new RegExp(name) });
		await archivedRow.getByText("Archived", { exact: true }).waitFor();
		await archivedRow.getByRole("button", { name: `Restore ${name}` }).click();
		expect(await flash(page, "Restored")).to.include(name);
		expect((await request("GET", `/api/products/${product.id}`)).status).to.equal(200);
		expect(await page.getByRole("row", { name: new RegExp(name) }).count(), "no longer among the archived").to.equal(0);

		// the two refusals the test asked for (a bad SKU: 422) show as the browser's "failed to load" lines
		expect(unexpected(problems, [422]), unexpected(problems, [422]).join("\n")).to.deep.equal([]);
		expect(problems.foreign).to.deep.equal([]);
	});

	let confirmedOrder: string;

	it("shows every order, filters them by status, opens one's saga timeline and cancels another", async () => {
		const customer = await newCustomer(request, "Olga");
		const kettle = await steps.product(4990, 10, "Kettle");
		await steps.addToCart(customer.token, kettle, 1);
		const first = (await steps.placeOrder(customer.token)).body.order.id as string;
		await steps.settled(customer.token, first);
		await steps.addToCart(customer.token, kettle, 2);
		const second = (await steps.placeOrder(customer.token)).body.order.id as string;
		await steps.settled(customer.token, second);
		confirmedOrder = first;

		const { page, problems } = await open("/admin/orders");
		await signIn(page);
		await heading(page, "Orders");
		for (const id of [first, second]) expect(await page.getByRole("link", { name: id.slice(0, 8) }).count()).to.equal(1);

		await page.getByLabel("Status").selectOption("CONFIRMED");
		await page.getByRole("button", { name: "Filter" }).click();
		await heading(page, "Orders: confirmed");
		expect(page.url()).to.match(/\/admin\/orders\?status=CONFIRMED$/);
		expect(await page.getByRole("link", { name: first.slice(0, 8) }).count()).to.equal(1);
		await page.getByLabel("Status").selectOption("CANCELLED");
		await page.getByRole("button", { name: "Filter" }).click();
		await heading(page, "Orders: cancelled");
		expect(await page.getByText("No orders with this status.").count()).to.equal(1);
		await page.goBack();
		await heading(page, "Orders: confirmed");

		// one order's saga: its history, and each event with the service that sent or received it
		await page.getByRole("link", { name: first.slice(0, 8) }).click();
		await heading(page, `Order ${first.slice(0, 8)}`);
		const saga = page.getByRole("region", { name: "Saga events" });
		const events = await saga.getByRole("row").allTextContents();
		const has = (service: string, event: string) => events.some(r => r.includes(service) && r.includes(event));
		expect(has("order", "order.created"), events.join("\n")).to.equal(true);
		expect(has("inventory", "order.created"), events.join("\n")).to.equal(true);
		expect(has("inventory", "inventory.reserved"), events.join("\n")).to.equal(true);
		expect(has("payment", "order.paymentRequested"), events.join("\n")).to.equal(true);
		expect(has("payment", "payment.succeeded"), events.join("\n")).to.equal(true);
		expect(has("order", "order.confirmed"), events.join("\n")).to.equal(true);
		expect(
			events.some(r => /received.*handled/.test(r)),
			events.join("\n")
		).to.equal(true);
		expect(await page.locator(".timeline li .badge").allTextContents()).to.deep.equal(["pending", "stock reserved", "confirmed"]);
		expect(await page.getByText(`${customer.email}`).count()).to.be.greaterThan(0);

		// the other one, cancelled after a confirmation
		await page.goto(`${shop.baseUrl}/admin/orders/${second}`);
		await heading(page, `Order ${second.slice(0, 8)}`);
		await page.getByRole("button", { name: "Cancel order" }).click();
		const dialog = page.getByRole("dialog", { name: `Cancel order ${second.slice(0, 8)}?` });
		expect(await dialog.textContent()).to.include("refunds the payment");
		await dialog.getByRole("button", { name: "Cancel order" }).click();
		expect(await flash(page, "cancelled")).to.include(second.slice(0, 8));
		expect(await page.locator(".facts").textContent()).to.match(/Status\s*cancelled cancelled on request/);
		expect((await steps.order(customer.token, second)).status).to.equal("CANCELLED");

		await goTo(page, "Orders");
		await page.getByLabel("Status").selectOption("CANCELLED");
		await page.getByRole("button", { name: "Filter" }).click();
		await heading(page, "Orders: cancelled");
		expect(await page.getByRole("link", { name: second.slice(0, 8) }).count()).to.equal(1);
		expect(await page.getByRole("link", { name: first.slice(0, 8) }).count()).to.equal(0);

		expect(problems.errors).to.deep.equal([]);
		expect(problems.foreign).to.deep.equal([]);
	});

	it("lists dead letters and replays one from the page", async () => {
		const emit = async (n: number) => {
			const envelope: IncomingEnvelope<Wanted> = {
				id: crypto.randomUUID(),
				event: EVENT,
				source: "test",
				occurredAt: new Date().toISOString(),
				data: { n, ref: `r${n}` }
			};
			await shop.broker.emit(EVENT, envelope, { groups: ["audit"] });
			return envelope.id;
		};
		const ids = [await emit(1), await emit(2)];
		await until(
			"both events to be dead-lettered",
			async () => (await request("GET", "/api/admin/dead-letters", { token: admin })).body.items as { eventId: string }[],
			items => ids.every(id => items.some(d => d.eventId === id))
		);

		const { page, problems } = await open("/admin/dead-letters");
		await signIn(page);
		await heading(page, "Dead letters");
		const letters = row(page, EVENT);
		expect(await letters.count()).to.equal(2);
		expect(await letters.first().textContent()).to.include("the audit handler is broken");
		expect(await letters.first().textContent()).to.include("audit");

		broken = false;
		await page
			.getByRole("button", { name: `Replay ${EVENT} in audit` })
			.first()
			.click();
		expect(await flash(page, "Replaying")).to.include(EVENT);
		expect(await row(page, EVENT).count()).to.equal(1);
		await until(
			"the replayed event to be handled",
			() => handled,
			h => h.length === 1
		);
		// the other stays, for an operator (and the screenshots)
		broken = true;
		expect(problems.errors).to.deep.equal([]);
		expect(problems.foreign).to.deep.equal([]);
	});

	const roleName = `Stock keeper ${process.pid}`;
	const keeper = { email: uniqueEmail("keeper"), password: "keeper-password" };

	it("creates a role with a few permissions and a user holding it, who sees only those screens", async () => {
		const { page, problems } = await open("/admin");
		await signIn(page);
		await goTo(page, "Roles");
		await page.getByRole("link", { name: "New role" }).click();
		await heading(page, "New role");
		await page.getByLabel("Name").fill(roleName);
		for (const p of ["product.store", "product.update", "product.delete", "inventory.view", "inventory.update"])
			await page.getByLabel(p, { exact: true }).check();
		await page.getByRole("button", { name: "Create role" }).click();
		await heading(page, `Role: ${roleName}`);
		expect(await flash(page, "Created")).to.include("5 permissions");
		expect(await page.getByLabel("order.view", { exact: true }).isChecked()).to.equal(false);
		expect(await page.getByLabel("inventory.update", { exact: true }).isChecked()).to.equal(true);

		await goTo(page, "Users");
		await page.getByRole("link", { name: "New user" }).click();
		await heading(page, "New user");
		await page.getByLabel("Name").fill("Kim Keeper");
		await page.getByLabel("E-mail").fill(keeper.email);
		await page.getByLabel("Password").fill(keeper.password);
		await page.getByLabel("Role").selectOption({ label: roleName });
		await page.getByRole("button", { name: "Create user" }).click();
		await heading(page, "Kim Keeper");
		expect(await flash(page, "Created")).to.include(roleName);
		// a change of name
		await page.getByLabel("Name").fill("Kim the Keeper");
		await page.getByRole("button", { name: "Save changes" }).click();
		expect(await flash(page, "Saved")).to.include(keeper.email);
		await goTo(page, "Users");
		expect(await row(page, keeper.email).getByRole("cell").allTextContents()).to.include.members(["Kim the Keeper", roleName]);
		expect(problems.errors).to.deep.equal([]);

		// signed in as that user: Products and Stock only
		const other = await open("/admin");
		await signIn(other.page, keeper.email, keeper.password);
		await heading(other.page, "Admin");
		const links = await other.page.getByRole("navigation", { name: "Admin" }).getByRole("link").allTextContents();
		expect(links).to.deep.equal(["Products", "Stock"]);
		await goTo(other.page, "Products");
		expect(await other.page.getByRole("link", { name: "New product" }).count()).to.equal(1);
		// the role loses product.delete while they are signed in: the page still offers Archive, the API refuses, in words
		const role = (await request("GET", "/api/admin/roles", { token: admin })).body.items.find((r: { name: string }) => r.name === roleName);
		const kept = role.permissions.filter((p: { name: string }) => p.name !== "product.delete").map((p: { id: number }) => p.id);
		expect((await request("PATCH", `/api/admin/roles/${role.id}`, { token: admin, body: { permissionIds: kept } })).status).to.equal(200);
		await other.page
			.getByRole("button", { name: /^Archive/ })
			.first()
			.click();
		await other.page.getByRole("dialog").getByRole("button", { name: "Archive", exact: true }).click();
		const refusal = other.page.locator("#view-alert [role=alert]");
		await refusal.waitFor();
		expect(await refusal.textContent()).to.equal("Your account is not allowed to do this.");
		// a screen they may not use, asked for by its address, is not shown
		await other.page.goto(`${shop.baseUrl}/admin/users`);
		await heading(other.page, "Not available");
		expect(await other.page.locator("table").count()).to.equal(0);
		// and the API refuses them anyway
		const token = await loginAs(request, keeper.email, keeper.password);
		expect((await request("GET", "/api/admin/users", { token })).status).to.equal(403);
		expect((await request("GET", "/api/admin/dead-letters", { token })).status).to.equal(403);
		expect(unexpected(other.problems, [403])).to.deep.equal([]);
		expect([...problems.foreign, ...other.problems.foreign]).to.deep.equal([]);
	});

	it("shows a customer only that this account has no access, with the way to the storefront", async () => {
		const customer = await newCustomer(request, "Carla");
		const { page, problems } = await open("/admin/orders");
		await signIn(page, customer.email, "password123");
		await heading(page, "No access to the admin");
		expect(await page.getByText("has no access to the admin").textContent()).to.include(customer.email);
		expect(await page.getByRole("link", { name: "Go to the storefront" }).getAttribute("href")).to.equal("/");
		expect(await page.getByRole("navigation").count()).to.equal(0);
		expect(await page.locator("table").count()).to.equal(0);
		const violations = await axeViolations(page);
		expect(violations, describeViolations(violations)).to.deep.equal([]);
		await screenshot(page, "admin-no-access-desktop");
		await page.setViewportSize(VIEWPORTS.phone);
		await screenshot(page, "admin-no-access-phone");
		// another account can sign in from here
		await page.getByRole("button", { name: "sign in with another account" }).click();
		await heading(page, "Sign in to the admin");
		expect(await page.getByRole("navigation").count()).to.equal(0);
		expect(problems.errors).to.deep.equal([]);
		expect(problems.foreign).to.deep.equal([]);
	});

	for (const viewport of ["desktop", "phone"] as const) {
		it(`has every screen accessible at ${viewport} width (axe, keyboard), with screenshots`, async () => {
			const { page, problems } = await open("/admin", viewport);
			// the first load (page, styles, scripts) stays small: bytes as sent, compressed where the gateway compresses
			const weight = Number(
				await page.evaluate(
					`[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].filter(e => !e.name.includes("/api/")).reduce((n, e) => n + e.encodedBodySize, 0)`
				)
			);
			expect(weight).to.be.above(0).and.below(60_000);
			let violations = await axeViolations(page);
			expect(violations, describeViolations(violations)).to.deep.equal([]);
			await screenshot(page, `admin-sign-in-${viewport}`);
			await signIn(page);
			await heading(page, "Admin");

			// the keyboard reaches the navigation from the top of the page
			if (viewport === "desktop") {
				// from the top of a freshly loaded page
				await page.reload();
				await ready(page);
				const reached: string[] = [];
				for (let i = 0; i < 6; i++) {
					await page.keyboard.press("Tab");
					reached.push(
						String(
							await page.evaluate(
								`document.activeElement?.closest("nav") ? "nav: " + document.activeElement.textContent : document.activeElement?.textContent`
							)
						)
					);
					if (reached.at(-1)?.startsWith("nav: ")) break;
				}
				expect(reached.at(-1), reached.join(" | ")).to.equal("nav: Products");
				await page.keyboard.press("Enter");
				await heading(page, "Products");
				expect(await page.evaluate("document.activeElement?.tagName")).to.equal("H1");
			} else {
				const toggle = page.getByRole("button", { name: "Menu" });
				expect(await toggle.getAttribute("aria-expanded")).to.equal("false");
				const menu = page.getByRole("navigation", { name: "Admin" });
				expect(await menu.getByRole("link", { name: "Orders", exact: true }).isVisible()).to.equal(false);
				await toggle.focus();
				await page.keyboard.press("Enter");
				expect(await toggle.getAttribute("aria-expanded")).to.equal("true");
				await page.keyboard.press("Tab");
				expect(await page.evaluate("document.activeElement?.textContent")).to.equal("Products");
				await screenshot(page, "admin-menu-phone");
			}

			const screens: [string, string][] = [
				["overview", "/admin"],
				["products", "/admin/products"],
				["product", ""],
				["stock", "/admin/stock"],
				["orders", "/admin/orders"],
				["order", `/admin/orders/${confirmedOrder}`],
				["payments", "/admin/payments"],
				["users", "/admin/users"],
				["roles", "/admin/roles"],
				["role", ""],
				["permissions", "/admin/permissions"],
				["dead-letters", "/admin/dead-letters"]
			];
			for (const [name, path] of screens) {
				await navigation(page, async () => {
					if (name === "product") await page.locator("tbody a").first().click();
					else if (name === "role") await page.getByRole("link", { name: roleName }).click();
					else await page.evaluate(`history.pushState(null, "", ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent("popstate"))`);
				});
				violations = await axeViolations(page);
				expect(violations, `${name}:\n${describeViolations(violations)}`).to.deep.equal([]);
				expect(await page.locator("main .notice-error").count(), `${name}: ${await page.locator("main").textContent()}`).to.equal(0);
				// nothing wider than a phone: tables scroll inside their own box
				expect(await page.evaluate("document.documentElement.scrollWidth"), name).to.be.at.most(VIEWPORTS[viewport].width);
				await screenshot(page, `admin-${name}-${viewport}`);
			}
			// a destructive action's dialog, too
			await navigation(page, () => page.evaluate(`history.pushState(null, "", "/admin/users"); dispatchEvent(new PopStateEvent("popstate"))`));
			await page
				.getByRole("button", { name: /^Delete/ })
				.first()
				.click();
			await page.getByRole("dialog").waitFor();
			violations = await axeViolations(page);
			expect(violations, describeViolations(violations)).to.deep.equal([]);
			await screenshot(page, `admin-confirm-${viewport}`);
			await page.keyboard.press("Escape");
			await page.getByRole("dialog").waitFor({ state: "detached" });

			expect(problems.errors).to.deep.equal([]);
			expect(problems.foreign).to.deep.equal([]);
		});
	}
});
