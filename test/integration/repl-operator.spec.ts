import { expect } from "chai";
import { callAs, replCommands, REPL_OPERATOR } from "../../app/repl-commands";
import { seedDemoData } from "../../services/catalog/catalog.demo-data";
import { uniqueEmail } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** `op` and `as <email>` in `npm run repl`: an operator reaches the actions a signed-in user would. */

interface Order {
	id: string;
	userId: string;
	status: string;
}
interface OrderPage {
	items: Order[];
	total: number;
}

/** What a REPL command prints, as the operator would see it. */
async function printed(command: string, args: Record<string, unknown>, shop: RunningShop): Promise<string> {
	const def = replCommands.find(c => c.command.split(" ")[0] === command)!;
	const lines: string[] = [];
	const log = console.log;
	console.log = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
	try {
		await def.action(shop.broker, { options: {}, ...args } as unknown as string[]);
	} finally {
		console.log = log;
	}
	return lines.join("\n");
}

describe("REPL calls as the operator or as a user", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;
	const password = "a long password";
	const alice = uniqueEmail("alice");
	const bob = uniqueEmail("bob");
	const orders: Record<string, string> = {};

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db));
		await seedDemoData(shop.broker, { info: () => undefined, warn: () => undefined });
		const { items } = await shop.broker.call<{ items: { id: string }[] }, object>("catalog.list", { pageSize: 2 });
		// two customers place an order each, through `as`: their own carts, their own orders
		for (const [email, product] of [
			[alice, items[0]!.id],
			[bob, items[1]!.id]
		] as const) {
			await shop.broker.call("identity.register", { email, password, name: email.split("@")[0] });
			await callAs(shop.broker, email, "cart.addItem", { productId: product, quantity: 1 });
			const placed = await callAs<{ order: Order }>(shop.broker, email, "order.place", { paymentToken: "tok_visa" });
			orders[email] = placed.order.id;
		}
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("the REPL's `call order.list` (moleculer-repl marks it $repl) runs as the operator and lists every order", async () => {
		const page = await shop.broker.call<OrderPage, object>("order.list", {}, { meta: { $repl: true } });
		expect(page.items.map(o => o.id)).to.include.members([orders[alice], orders[bob]]);
		// a call from anywhere else still has no caller
		const err = await shop.broker.call("order.list", {}).catch((e: Error) => e);
		expect((err as Error & { type?: string }).type).to.equal("UNAUTHENTICATED");
	});

	it("op order.list lists every customer's orders: the operator holds every permission", async () => {
		const page = await callAs<OrderPage>(shop.broker, undefined, "order.list", {});
		expect(page.items.map(o => o.id)).to.include.members([orders[alice], orders[bob]]);
		expect(REPL_OPERATOR.permissions).to.include.members(["order.view", "order.update", "user.view"]);
	});

	it("the op command prints the orders, their ids among them, and a refusal in one line without a stack", async () => {
		const out = await printed("op", { action: "order.list" }, shop);
		expect(out).to.contain(orders[alice]);
		expect(out).to.contain(orders[bob]);

		const saga = await printed("op", { action: "order.get", params: JSON.stringify({ id: orders[alice] }) }, shop);
		expect(saga).to.contain(orders[alice]);

		const missing = await printed("op", { action: "order.get", params: '{"id":"00000000-0000-4000-8000-000000000000"}' }, shop);
		expect(missing).to.match(/^order\.get failed: .*NOT_FOUND/);
		expect(missing).to.not.contain("    at ");
	});

	it("as <email> calls with that user's permissions: a customer sees only their own orders", async () => {
		const out = await printed("as", { email: alice, action: "order.list" }, shop);
		expect(out).to.contain(orders[alice]);
		expect(out).to.not.contain(orders[bob]);
		// the orders settle (the saga goes on in the background); the operator sees them confirmed
		await eventually(async () => {
			const page = await callAs<OrderPage>(shop.broker, undefined, "order.list", { status: "CONFIRMED" });
			expect(page.items.map(o => o.id)).to.include.members([orders[alice], orders[bob]]);
		}, 20_000);
		expect(await printed("as", { email: "nobody@example.com", action: "order.list" }, shop)).to.contain("No user nobody@example.com");
	});
});
