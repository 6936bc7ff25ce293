import crypto from "node:crypto";
import { expect } from "chai";
import type { Errors, ServiceSchema } from "moleculer";
import type { Adjustment, AdjustmentPage, Reservation, ReservationExpiredEvent, StockLevel, SweepResult } from "../../services/inventory/inventory.types";
import { adminToken } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

type Line = { productId: string; quantity: number };

/** Collects what inventory announces. */
function listener(events: { stockChanged: StockLevel[]; expired: ReservationExpiredEvent[] }): Partial<ServiceSchema> {
	return {
		name: "inventory-listener",
		events: {
			"inventory.stockChanged"(ctx: { params: StockLevel }) {
				events.stockChanged.push(ctx.params);
			},
			"inventory.reservationExpired"(ctx: { params: ReservationExpiredEvent }) {
				events.expired.push(ctx.params);
			}
		}
	};
}

async function failure(p: Promise<unknown>): Promise<Errors.MoleculerError> {
	try {
		await p;
	} catch (err) {
		return err as Errors.MoleculerError;
	}
	throw new Error("expected the call to fail");
}

/** A fixture: one running shop, products created through the catalog, calls made as another service would. */
function fixture(env: Record<string, string> = {}) {
	const f = {
		db: undefined as unknown as TestDatabase,
		shop: undefined as unknown as RunningShop,
		admin: "",
		events: { stockChanged: [] as StockLevel[], expired: [] as ReservationExpiredEvent[] },
		request: undefined as unknown as ReturnType<typeof httpClient>,
		async start() {
			f.db = await createTestDatabase();
			f.shop = await startShop(testConfig(f.db, { SERVICES: "gateway,identity,catalog,inventory", ...env }), [listener(f.events)]);
			f.request = httpClient(f.shop.baseUrl);
			f.admin = await adminToken(f.request);
		},
		async stop() {
			await f.shop?.stop();
			await f.db?.drop();
		},
		async product(stock = 0): Promise<string> {
			const res = await f.request("POST", "/api/products", {
				token: f.admin,
				body: { sku: `SKU-${crypto.randomBytes(4).toString("hex")}`, name: "Test product", priceCents: 1000, category: "tests" }
			});
			expect(res.status, JSON.stringify(res.body)).to.equal(201);
			if (stock > 0) await f.call("inventory.adjust", { productId: res.body.id, delta: stock, reason: "initial stock" });
			return res.body.id as string;
		},
		call<T>(action: string, params: object): Promise<T> {
			return f.shop.broker.call<T, object>(action, params);
		},
		level(productId: string): Promise<StockLevel> {
			return f.call<StockLevel>("inventory.get", { productId });
		},
		reserve(orderId: string, items: Line[]): Promise<Reservation> {
			return f.call<Reservation>("inventory.reserve", { orderId, items });
		}
	};
	return f;
}

const newOrder = (): string => crypto.randomUUID();

describe("inventory (integration)", () => {
	const f = fixture();
	before(() => f.start());
	after(() => f.stop());

	describe("levels", () => {
		it("reads a product never stocked as zeros", async () => {
			const id = crypto.randomUUID();
			expect(await f.level(id)).to.deep.equal({ productId: id, onHand: 0, reserved: 0, available: 0 });
		});

		it("answers many products in the order asked, zeros for unknown ones", async () => {
			const a = await f.product(3);
			const unknown = crypto.randomUUID();
			const b = await f.product(7);
			const levels = await f.call<StockLevel[]>("inventory.getMany", { productIds: [b, unknown, a] });
			expect(levels).to.deep.equal([
				{ productId: b, onHand: 7, reserved: 0, available: 7 },
				{ productId: unknown, onHand: 0, reserved: 0, available: 0 },
				{ productId: a, onHand: 3, reserved: 0, available: 3 }
			]);
		});

		it("refuses an empty list, more than 500 ids and malformed ids", async () => {
			for (const productIds of [[], Array.from({ length: 501 }, () => crypto.randomUUID()), ["nope"]]) {
				const err = await failure(f.call("inventory.getMany", { productIds }));
				expect(err.code).to.equal(422);
			}
		});
	});

	describe("adjustments by internal callers", () => {
		it("works without a user, records the system as the actor, and announces the new levels", async () => {
			const id = await f.product();
			const level = await f.call<StockLevel>("inventory.adjust", { productId: id, delta: 12, reason: "demo data" });
			expect(level).to.deep.equal({ productId: id, onHand: 12, reserved: 0, available: 12 });
			const page = await f.call<AdjustmentPage>("inventory.listAdjustments", { productId: id });
			expect(page.total).to.equal(1);
			expect(page.items[0]).to.include({ productId: id, delta: 12, reason: "demo data", onHandAfter: 12, actorId: null });
			expect(f.events.stockChanged).to.deep.include(level);
		});

		it("refuses an unknown product with the catalog's 404", async () => {
			const err = await failure(f.call("inventory.adjust", { productId: crypto.randomUUID(), delta: 1, reason: "x" }));
			expect(err).to.include({ code: 404, type: "NOT_FOUND" });
		});
	});

	describe("reserve", () => {
		it("reserves every line and answers the reservation", async () => {
			const a = await f.product(5);
			const b = await f.product(2);
			const orderId = newOrder();
			const r = await f.reserve(orderId, [
				{ productId: a, quantity: 3 },
				{ productId: b, quantity: 2 }
			]);
			expect(r).to.include({ orderId, status: "RESERVED" });
			expect(r.items).to.deep.equal([
				{ productId: a, quantity: 3 },
				{ productId: b, quantity: 2 }
			]);
			expect(new Date(r.expiresAt).getTime() - new Date(r.createdAt).getTime()).to.equal(f.shop.config.inventory.reservationTtlSeconds * 1000);
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 3, available: 2 });
			expect(await f.level(b)).to.include({ onHand: 2, reserved: 2, available: 0 });
			expect(f.events.stockChanged).to.deep.include({ productId: b, onHand: 2, reserved: 2, available: 0 });
		});

		it("reserves nothing when one line is short, naming every shortage", async () => {
			const a = await f.product(5);
			const b = await f.product(2);
			const never = crypto.randomUUID();
			const err = await failure(
				f.reserve(newOrder(), [
					{ productId: a, quantity: 5 },
					{ productId: b, quantity: 3 },
					{ productId: never, quantity: 1 }
				])
			);
			expect(err).to.include({ code: 409, type: "INSUFFICIENT_STOCK" });
			expect((err.data as { shortages: unknown }).shortages).to.deep.equal([
				{ productId: b, requested: 3, available: 2 },
				{ productId: never, requested: 1, available: 0 }
			]);
			expect(await f.level(a)).to.include({ reserved: 0, available: 5 });
			expect(await f.level(b)).to.include({ reserved: 0, available: 2 });
		});

		it("sums lines naming the same product before checking", async () => {
			const a = await f.product(4);
			const r = await f.reserve(newOrder(), [
				{ productId: a, quantity: 2 },
				{ productId: a, quantity: 2 }
			]);
			expect(r.items).to.deep.equal([{ productId: a, quantity: 4 }]);
			expect(await f.level(a)).to.include({ reserved: 4, available: 0 });
			const err = await failure(
				f.reserve(newOrder(), [
					{ productId: a, quantity: 1 },
					{ productId: a, quantity: 1 }
				])
			);
			expect((err.data as { shortages: unknown }).shortages).to.deep.equal([{ productId: a, requested: 2, available: 0 }]);
		});

		it("refuses malformed requests", async () => {
			const a = crypto.randomUUID();
			const bad = [
				{ orderId: "not-a-uuid", items: [{ productId: a, quantity: 1 }] },
				{ orderId: newOrder(), items: [] },
				{ orderId: newOrder(), items: [{ productId: a, quantity: 0 }] },
				{ orderId: newOrder(), items: [{ productId: a, quantity: 1.5 }] },
				{ orderId: newOrder(), items: [{ productId: a, quantity: "1" }] },
				{ orderId: newOrder(), items: [{ productId: "x", quantity: 1 }] }
			];
			for (const params of bad) expect((await failure(f.call("inventory.reserve", params))).code, JSON.stringify(params)).to.equal(422);
		});

		it("is idempotent per order: a repeat changes nothing and answers the same, whatever it asks", async () => {
			const a = await f.product(5);
			const orderId = newOrder();
			const first = await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
			const again = await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
			const different = await f.reserve(orderId, [{ productId: a, quantity: 5 }]);
			expect(again).to.deep.equal(first);
			expect(different).to.deep.equal(first);
			expect(await f.level(a)).to.include({ reserved: 2, available: 3 });
		});

		it("answers a failed attempt's repeat with the same shortage, even after stock arrives", async () => {
			const a = await f.product(1);
			const orderId = newOrder();
			const first = await failure(f.reserve(orderId, [{ productId: a, quantity: 2 }]));
			await f.call("inventory.adjust", { productId: a, delta: 10, reason: "restock" });
			const again = await failure(f.reserve(orderId, [{ productId: a, quantity: 2 }]));
			expect(again).to.include({ code: 409, type: "INSUFFICIENT_STOCK" });
			expect(again.data).to.deep.equal(first.data);
			expect(await f.level(a)).to.include({ onHand: 11, reserved: 0 });
		});

		it("reserves once when the same order is sent many times at once", async () => {
			const a = await f.product(10);
			const orderId = newOrder();
			const answers = await Promise.all(Array.from({ length: 10 }, () => f.reserve(orderId, [{ productId: a, quantity: 3 }])));
			for (const r of answers) expect(r).to.deep.equal(answers[0]);
			expect(await f.level(a)).to.include({ onHand: 10, reserved: 3, available: 7 });
		});
	});

	describe("release and commit", () => {
		it("release gives the units back; a repeat changes nothing; a commit afterwards is refused", async () => {
			const a = await f.product(5);
			const orderId = newOrder();
			await f.reserve(orderId, [{ productId: a, quantity: 4 }]);
			const released = await f.call<Reservation>("inventory.release", { orderId });
			expect(released).to.include({ orderId, status: "RELEASED" });
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0, available: 5 });
			expect(await f.call("inventory.release", { orderId })).to.deep.equal(released);
			expect(await f.level(a)).to.include({ reserved: 0 });
			const err = await failure(f.call("inventory.commit", { orderId }));
			expect(err).to.include({ code: 409, type: "RESERVATION_RELEASED" });
			expect(await f.reserve(orderId, [{ productId: a, quantity: 1 }])).to.deep.equal(released);
		});

		it("commit takes the units off the shelf, writes the ledger, and happens once", async () => {
			const a = await f.product(5);
			const b = await f.product(3);
			const orderId = newOrder();
			await f.reserve(orderId, [
				{ productId: a, quantity: 2 },
				{ productId: b, quantity: 3 }
			]);
			const committed = await f.call<Reservation>("inventory.commit", { orderId });
			expect(committed).to.include({ orderId, status: "COMMITTED" });
			expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 3, reserved: 0, available: 3 });
			expect(await f.level(b)).to.deep.equal({ productId: b, onHand: 0, reserved: 0, available: 0 });

			expect(await f.call("inventory.commit", { orderId })).to.deep.equal(committed);
			expect(await f.level(a)).to.include({ onHand: 3, reserved: 0 });

			const ledger = await f.call<AdjustmentPage>("inventory.listAdjustments", { productId: a });
			expect(ledger.total).to.equal(2);
			expect(ledger.items[0]).to.include({ delta: -2, reason: `order ${orderId}`, onHandAfter: 3, actorId: null });
			expect(ledger.items[1]).to.include({ delta: 5, onHandAfter: 5 });

			const err = await failure(f.call("inventory.release", { orderId }));
			expect(err).to.include({ code: 409, type: "RESERVATION_COMMITTED" });
			expect(await f.level(a)).to.include({ onHand: 3, reserved: 0 });
		});

		it("answers 404 RESERVATION_NOT_FOUND for an unknown order and for a failed attempt", async () => {
			for (const action of ["inventory.release", "inventory.commit"]) {
				const err = await failure(f.call(action, { orderId: newOrder() }));
				expect(err).to.include({ code: 404, type: "RESERVATION_NOT_FOUND" });
			}
			const orderId = newOrder();
			await failure(f.reserve(orderId, [{ productId: crypto.randomUUID(), quantity: 1 }]));
			expect(await failure(f.call("inventory.commit", { orderId }))).to.include({ type: "RESERVATION_NOT_FOUND" });
			expect(await failure(f.call("inventory.release", { orderId }))).to.include({ type: "RESERVATION_NOT_FOUND" });
		});

		it("refuses an adjustment that would leave less on hand than is reserved, changing nothing", async () => {
			const a = await f.product(5);
			await f.reserve(newOrder(), [{ productId: a, quantity: 3 }]);
			const err = await failure(f.call("inventory.adjust", { productId: a, delta: -3, reason: "damaged" }));
			expect(err).to.include({ code: 409, type: "STOCK_BELOW_RESERVED" });
			expect(err.data).to.include({ productId: a, onHand: 5, reserved: 3, available: 2, delta: -3 });
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 3 });
			expect((await f.call<AdjustmentPage>("inventory.listAdjustments", { productId: a })).total).to.equal(1);
			expect(await f.call("inventory.adjust", { productId: a, delta: -2, reason: "damaged" })).to.include({ onHand: 3, reserved: 3, available: 0 });
		});
	});

	describe("under concurrency", () => {
		it("never oversells: 40 buyers at once for 5 units, exactly 5 get one", async function () {
			this.timeout(60_000);
			const a = await f.product(5);
			const results = await Promise.allSettled(Array.from({ length: 40 }, () => f.reserve(newOrder(), [{ productId: a, quantity: 1 }])));
			const won = results.filter(r => r.status === "fulfilled");
			const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
			expect(won).to.have.length(5);
			expect(lost).to.have.length(35);
			for (const r of lost) expect(r.reason).to.include({ code: 409, type: "INSUFFICIENT_STOCK" });
			expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 5, reserved: 5, available: 0 });
		});

		it("does not deadlock when orders name two products in opposite order", async function () {
			this.timeout(60_000);
			const a = await f.product(100);
			const b = await f.product(100);
			const results = await Promise.allSettled(
				Array.from({ length: 40 }, (_, i) =>
					f.reserve(
						newOrder(),
						i % 2 === 0
							? [
									{ productId: a, quantity: 1 },
									{ productId: b, quantity: 1 }
								]
							: [
									{ productId: b, quantity: 1 },
									{ productId: a, quantity: 1 }
								]
					)
				)
			);
			const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map(r => String(r.reason));
			expect(failures).to.deep.equal([]);
			expect(await f.level(a)).to.include({ reserved: 40, available: 60 });
			expect(await f.level(b)).to.include({ reserved: 40, available: 60 });
		});

		it("keeps the books straight when reserves, releases, commits and adjustments race", async function () {
			this.timeout(60_000);
			const a = await f.product(20);
			const orders = Array.from({ length: 10 }, () => newOrder());
			await Promise.all(orders.map(o => f.reserve(o, [{ productId: a, quantity: 2 }])));
			await Promise.allSettled([
				...orders.slice(0, 5).map(orderId => f.call("inventory.commit", { orderId })),
				...orders.slice(5).map(orderId => f.call("inventory.release", { orderId })),
				...orders.slice(0, 5).map(orderId => f.call("inventory.release", { orderId })),
				f.call("inventory.adjust", { productId: a, delta: 5, reason: "delivery" })
			]);
			const level = await f.level(a);
			expect(level).to.deep.equal({ productId: a, onHand: 15, reserved: 0, available: 15 });
			const ledger = await f.call<AdjustmentPage>("inventory.listAdjustments", { productId: a, pageSize: 100 });
			const sum = ledger.items.reduce((s: number, x: Adjustment) => s + x.delta, 0);
			expect(sum).to.equal(level.onHand);
		});
	});
});

describe("inventory reservation expiry (integration)", () => {
	// The timer is set far away so these tests run the sweep themselves.
	const f = fixture({ RESERVATION_TTL: "1", RESERVATION_SWEEP_INTERVAL: "3600" });
	before(() => f.start());
	after(() => f.stop());
	const pastExpiry = () => new Promise(resolve => setTimeout(resolve, 1300));

	it("releases reservations nobody committed in time, once, and announces each", async () => {
		const a = await f.product(5);
		const kept = newOrder();
		const lapsed = [newOrder(), newOrder()];
		await f.reserve(kept, [{ productId: a, quantity: 1 }]);
		await f.call("inventory.commit", { orderId: kept });
		for (const orderId of lapsed) await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
		expect(await f.level(a)).to.include({ onHand: 4, reserved: 4, available: 0 });
		expect(await f.call<SweepResult>("inventory.sweepExpired", {})).to.deep.equal({ released: 0 });

		await pastExpiry();
		expect(await f.call<SweepResult>("inventory.sweepExpired", {})).to.deep.equal({ released: 2 });
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 4, reserved: 0, available: 4 });
		expect(f.events.expired.filter(e => lapsed.includes(e.orderId))).to.have.deep.members(
			lapsed.map(orderId => ({ orderId, items: [{ productId: a, quantity: 2 }] }))
		);

		expect(await f.call<SweepResult>("inventory.sweepExpired", {})).to.deep.equal({ released: 0 });
		const released = await f.call<Reservation>("inventory.release", { orderId: lapsed[0] });
		expect(released.status).to.equal("EXPIRED");
		expect(await failure(f.call("inventory.commit", { orderId: lapsed[1] }))).to.include({ code: 409, type: "RESERVATION_RELEASED" });
		expect(await f.level(a)).to.include({ reserved: 0 });
	});

	it("never releases one reservation twice when several sweeps run at once", async () => {
		const a = await f.product(30);
		const orders = Array.from({ length: 15 }, () => newOrder());
		await Promise.all(orders.map(o => f.reserve(o, [{ productId: a, quantity: 2 }])));
		await pastExpiry();
		const before = f.events.expired.length;
		const results = await Promise.all(Array.from({ length: 4 }, () => f.call<SweepResult>("inventory.sweepExpired", {})));
		expect(results.reduce((s, r) => s + r.released, 0)).to.equal(15);
		expect(f.events.expired.length - before).to.equal(15);
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 30, reserved: 0, available: 30 });
	});

	it("refuses to commit a reservation past its expiry even before the sweep, and gives its units back", async () => {
		const a = await f.product(3);
		const orderId = newOrder();
		await f.reserve(orderId, [{ productId: a, quantity: 3 }]);
		await pastExpiry();
		expect(await failure(f.call("inventory.commit", { orderId }))).to.include({ code: 409, type: "RESERVATION_RELEASED" });
		expect(await f.level(a)).to.include({ onHand: 3, reserved: 0, available: 3 });
		expect(f.events.expired.map(e => e.orderId)).to.include(orderId);
		expect(await f.call<SweepResult>("inventory.sweepExpired", {})).to.deep.equal({ released: 0 });
	});

	it("sweeps on its own timer, here from a second instance sharing the database", async function () {
		this.timeout(20_000);
		const a = await f.product(2);
		const orderId = newOrder();
		await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
		const other = await startShop(testConfig(f.db, { SERVICES: "inventory", RESERVATION_TTL: "1", RESERVATION_SWEEP_INTERVAL: "1" }));
		try {
			const deadline = Date.now() + 10_000;
			while ((await f.level(a)).reserved > 0 && Date.now() < deadline) await new Promise(r => setTimeout(r, 200));
			expect(await f.level(a)).to.include({ reserved: 0, available: 2 });
			expect((await f.call<Reservation>("inventory.release", { orderId })).status).to.equal("EXPIRED");
		} finally {
			await other.stop();
		}
	});
});
