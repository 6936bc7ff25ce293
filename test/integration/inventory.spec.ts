import crypto from "node:crypto";
import { expect } from "chai";
import type { Errors, ServiceSchema } from "moleculer";
import type { EventEnvelope } from "../../lib/events";
import type {
	Adjustment,
	AdjustmentPage,
	InventoryReservationFailedEvent,
	InventoryReservedEvent,
	ReservationExpiredEvent,
	StockLevel,
	SweepResult
} from "../../services/inventory/inventory.types";
import type { OrderLine, OrderStatus } from "../../services/order/order.types";
import { adminToken } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { deliver, type Delivery } from "../support/events";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

type Line = { productId: string; quantity: number };

/** What inventory answers the order about a reservation (written to its outbox for the order service). */
type Answer = { event: "inventory.reserved"; data: InventoryReservedEvent } | { event: "inventory.reservationFailed"; data: InventoryReservationFailedEvent };

/** An order's reservation as inventory stores it (no action exposes it). */
interface StoredReservation {
	status: string;
	items: Line[];
	createdAt: Date;
	expiresAt: Date;
}

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

const USER_ID = crypto.randomUUID();
const customer = { email: "buyer@example.com", name: "Buyer", phone: null };

function orderLines(lines: Line[]): OrderLine[] {
	return lines.map(l => ({ ...l, sku: "SKU", name: "Test product", unitPriceCents: 1000, lineTotalCents: 1000 * l.quantity }));
}

/**
 * A fixture: one running shop, products created through the catalog, calls made as another service would,
 * and the reservation steps driven by the order's saga events (no order service runs: inventory's answers
 * stay in its outbox, where the tests read them). A failing event is retried once, then dead-lettered.
 */
function fixture(env: Record<string, string> = {}) {
	const f = {
		db: undefined as unknown as TestDatabase,
		shop: undefined as unknown as RunningShop,
		admin: "",
		events: { stockChanged: [] as StockLevel[], expired: [] as ReservationExpiredEvent[] },
		request: undefined as unknown as ReturnType<typeof httpClient>,
		async start() {
			f.db = await createTestDatabase();
			f.shop = await startShop(
				testConfig(f.db, {
					SERVICES: "gateway,identity,catalog,inventory",
					EVENT_MAX_ATTEMPTS: "2",
					EVENT_RETRY_BASE_MS: "20",
					EVENT_RETRY_MAX_MS: "100",
					...env
				}),
				[listener(f.events)]
			);
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
		ledger(productId: string): Promise<AdjustmentPage> {
			return f.call<AdjustmentPage>("inventory.listAdjustments", { productId, pageSize: 100 });
		},
		/** `order.created`: inventory reserves the lines and answers in its outbox. */
		created(orderId: string, items: Line[]): Promise<Delivery> {
			return deliver(f.shop.broker, "inventory", "order.created", { orderId, userId: USER_ID, items, totalCents: 1000, currency: "BRL" });
		},
		/** `order.confirmed`: the order is paid; inventory takes its units off the shelf. */
		confirmed(orderId: string, items: Line[]): Promise<Delivery> {
			return deliver(f.shop.broker, "inventory", "order.confirmed", {
				orderId,
				userId: USER_ID,
				customer,
				items: orderLines(items),
				totalCents: 1000,
				currency: "BRL"
			});
		},
		/** `order.cancelled`: inventory gives back what it holds or took for the order. */
		cancelled(orderId: string, items: Line[], previousStatus: Exclude<OrderStatus, "CANCELLED"> = "STOCK_RESERVED"): Promise<Delivery> {
			return deliver(f.shop.broker, "inventory", "order.cancelled", {
				orderId,
				userId: USER_ID,
				customer,
				items: orderLines(items),
				totalCents: 1000,
				currency: "BRL",
				reason: "customer_request",
				previousStatus
			});
		},
		/** What inventory has answered about these orders, oldest first: the events in its outbox. */
		async answers(...orderIds: string[]): Promise<Answer[]> {
			const rows = await f.db.query<{ payload: EventEnvelope }>(
				`SELECT payload FROM inventory.outbox WHERE payload->'data'->>'orderId' = ANY($1) ORDER BY created_at, id`,
				[orderIds]
			);
			return rows.map(r => ({ event: r.payload.event, data: r.payload.data }) as Answer);
		},
		/** Sends `order.created`, which inventory must handle (a shortage is an answer), and answers inventory's answer. */
		async reserve(orderId: string, items: Line[]): Promise<Answer> {
			const before = (await f.answers(orderId)).length;
			const delivery = await f.created(orderId, items);
			expect(delivery, `order.created for ${orderId}`).to.include({ status: "HANDLED" });
			const answers = await f.answers(orderId);
			expect(answers, `answers for ${orderId}`).to.have.length(before + 1);
			return answers[before];
		},
		async reservation(orderId: string): Promise<StoredReservation | undefined> {
			const [row] = await f.db.query<StoredReservation>(
				`SELECT status, items, created_at AS "createdAt", expires_at AS "expiresAt" FROM inventory.reservations WHERE order_id = $1`,
				[orderId]
			);
			return row;
		},
		async status(orderId: string): Promise<string | undefined> {
			return (await f.reservation(orderId))?.status;
		}
	};
	return f;
}

const newOrder = (): string => crypto.randomUUID();
const shortagesOf = (answer: Answer) => (answer.data as InventoryReservationFailedEvent).shortages;

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

	describe("order.created (reserving)", () => {
		it("reserves every line and answers inventory.reserved with when the hold ends", async () => {
			const a = await f.product(5);
			const b = await f.product(2);
			const orderId = newOrder();
			const answer = await f.reserve(orderId, [
				{ productId: a, quantity: 3 },
				{ productId: b, quantity: 2 }
			]);
			expect(answer.event).to.equal("inventory.reserved");
			expect(answer.data).to.have.keys("orderId", "expiresAt");
			const r = (await f.reservation(orderId))!;
			expect(r.status).to.equal("RESERVED");
			expect(r.items).to.deep.equal([
				{ productId: a, quantity: 3 },
				{ productId: b, quantity: 2 }
			]);
			expect(r.expiresAt.getTime() - r.createdAt.getTime()).to.equal(f.shop.config.inventory.reservationTtlSeconds * 1000);
			expect(new Date((answer.data as InventoryReservedEvent).expiresAt).getTime()).to.equal(r.expiresAt.getTime());
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 3, available: 2 });
			expect(await f.level(b)).to.include({ onHand: 2, reserved: 2, available: 0 });
			await eventually(() => expect(f.events.stockChanged).to.deep.include({ productId: b, onHand: 2, reserved: 2, available: 0 }));
		});

		it("reserves nothing when one line is short, answering inventory.reservationFailed with every shortage", async () => {
			const a = await f.product(5);
			const b = await f.product(2);
			const never = crypto.randomUUID();
			const orderId = newOrder();
			const answer = await f.reserve(orderId, [
				{ productId: a, quantity: 5 },
				{ productId: b, quantity: 3 },
				{ productId: never, quantity: 1 }
			]);
			expect(answer).to.deep.equal({
				event: "inventory.reservationFailed",
				data: {
					orderId,
					shortages: [
						{ productId: b, requested: 3, available: 2 },
						{ productId: never, requested: 1, available: 0 }
					]
				}
			});
			expect(await f.level(a)).to.include({ reserved: 0, available: 5 });
			expect(await f.level(b)).to.include({ reserved: 0, available: 2 });
		});

		it("sums lines naming the same product before checking", async () => {
			const a = await f.product(4);
			const orderId = newOrder();
			expect(
				(
					await f.reserve(orderId, [
						{ productId: a, quantity: 2 },
						{ productId: a, quantity: 2 }
					])
				).event
			).to.equal("inventory.reserved");
			expect((await f.reservation(orderId))!.items).to.deep.equal([{ productId: a, quantity: 4 }]);
			expect(await f.level(a)).to.include({ reserved: 4, available: 0 });
			const short = await f.reserve(newOrder(), [
				{ productId: a, quantity: 1 },
				{ productId: a, quantity: 1 }
			]);
			expect(shortagesOf(short)).to.deep.equal([{ productId: a, requested: 2, available: 0 }]);
		});

		it("dead-letters a malformed order.created for an operator, reserving nothing", async () => {
			const a = await f.product(5);
			const bad = [
				[],
				[{ productId: a, quantity: 0 }],
				[{ productId: a, quantity: 1.5 }],
				[{ productId: a, quantity: "1" }],
				[{ productId: "x", quantity: 1 }]
			];
			for (const items of bad) {
				const orderId = newOrder();
				const delivery = await f.created(orderId, items as Line[]);
				expect(delivery.status, JSON.stringify(items)).to.equal("DEAD");
				expect(delivery.lastError, JSON.stringify(items)).to.match(/^Malformed order\.created [0-9a-f-]{36}: 'items/);
				expect(await f.reservation(orderId)).to.equal(undefined);
				expect(await f.answers(orderId)).to.deep.equal([]);
			}
			const notAnOrder = await f.created("not-a-uuid", [{ productId: a, quantity: 1 }]);
			expect(notAnOrder.status).to.equal("DEAD");
			expect(notAnOrder.lastError).to.match(/'orderId' must match pattern/);
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0, available: 5 });
		});

		it("is idempotent per order: asked again, it changes nothing and answers the same, whatever the event asks", async () => {
			const a = await f.product(5);
			const orderId = newOrder();
			const first = await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
			const again = await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
			const different = await f.reserve(orderId, [{ productId: a, quantity: 5 }]);
			expect(first.event).to.equal("inventory.reserved");
			expect(again).to.deep.equal(first);
			expect(different).to.deep.equal(first);
			expect(await f.level(a)).to.include({ reserved: 2, available: 3 });
		});

		it("answers a failed attempt's repeat with the same shortage, even after stock arrives", async () => {
			const a = await f.product(1);
			const orderId = newOrder();
			const first = await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
			expect(first.event).to.equal("inventory.reservationFailed");
			await f.call("inventory.adjust", { productId: a, delta: 10, reason: "restock" });
			const again = await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
			expect(again).to.deep.equal(first);
			expect(await f.level(a)).to.include({ onHand: 11, reserved: 0 });
		});

		it("reserves once when the same order arrives many times at once", async () => {
			const a = await f.product(10);
			const orderId = newOrder();
			const deliveries = await Promise.all(Array.from({ length: 10 }, () => f.created(orderId, [{ productId: a, quantity: 3 }])));
			expect(deliveries.map(d => d.status)).to.deep.equal(Array(10).fill("HANDLED"));
			const answers = await f.answers(orderId);
			expect(answers).to.have.length(10);
			expect(answers[0].event).to.equal("inventory.reserved");
			for (const r of answers) expect(r).to.deep.equal(answers[0]);
			expect(await f.level(a)).to.include({ onHand: 10, reserved: 3, available: 7 });
		});
	});

	describe("order.cancelled and order.confirmed (releasing and committing)", () => {
		it("a cancellation gives the units back; a repeat changes nothing; a confirmation afterwards takes nothing", async () => {
			const a = await f.product(5);
			const orderId = newOrder();
			const items = [{ productId: a, quantity: 4 }];
			await f.reserve(orderId, items);
			expect((await f.cancelled(orderId, items)).status).to.equal("HANDLED");
			expect(await f.status(orderId)).to.equal("RELEASED");
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0, available: 5 });
			expect((await f.cancelled(orderId, items)).status).to.equal("HANDLED");
			expect(await f.level(a)).to.include({ reserved: 0 });
			// a confirmation after the cancellation (a retry, a replayed dead letter) takes no stock
			expect((await f.confirmed(orderId, items)).status).to.equal("HANDLED");
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0 });
			expect(await f.status(orderId)).to.equal("RELEASED");
			expect((await f.ledger(a)).total).to.equal(1);
			// asked about the order again, inventory answers that it holds nothing for it
			expect(await f.reserve(orderId, [{ productId: a, quantity: 1 }])).to.deep.equal({
				event: "inventory.reservationFailed",
				data: { orderId, shortages: [] }
			});
			expect(await f.level(a)).to.include({ reserved: 0 });
		});

		it("a confirmation takes the units off the shelf, writes the ledger, and happens once; a cancellation then puts them back", async () => {
			const a = await f.product(5);
			const b = await f.product(3);
			const orderId = newOrder();
			const items = [
				{ productId: a, quantity: 2 },
				{ productId: b, quantity: 3 }
			];
			await f.reserve(orderId, items);
			expect((await f.confirmed(orderId, items)).status).to.equal("HANDLED");
			expect(await f.status(orderId)).to.equal("COMMITTED");
			expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 3, reserved: 0, available: 3 });
			expect(await f.level(b)).to.deep.equal({ productId: b, onHand: 0, reserved: 0, available: 0 });

			expect((await f.confirmed(orderId, items)).status).to.equal("HANDLED");
			expect(await f.level(a)).to.include({ onHand: 3, reserved: 0 });

			const ledger = await f.ledger(a);
			expect(ledger.total).to.equal(2);
			expect(ledger.items[0]).to.include({ delta: -2, reason: `order ${orderId}`, onHandAfter: 3, actorId: null });
			expect(ledger.items[1]).to.include({ delta: 5, onHandAfter: 5 });

			// committed units are not released: a cancellation of the confirmed order returns them, in the ledger
			expect((await f.cancelled(orderId, items, "CONFIRMED")).status).to.equal("HANDLED");
			expect(await f.status(orderId)).to.equal("RETURNED");
			expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 5, reserved: 0, available: 5 });
			expect(await f.level(b)).to.deep.equal({ productId: b, onHand: 3, reserved: 0, available: 3 });
			expect((await f.ledger(a)).items[0]).to.include({ delta: 2, reason: `order ${orderId} cancelled`, onHandAfter: 5, actorId: null });
		});

		it("dead-letters a confirmation for an unknown order and for a failed attempt (nothing to commit); a cancellation of either holds nothing", async () => {
			const a = await f.product(1);
			const unknown = newOrder();
			expect(await f.confirmed(unknown, [{ productId: a, quantity: 1 }])).to.include({ status: "DEAD", lastError: "Reservation not found" });
			expect(await f.status(unknown)).to.equal(undefined);

			const failed = newOrder();
			const ghost = [{ productId: crypto.randomUUID(), quantity: 1 }];
			expect((await f.reserve(failed, ghost)).event).to.equal("inventory.reservationFailed");
			expect(await f.confirmed(failed, ghost)).to.include({ status: "DEAD", lastError: "Reservation not found" });
			expect((await f.cancelled(failed, ghost)).status).to.equal("HANDLED");
			expect(await f.status(failed)).to.equal("FAILED");

			// a cancellation that comes first is remembered: the late order.created reserves nothing
			expect((await f.cancelled(unknown, [{ productId: a, quantity: 1 }], "PENDING")).status).to.equal("HANDLED");
			expect(await f.reserve(unknown, [{ productId: a, quantity: 1 }])).to.deep.equal({
				event: "inventory.reservationFailed",
				data: { orderId: unknown, shortages: [] }
			});
			expect(await f.level(a)).to.include({ onHand: 1, reserved: 0, available: 1 });
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
		it("never oversells: 40 orders at once for 5 units, exactly 5 get one", async function () {
			this.timeout(60_000);
			const a = await f.product(5);
			const orders = Array.from({ length: 40 }, () => newOrder());
			const deliveries = await Promise.all(orders.map(o => f.created(o, [{ productId: a, quantity: 1 }])));
			expect(deliveries.filter(d => d.status !== "HANDLED")).to.deep.equal([]);
			const answers = await f.answers(...orders);
			expect(answers).to.have.length(40);
			expect(answers.filter(x => x.event === "inventory.reserved")).to.have.length(5);
			const lost = answers.filter(x => x.event === "inventory.reservationFailed");
			expect(lost).to.have.length(35);
			for (const x of lost) expect(shortagesOf(x)).to.deep.equal([{ productId: a, requested: 1, available: 0 }]);
			expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 5, reserved: 5, available: 0 });
		});

		it("does not deadlock when orders name two products in opposite order", async function () {
			this.timeout(60_000);
			const a = await f.product(100);
			const b = await f.product(100);
			const orders = Array.from({ length: 40 }, () => newOrder());
			const deliveries = await Promise.all(
				orders.map((orderId, i) =>
					f.created(
						orderId,
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
			// a deadlock would fail an attempt (and leave its error): every order is handled at its first
			expect(deliveries.filter(d => d.status !== "HANDLED" || d.attempts !== 1)).to.deep.equal([]);
			expect((await f.answers(...orders)).filter(x => x.event === "inventory.reserved")).to.have.length(40);
			expect(await f.level(a)).to.include({ reserved: 40, available: 60 });
			expect(await f.level(b)).to.include({ reserved: 40, available: 60 });
		});

		it("keeps the books straight when reservations, confirmations, cancellations and adjustments race", async function () {
			this.timeout(60_000);
			const a = await f.product(20);
			const items = [{ productId: a, quantity: 2 }];
			const orders = Array.from({ length: 10 }, () => newOrder());
			await Promise.all(orders.map(o => f.reserve(o, items)));
			const [deliveries] = await Promise.all([
				Promise.all([
					...orders.slice(0, 5).map(orderId => f.confirmed(orderId, items)),
					...orders.slice(5).map(orderId => f.cancelled(orderId, items)),
					// each confirmed order is also cancelled, in either order: its units end up back on hand
					...orders.slice(0, 5).map(orderId => f.cancelled(orderId, items, "CONFIRMED"))
				]),
				f.call("inventory.adjust", { productId: a, delta: 5, reason: "delivery" })
			]);
			expect(deliveries.filter(d => d.status !== "HANDLED")).to.deep.equal([]);
			const level = await f.level(a);
			expect(level).to.deep.equal({ productId: a, onHand: 25, reserved: 0, available: 25 });
			const ledger = await f.ledger(a);
			const sum = ledger.items.reduce((s: number, x: Adjustment) => s + x.delta, 0);
			expect(sum).to.equal(level.onHand);
		});
	});
});

describe("inventory reservation expiry (integration)", () => {
	// The timer is set far away so these tests run the sweep themselves; a reservation's time runs out when a
	// test moves its expiry into the past (rather than sleeping past a short TTL, which would also expire others).
	const f = fixture({ RESERVATION_TTL: "60", RESERVATION_SWEEP_INTERVAL: "3600" });
	before(() => f.start());
	after(() => f.stop());
	const pastExpiry = (orderIds: string[]) =>
		f.db.query(`UPDATE inventory.reservations SET expires_at = now() - interval '1 second' WHERE order_id = ANY($1::uuid[])`, [orderIds]);

	it("releases reservations nobody committed in time, once, and announces each", async () => {
		const a = await f.product(5);
		const kept = newOrder();
		const lapsed = [newOrder(), newOrder()];
		const items = [{ productId: a, quantity: 2 }];
		await f.reserve(kept, [{ productId: a, quantity: 1 }]);
		expect((await f.confirmed(kept, [{ productId: a, quantity: 1 }])).status).to.equal("HANDLED");
		for (const orderId of lapsed) await f.reserve(orderId, items);
		expect(await f.level(a)).to.include({ onHand: 4, reserved: 4, available: 0 });
		expect(await f.call<SweepResult>("inventory.sweepExpired", {})).to.deep.equal({ released: 0 });

		await pastExpiry([kept, ...lapsed]);
		expect(await f.call<SweepResult>("inventory.sweepExpired", {})).to.deep.equal({ released: 2 });
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 4, reserved: 0, available: 4 });
		expect(f.events.expired.filter(e => lapsed.includes(e.orderId))).to.have.deep.members(lapsed.map(orderId => ({ orderId, items })));
		expect(await f.status(kept)).to.equal("COMMITTED");

		expect(await f.call<SweepResult>("inventory.sweepExpired", {})).to.deep.equal({ released: 0 });
		// a cancellation of an expired order has nothing to give back
		expect((await f.cancelled(lapsed[0], items)).status).to.equal("HANDLED");
		expect(await f.status(lapsed[0])).to.equal("EXPIRED");
		expect(await f.level(a)).to.include({ onHand: 4, reserved: 0 });
		// a late payment takes the units again while they are there
		expect((await f.confirmed(lapsed[1], items)).status).to.equal("HANDLED");
		expect(await f.status(lapsed[1])).to.equal("COMMITTED");
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 2, reserved: 0, available: 2 });
	});

	it("never releases one reservation twice when several sweeps run at once", async () => {
		const a = await f.product(30);
		const orders = Array.from({ length: 15 }, () => newOrder());
		await Promise.all(orders.map(o => f.reserve(o, [{ productId: a, quantity: 2 }])));
		await pastExpiry(orders);
		const before = f.events.expired.length;
		const results = await Promise.all(Array.from({ length: 4 }, () => f.call<SweepResult>("inventory.sweepExpired", {})));
		expect(results.reduce((s, r) => s + r.released, 0)).to.equal(15);
		expect(f.events.expired.length - before).to.equal(15);
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 30, reserved: 0, available: 30 });
	});

	it("commits a reservation past its expiry that the sweep has not released yet: the paid order keeps its units", async () => {
		const a = await f.product(3);
		const orderId = newOrder();
		const items = [{ productId: a, quantity: 3 }];
		await f.reserve(orderId, items);
		await pastExpiry([orderId]);
		expect((await f.confirmed(orderId, items)).status).to.equal("HANDLED");
		expect(await f.status(orderId)).to.equal("COMMITTED");
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 0, reserved: 0, available: 0 });
		expect(await f.call<SweepResult>("inventory.sweepExpired", {})).to.deep.equal({ released: 0 });
		expect(f.events.expired.map(e => e.orderId)).to.not.include(orderId);
	});

	it("sweeps on its own timer, here from a second instance sharing the database", async function () {
		this.timeout(20_000);
		const a = await f.product(2);
		const orderId = newOrder();
		await f.reserve(orderId, [{ productId: a, quantity: 2 }]);
		await pastExpiry([orderId]);
		const other = await startShop(testConfig(f.db, { SERVICES: "inventory", RESERVATION_TTL: "60", RESERVATION_SWEEP_INTERVAL: "1" }));
		try {
			await eventually(async () => expect(await f.level(a)).to.include({ reserved: 0, available: 2 }));
			expect(await f.status(orderId)).to.equal("EXPIRED");
		} finally {
			await other.stop();
		}
	});
});
