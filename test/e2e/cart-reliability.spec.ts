import { expect } from "chai";
import { Errors, type Middleware } from "moleculer";
import { Client } from "pg";
import { adminToken, newCustomer } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

type Call = (action: unknown, params: unknown, opts: unknown) => Promise<unknown>;

/**
 * Taking an order's lines out of the cart is as reliable as the rest of the saga: when the order service's
 * call to the cart is lost (a cart node restarting), cart still takes them out when it handles
 * order.created, and the shopper's next order never buys them a second time.
 */
describe("an order's lines leave the cart, whatever fails", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let steps: ReturnType<typeof checkoutSteps>;
	const failing = { removeOrdered: false, handOffToCart: false };

	// the order service's direct call, and the relay's hand-off of order.created to cart, fail while asked to
	const faults = {
		call: (next: Call) => (action: unknown, params: unknown, opts: unknown) => {
			if (action === "cart.removeOrdered" && failing.removeOrdered)
				return Promise.reject(new Errors.ServiceNotAvailableError({ action: "cart.removeOrdered" }));
			if (action === "cart.receiveEvent" && failing.handOffToCart)
				return Promise.reject(new Errors.ServiceNotAvailableError({ action: "cart.receiveEvent" }));
			return next(action, params, opts);
		}
	} as unknown as Middleware;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { EVENT_POLL_MS: "100" }), [], [faults]);
		request = httpClient(shop.baseUrl);
		const admin = await adminToken(request);
		steps = checkoutSteps(request, () => admin);
	});

	afterEach(() => {
		failing.removeOrdered = false;
		failing.handOffToCart = false;
	});

	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	const cart = async (token: string) => (await request("GET", "/api/cart", { token })).body.items as { productId: string; quantity: number }[];

	it("takes the lines out through order.created when the order service's own call failed", async () => {
		const productId = await steps.product(1000, 10, "Lost call");
		const c = await newCustomer(request);
		await steps.addToCart(c.token, productId, 2);
		failing.removeOrdered = true;
		const placed = await steps.placeOrder(c.token);
		expect(placed.status).to.equal(201);
		await eventually(async () => expect(await cart(c.token)).to.deep.equal([]));
	});

	it("never buys the lines of an earlier order again, even before cart has caught up", async () => {
		const first = await steps.product(1000, 10, "First");
		const second = await steps.product(700, 10, "Second");
		const c = await newCustomer(request);
		await steps.addToCart(c.token, first, 2);
		failing.removeOrdered = true;
		failing.handOffToCart = true;
		const a = await steps.placeOrder(c.token);
		expect(a.status).to.equal(201);
		// the lines are still in the cart: neither way of taking them out got through
		expect((await cart(c.token)).map(l => l.productId)).to.deep.equal([first]);

		failing.removeOrdered = false;
		await steps.addToCart(c.token, second, 1);
		const b = await steps.placeOrder(c.token);
		expect(b.status, JSON.stringify(b.body)).to.equal(201);
		expect(b.body.order.items.map((i: { productId: string }) => i.productId)).to.deep.equal([second]);
		expect(await cart(c.token)).to.deep.equal([]);

		// the late order.created changes nothing: the lines left the cart once for that order
		failing.handOffToCart = false;
		await steps.addToCart(c.token, first, 1);
		const pg = new Client({ connectionString: db.url });
		await pg.connect();
		try {
			await eventually(async () => {
				const { rows } = await pg.query(`SELECT status FROM cart.inbox WHERE event = 'order.created' AND payload->'data'->>'orderId' = $1`, [
					a.body.order.id
				]);
				expect(rows).to.deep.equal([{ status: "HANDLED" }]);
			}, 20_000);
		} finally {
			await pg.end();
		}
		expect((await cart(c.token)).map(l => [l.productId, l.quantity])).to.deep.equal([[first, 1]]);
	});
});
