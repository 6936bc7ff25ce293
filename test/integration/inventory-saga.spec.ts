import crypto from "node:crypto";
import { expect } from "chai";
import type { Context, Service, ServiceSchema } from "moleculer";
import { Client } from "pg";
import type { DeadLetter } from "../../lib/inbox";
import type { EventEnvelope, IncomingEnvelope } from "../../lib/events";
import type { ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import type {
	AdjustmentPage,
	InventoryReservationFailedEvent,
	InventoryReservedEvent,
	StockLevel,
	SweepResult
} from "../../services/inventory/inventory.types";
import type { CancelReason, OrderCancelledEvent, OrderConfirmedEvent, OrderCreatedEvent, OrderLine, OrderStatus } from "../../services/order/order.types";
import type { ProductDto } from "../../services/catalog/catalog.types";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import { eventually, until } from "../support/eventually";

/**
 * Inventory's part of the checkout saga on a real PostgreSQL: the test plays the order service, sending
 * its reliable events to the "inventory" group and capturing what inventory answers to the "order" group.
 */

type Line = { productId: string; quantity: number };
type Answer = EventEnvelope<InventoryReservedEvent | InventoryReservationFailedEvent>;
type InventoryService = Service & ReliableEventsThis;

const ADMIN = { user: { id: crypto.randomUUID(), email: "admin@example.com", role: "admin", permissions: ["inventory.view", "inventory.update"] } };
const USER_ID = crypto.randomUUID();
const newOrder = (): string => crypto.randomUUID();

/** The order service as inventory sees it: it only listens for the answers. */
function fakeOrder(answers: Answer[]): Partial<ServiceSchema> {
	const record = (ctx: Context<Answer>) => void answers.push(ctx.params);
	return {
		name: "order",
		events: {
			"inventory.reserved": { group: "order", handler: record },
			"inventory.reservationFailed": { group: "order", handler: record }
		}
	};
}

function orderLines(lines: Line[]): OrderLine[] {
	return lines.map(l => ({ ...l, sku: "SKU", name: "Test product", unitPriceCents: 1000, lineTotalCents: 1000 * l.quantity }));
}

const customer = { email: "buyer@example.com", name: "Buyer", phone: null };

function fixture(env: Record<string, string> = {}) {
	const settings = {
		SERVICES: "catalog,inventory",
		// several nodes in one process share the Fake transporter, as nodes of one cluster would
		TRANSPORTER: "Fake",
		EVENT_POLL_MS: "50",
		EVENT_MAX_ATTEMPTS: "3",
		EVENT_RETRY_BASE_MS: "20",
		EVENT_RETRY_MAX_MS: "100",
		RESERVATION_SWEEP_INTERVAL: "3600", // the tests run the sweep themselves
		...env
	};
	const f = {
		db: undefined as unknown as TestDatabase,
		shop: undefined as unknown as RunningShop,
		sql: undefined as unknown as Client,
		answers: [] as Answer[],
		async start() {
			f.db = await createTestDatabase();
			f.shop = await startShop(testConfig(f.db, settings), [fakeOrder(f.answers)]);
			f.sql = new Client({ connectionString: f.db.url });
			await f.sql.connect();
		},
		async stop() {
			await f.sql?.end();
			await f.shop?.stop();
			await f.db?.drop();
		},
		/** Another node running only inventory, on the same database and transporter. */
		async inventoryNode(): Promise<RunningShop> {
			return startShop(testConfig(f.db, { ...settings, SERVICES: "inventory" }));
		},
		call<T>(action: string, params: object = {}): Promise<T> {
			return f.shop.broker.call<T, object>(action, params);
		},
		async product(stock: number): Promise<string> {
			const product = await f.shop.broker.call<ProductDto, object>(
				"catalog.create",
				{ sku: `SAGA-${crypto.randomBytes(4).toString("hex")}`, name: "Test product", priceCents: 1000, category: "tests" },
				{ meta: ADMIN }
			);
			if (stock > 0) await f.call("inventory.adjust", { productId: product.id, delta: stock, reason: "initial stock" });
			return product.id;
		},
		level(productId: string): Promise<StockLevel> {
			return f.call<StockLevel>("inventory.get", { productId });
		},
		ledger(productId: string): Promise<AdjustmentPage> {
			return f.call<AdjustmentPage>("inventory.listAdjustments", { productId, pageSize: 100 });
		},
		/** The order's reservation status as stored (no action exposes it). */
		async status(orderId: string): Promise<string | undefined> {
			const { rows } = await f.sql.query<{ status: string }>(`SELECT status FROM inventory.reservations WHERE order_id = $1`, [orderId]);
			return rows[0]?.status;
		},
		/** Sends an order event the way the order's outbox relay does. Answers the envelope id. */
		async send<T>(event: string, data: T, opts: { id?: string; via?: RunningShop } = {}): Promise<string> {
			const envelope: IncomingEnvelope<T> = { id: opts.id ?? crypto.randomUUID(), event, source: "order", occurredAt: new Date().toISOString(), data };
			await (opts.via ?? f.shop).broker.emit(event, envelope, { groups: ["inventory"] });
			return envelope.id;
		},
		created(orderId: string, items: Line[], id?: string): Promise<string> {
			return f.send<OrderCreatedEvent>("order.created", { orderId, userId: USER_ID, items, totalCents: 1000, currency: "BRL" }, { id });
		},
		confirmed(orderId: string, items: Line[]): Promise<string> {
			return f.send<OrderConfirmedEvent>("order.confirmed", {
				orderId,
				userId: USER_ID,
				customer,
				items: orderLines(items),
				totalCents: 1000,
				currency: "BRL"
			});
		},
		cancelled(
			orderId: string,
			items: Line[],
			previousStatus: Exclude<OrderStatus, "CANCELLED">,
			reason: CancelReason = "customer_request"
		): Promise<string> {
			return f.send<OrderCancelledEvent>("order.cancelled", {
				orderId,
				userId: USER_ID,
				customer,
				items: orderLines(items),
				totalCents: 1000,
				currency: "BRL",
				reason,
				previousStatus
			});
		},
		/** Waits until inventory has finished with an event: "HANDLED" or "DEAD". */
		async settled(eventId: string): Promise<string> {
			const inventory = f.shop.broker.getLocalService("inventory") as InventoryService;
			return eventually(async () => {
				const status = await inventory.inbox.status(eventId);
				expect(status, `event ${eventId}`).to.be.oneOf(["HANDLED", "DEAD"]);
				return status!;
			});
		},
		/**
		 * Waits until inventory has nothing left to do about an order: every event about it handled (or dead)
		 * and every answer about it handed to "order". An answer that was still to come has arrived by then.
		 */
		async quiet(orderId: string): Promise<void> {
			await until(
				`inventory to finish with order ${orderId}`,
				async () => {
					const { rows } = await f.sql.query<{ inbox: number; outbox: number }>(
						`SELECT (SELECT count(*)::int FROM inventory.inbox WHERE status = 'PENDING' AND payload->'data'->>'orderId' = $1) AS inbox,
						        (SELECT count(*)::int FROM inventory.outbox WHERE published_at IS NULL AND payload->'data'->>'orderId' = $1) AS outbox`,
						[orderId]
					);
					return rows[0];
				},
				left => left.inbox === 0 && left.outbox === 0
			);
		},
		/** Lets the order's hold lapse: its reservation's expiry is moved into the past (no waiting out the TTL). */
		async lapse(orderId: string): Promise<void> {
			const { rowCount } = await f.sql.query(
				`UPDATE inventory.reservations SET expires_at = now() - interval '1 second' WHERE order_id = $1 AND status = 'RESERVED'`,
				[orderId]
			);
			expect(rowCount, `a held reservation for ${orderId}`).to.equal(1);
		},
		answersFor(orderId: string): Answer[] {
			return f.answers.filter(a => a.data.orderId === orderId);
		},
		/** Waits for the order's `n`-th answer and answers all of them so far. */
		async answered(orderId: string, n = 1): Promise<Answer[]> {
			return eventually(() => {
				const got = f.answersFor(orderId);
				expect(got.length, `answers for ${orderId}`).to.be.at.least(n);
				return got;
			});
		}
	};
	return f;
}

describe("inventory in the checkout saga (integration)", function () {
	this.timeout(60_000);
	const f = fixture();
	before(() => f.start());
	after(() => f.stop());

	describe("order.created", () => {
		it("reserves the order's lines and answers inventory.reserved with when the hold ends", async () => {
			const a = await f.product(5);
			const b = await f.product(2);
			const orderId = newOrder();
			const before = Date.now();
			await f.created(orderId, [
				{ productId: a, quantity: 2 },
				{ productId: b, quantity: 2 }
			]);
			const [answer] = await f.answered(orderId);
			expect(answer).to.include({ event: "inventory.reserved", source: "inventory" });
			expect(answer.data).to.have.keys("orderId", "expiresAt");
			const holdMs = new Date((answer.data as InventoryReservedEvent).expiresAt).getTime() - before;
			const ttlMs = f.shop.config.inventory.reservationTtlSeconds * 1000;
			expect(holdMs).to.be.within(ttlMs - 5000, ttlMs + 5000);
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 2, available: 3 });
			expect(await f.level(b)).to.include({ onHand: 2, reserved: 2, available: 0 });
		});

		it("answers a shortage with inventory.reservationFailed naming it, holds nothing, and is not a failure", async () => {
			const a = await f.product(5);
			const b = await f.product(1);
			const orderId = newOrder();
			const id = await f.created(orderId, [
				{ productId: a, quantity: 2 },
				{ productId: b, quantity: 3 }
			]);
			const [answer] = await f.answered(orderId);
			expect(answer.event).to.equal("inventory.reservationFailed");
			expect(answer.data).to.deep.equal({ orderId, shortages: [{ productId: b, requested: 3, available: 1 }] });
			expect(await f.settled(id)).to.equal("HANDLED");
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0 });
			expect(await f.level(b)).to.include({ onHand: 1, reserved: 0 });

			// asked again after stock arrived, it still answers what it decided
			await f.call("inventory.adjust", { productId: b, delta: 10, reason: "restock" });
			await f.created(orderId, [{ productId: b, quantity: 3 }]);
			const answers = await f.answered(orderId, 2);
			expect(answers[1].data).to.deep.equal(answer.data);
			expect(await f.level(b)).to.include({ reserved: 0 });
		});

		it("has one effect for an envelope delivered twice, and re-announces the same answer when asked again under a new id", async () => {
			const a = await f.product(5);
			const orderId = newOrder();
			const id = crypto.randomUUID();
			await f.created(orderId, [{ productId: a, quantity: 2 }], id);
			await f.created(orderId, [{ productId: a, quantity: 2 }], id);
			const [first] = await f.answered(orderId);
			await f.quiet(orderId);
			expect(f.answersFor(orderId)).to.have.length(1);
			expect(await f.level(a)).to.include({ reserved: 2, available: 3 });

			// the order's watchdog asks again: a new envelope for the same fact
			await f.created(orderId, [{ productId: a, quantity: 2 }]);
			const answers = await f.answered(orderId, 2);
			expect(answers[1].id).to.not.equal(first.id);
			expect(answers[1]).to.deep.include({ event: "inventory.reserved", data: first.data });
			expect(await f.level(a)).to.include({ reserved: 2, available: 3 });
		});

		it("reserves exactly the units there are when many orders arrive at once at several inventory nodes", async () => {
			const a = await f.product(5);
			const nodes = [f.shop, await f.inventoryNode(), await f.inventoryNode()];
			try {
				const orders = Array.from({ length: 30 }, () => newOrder());
				// each node handles what it is sent (balanced events prefer a local handler): three at a time
				await Promise.all(
					orders.map((orderId, i) =>
						f.send<OrderCreatedEvent>(
							"order.created",
							{ orderId, userId: USER_ID, items: [{ productId: a, quantity: 1 }], totalCents: 1000, currency: "BRL" },
							{ via: nodes[i % 3] }
						)
					)
				);
				await eventually(() => expect(orders.filter(o => f.answersFor(o).length > 0)).to.have.length(30), 20_000);
				const answers = orders.map(o => f.answersFor(o)[0]);
				expect(answers.filter(x => x.event === "inventory.reserved")).to.have.length(5);
				const failed = answers.filter(x => x.event === "inventory.reservationFailed");
				expect(failed).to.have.length(25);
				for (const x of failed)
					expect((x.data as InventoryReservationFailedEvent).shortages).to.deep.equal([{ productId: a, requested: 1, available: 0 }]);
				expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 5, reserved: 5, available: 0 });
			} finally {
				await Promise.all(nodes.slice(1).map(n => n.stop()));
			}
		});
	});

	describe("order.confirmed", () => {
		it("takes the units off the shelf, in the ledger, once", async () => {
			const a = await f.product(5);
			const orderId = newOrder();
			const items = [{ productId: a, quantity: 2 }];
			await f.created(orderId, items);
			await f.answered(orderId);
			expect(await f.settled(await f.confirmed(orderId, items))).to.equal("HANDLED");
			expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 3, reserved: 0, available: 3 });
			expect(await f.status(orderId)).to.equal("COMMITTED");
			const ledger = await f.ledger(a);
			expect(ledger.total).to.equal(2);
			expect(ledger.items[0]).to.include({ delta: -2, reason: `order ${orderId}`, onHandAfter: 3, actorId: null });

			expect(await f.settled(await f.confirmed(orderId, items))).to.equal("HANDLED");
			expect(await f.level(a)).to.include({ onHand: 3, reserved: 0 });
			expect((await f.ledger(a)).total).to.equal(2);

			// asked about the order again, inventory still answers that its stock is held
			await f.created(orderId, items);
			expect((await f.answered(orderId, 2))[1].event).to.equal("inventory.reserved");
		});

		it("dead-letters a confirmation for an order inventory never reserved, changing nothing", async () => {
			const orderId = newOrder();
			const id = await f.confirmed(orderId, [{ productId: crypto.randomUUID(), quantity: 1 }]);
			expect(await f.settled(id)).to.equal("DEAD");
			const dead = (await f.call<DeadLetter[]>("inventory.deadLetters")).find(d => d.eventId === id);
			expect(dead?.attempts).to.equal(3);
			expect(dead?.lastError).to.equal("Reservation not found");
			expect(await f.status(orderId)).to.equal(undefined);
		});
	});

	describe("order.cancelled", () => {
		it("gives held units back when the order is cancelled before confirmation, and a late confirmation takes nothing", async () => {
			const a = await f.product(5);
			const orderId = newOrder();
			const items = [{ productId: a, quantity: 3 }];
			await f.created(orderId, items);
			await f.answered(orderId);
			expect(await f.settled(await f.cancelled(orderId, items, "STOCK_RESERVED", "payment_declined"))).to.equal("HANDLED");
			expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 5, reserved: 0, available: 5 });
			expect(await f.status(orderId)).to.equal("RELEASED");

			expect(await f.settled(await f.cancelled(orderId, items, "STOCK_RESERVED", "payment_declined"))).to.equal("HANDLED");
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0 });

			// a confirmation handled after the cancellation (a retry, a replayed dead letter) must not take the units
			expect(await f.settled(await f.confirmed(orderId, items))).to.equal("HANDLED");
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0 });
			expect(await f.status(orderId)).to.equal("RELEASED");
			expect((await f.ledger(a)).total).to.equal(1);
		});

		it("puts committed units back on hand when a confirmed order is cancelled, once, and a late confirmation takes nothing", async () => {
			const a = await f.product(5);
			const b = await f.product(4);
			const orderId = newOrder();
			const items = [
				{ productId: a, quantity: 2 },
				{ productId: b, quantity: 4 }
			];
			await f.created(orderId, items);
			await f.answered(orderId);
			await f.settled(await f.confirmed(orderId, items));
			expect(await f.level(a)).to.include({ onHand: 3 });

			expect(await f.settled(await f.cancelled(orderId, items, "CONFIRMED"))).to.equal("HANDLED");
			expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 5, reserved: 0, available: 5 });
			expect(await f.level(b)).to.deep.equal({ productId: b, onHand: 4, reserved: 0, available: 4 });
			expect(await f.status(orderId)).to.equal("RETURNED");
			const ledger = await f.ledger(a);
			expect(ledger.items.map(x => x.delta)).to.deep.equal([2, -2, 5]);
			expect(ledger.items[0]).to.include({ reason: `order ${orderId} cancelled`, onHandAfter: 5, actorId: null });

			await f.settled(await f.cancelled(orderId, items, "CONFIRMED"));
			await f.settled(await f.confirmed(orderId, items));
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0 });
			expect(await f.level(b)).to.include({ onHand: 4, reserved: 0 });
			expect((await f.ledger(a)).total).to.equal(3);
			expect(await f.status(orderId)).to.equal("RETURNED");
		});

		it("remembers a cancellation that overtook order.created: the late creation reserves nothing and answers failed", async () => {
			const a = await f.product(5);
			const orderId = newOrder();
			const items = [{ productId: a, quantity: 2 }];
			expect(await f.settled(await f.cancelled(orderId, items, "PENDING", "timeout"))).to.equal("HANDLED");
			expect(await f.status(orderId)).to.equal("RELEASED");

			await f.created(orderId, items);
			const [answer] = await f.answered(orderId);
			expect(answer).to.deep.include({ event: "inventory.reservationFailed", data: { orderId, shortages: [] } });
			expect(await f.level(a)).to.include({ onHand: 5, reserved: 0, available: 5 });
		});
	});
});

describe("inventory in the checkout saga when a reservation expires (integration)", function () {
	this.timeout(60_000);
	// the holds last the default TTL: a test lapses the one it means to (f.lapse), so nothing expires by chance
	const f = fixture();
	before(() => f.start());
	after(() => f.stop());

	/** Holds `items` for a new order, then lets the hold lapse and runs the sweep. */
	async function lapsedOrder(items: Line[]): Promise<string> {
		const orderId = newOrder();
		await f.created(orderId, items);
		expect((await f.answered(orderId))[0].event).to.equal("inventory.reserved");
		await f.lapse(orderId);
		expect((await f.call<SweepResult>("inventory.sweepExpired")).released).to.be.at.least(1);
		expect(await f.status(orderId)).to.equal("EXPIRED");
		return orderId;
	}

	it("commits held units of an order paid after its expiry when the sweep has not run yet", async () => {
		const a = await f.product(3);
		const orderId = newOrder();
		const items = [{ productId: a, quantity: 3 }];
		await f.created(orderId, items);
		await f.answered(orderId);
		await f.lapse(orderId);
		expect(await f.settled(await f.confirmed(orderId, items))).to.equal("HANDLED");
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 0, reserved: 0, available: 0 });
		expect(await f.status(orderId)).to.equal("COMMITTED");
	});

	it("takes the units again when a paid order's reservation had expired and they are still there", async () => {
		const a = await f.product(5);
		const items = [{ productId: a, quantity: 2 }];
		const orderId = await lapsedOrder(items);
		expect(await f.level(a)).to.include({ onHand: 5, reserved: 0 });

		expect(await f.settled(await f.confirmed(orderId, items))).to.equal("HANDLED");
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 3, reserved: 0, available: 3 });
		expect(await f.status(orderId)).to.equal("COMMITTED");
		expect((await f.ledger(a)).items[0]).to.include({ delta: -2, reason: `order ${orderId}`, onHandAfter: 3 });
	});

	it("dead-letters the confirmation when the expired reservation's units went to someone else, and a replay after restocking takes them", async () => {
		const a = await f.product(2);
		const items = [{ productId: a, quantity: 2 }];
		const late = await lapsedOrder(items);
		const other = newOrder();
		await f.created(other, items);
		expect((await f.answered(other))[0].event).to.equal("inventory.reserved");

		const id = await f.confirmed(late, items);
		expect(await f.settled(id)).to.equal("DEAD");
		const dead = (await f.call<DeadLetter[]>("inventory.deadLetters")).find(d => d.eventId === id);
		expect(dead?.attempts).to.equal(3);
		expect(dead?.lastError).to.equal(`Order ${late} was confirmed after its reservation was expired, and its stock is no longer available`);
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 2, reserved: 2, available: 0 });
		expect(await f.status(late)).to.equal("EXPIRED");

		// the operator restocks and replays the event
		await f.call("inventory.adjust", { productId: a, delta: 2, reason: "restock" });
		expect(await f.call("inventory.replayDeadLetter", { eventId: id })).to.deep.equal({ replayed: true });
		await eventually(async () => expect(await f.status(late)).to.equal("COMMITTED"));
		expect(await f.level(a)).to.deep.equal({ productId: a, onHand: 2, reserved: 2, available: 0 });
	});
});
