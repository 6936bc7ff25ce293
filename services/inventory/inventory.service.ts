import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { Transaction } from "sequelize";
import "../identity/identity.access";
import type { AppConfig } from "../../app/config";
import { subscriptions, type EventRoutes } from "../../lib/events";
import { lineParam as oneLine, pageOf, pageParams, uuidParam } from "../../lib/params";
import type { DbThis } from "../../lib/mixins/db.mixin";
import { ReliableEventsMixin, type ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import { Pump } from "../../lib/pump";
import type { GetProductParams, ProductDto } from "../catalog/catalog.types";
import type { CallerMeta } from "../identity/identity.types";
import { orderEvents } from "../order/order.events";
import { inventoryEvents } from "./inventory.events";
import { NegativeStockError, ReservationLapsedError, ReservationNotFoundError, StockBelowReservedError, StockLimitError } from "./inventory.errors";
import { inventoryMigrations } from "./inventory.migrations";
import { InventoryRepository, type StoredReservation } from "./inventory.repository";
import {
	MAX_ADJUSTMENT,
	MAX_LINES,
	MAX_ON_HAND,
	answerFor,
	decideCancel,
	decideConfirm,
	findOverLimit,
	findShortages,
	judgeAdjustment,
	levelOf,
	mergeLines,
	totalsByProduct
} from "./inventory.rules";
import type {
	InventoryEvents,
	AdjustStockParams,
	AdjustmentPage,
	GetManyStockParams,
	ListAdjustmentsParams,
	ProductRef,
	ReservationExpiredEvent,
	ReservationLine,
	StockChangedEvent,
	StockLevel,
	SweepResult
} from "./inventory.types";
import { STOCK_LEVEL, ADJUSTMENT_PAGE } from "./inventory.openapi";

interface InventorySettings extends ServiceSettingSchema {
	rest: string;
	reservationTtlSeconds: number;
	sweepIntervalSeconds: number;
}

interface InventoryVars extends DbThis, ReliableEventsThis<InventoryEvents> {
	repo: InventoryRepository;
	/** Releases reservations past their expiry, every RESERVATION_SWEEP_INTERVAL; one pass at a time, awaited on stop. */
	sweep?: Pump;
	/** Deletes finished reservations past EVENT_RETENTION_DAYS. */
	reservationRetention?: Pump;
}

/** What one step did to a reservation: its state after the step, and what to announce once committed. */
interface Outcome {
	reservation: StoredReservation;
	changed: StockLevel[];
	expired?: StoredReservation[];
}

/**
 * The reservation steps take the caller's transaction: the saga's handlers run them in the inbox's
 * transaction, with the answer in the outbox. Reserving, committing and releasing happen only through
 * the saga's events (`order.created`, `order.confirmed`, `order.cancelled`).
 */
interface InventoryMethods {
	/** Announces levels and expiries; from a handler (no context) through the broker. */
	announce(ctx: Context | undefined, changed: readonly StockLevel[], expired?: readonly StoredReservation[]): void;
	/** Announces an outcome once the whole transaction has committed. Call it last, when nothing can fail any more. */
	announceAfterCommit(t: Transaction, outcome: Outcome): void;
	/** Reserves every line or none; an order that already has a reservation gets it back unchanged. */
	reserveLines(orderId: string, lines: readonly ReservationLine[], t: Transaction): Promise<Outcome>;
	/** Held units go back to available; the reservation is RELEASED. */
	releaseHeld(stored: StoredReservation, t: Transaction): Promise<Outcome>;
	/** Held units leave on hand and reserved, in the ledger; the reservation is COMMITTED. */
	commitHeld(stored: StoredReservation, t: Transaction): Promise<Outcome>;
	/** Units given back are taken again from what is available now, or RESERVATION_LAPSED. */
	retakeReleased(stored: StoredReservation, t: Transaction): Promise<Outcome>;
	/** Committed units go back on hand, in the ledger; the reservation is RETURNED. */
	returnCommitted(stored: StoredReservation, t: Transaction): Promise<Outcome>;
}

type InventoryThis = Service<InventorySettings> & InventoryVars & InventoryMethods;
type Ctx<P> = Context<P, CallerMeta>;

/** How many expired reservations one sweep transaction releases. */
const SWEEP_BATCH = 100;
/** Reservations deleted per statement by retention: short statements, so the saga never waits behind it. */
const PURGE_BATCH = 500;

const productIdParam = { productId: uuidParam };

/**
 * The outermost transaction. A reliable handler's `t` is a savepoint inside the inbox's transaction, and
 * Sequelize runs a savepoint's afterCommit hooks when the savepoint ends, before the real COMMIT.
 */
function rootOf(t: Transaction): Transaction {
	let root = t as Transaction & { parent?: Transaction };
	while (root.parent) root = root.parent;
	return root;
}

/** Inventory's part of the checkout saga: it holds, commits and gives back the stock of orders. */
export const inventorySubscriptions = subscriptions<InventoryThis>("inventory").on(orderEvents, {
	/**
	 * `order.created`: reserves the order's lines and answers `inventory.reserved` or
	 * `inventory.reservationFailed` in the same transaction. Asked again, it answers the stored outcome;
	 * a shortage is an answer, not a failure.
	 */
	async "order.created"(event, t) {
		const { orderId, items } = event.data;
		const outcome = await this.reserveLines(orderId, mergeLines(items), t);
		const answer = answerFor(outcome.reservation);
		await this.outbox.add(t, answer.event, answer.data);
		this.announceAfterCommit(t, outcome);
	},

	/**
	 * `order.confirmed`: the paid order's units leave the shelf. Units the sweep gave back in the
	 * meantime are taken again if available; if not (RESERVATION_LAPSED), or with no reservation at all
	 * (RESERVATION_NOT_FOUND), it throws and ends up with an operator. Idempotent.
	 */
	async "order.confirmed"(event, t) {
		const { orderId } = event.data;
		const stored = await this.repo.lockReservation(orderId, t);
		let outcome: Outcome;
		switch (decideConfirm(stored?.status, stored?.cancelled ?? false)) {
			case "not-found":
				throw new ReservationNotFoundError(orderId);
			case "unchanged":
				return;
			case "cancelled":
				this.logger.warn(`order.confirmed for ${orderId} ignored: the order was cancelled, so it takes no stock`);
				return;
			case "commit":
				outcome = await this.commitHeld(stored!, t);
				break;
			case "retake":
				outcome = await this.retakeReleased(stored!, t);
				break;
		}
		this.announceAfterCommit(t, outcome);
	},

	/**
	 * `order.cancelled`: held units go back to available, committed units back on hand (RETURNED, in
	 * the ledger), and with no reservation yet a released one is recorded so the late `order.created`
	 * reserves nothing. Idempotent. Throws STOCK_LIMIT_EXCEEDED when a return would pass MAX_ON_HAND.
	 */
	async "order.cancelled"(event, t) {
		const { orderId } = event.data;
		let stored = await this.repo.lockReservation(orderId, t);
		if (!stored) {
			const lines = mergeLines(event.data.items.map(l => ({ productId: l.productId, quantity: l.quantity })));
			if (await this.repo.insertTombstone(orderId, lines, t)) return;
			// an order.created handled elsewhere got there first: undo what it did
			stored = (await this.repo.lockReservation(orderId, t))!;
		}
		let outcome: Outcome | undefined;
		switch (decideCancel(stored.status)) {
			case "release":
				outcome = await this.releaseHeld(stored, t);
				break;
			case "return":
				outcome = await this.returnCommitted(stored, t);
				break;
			case "tombstone":
			case "unchanged":
				break;
		}
		await this.repo.markCancelled(orderId, t);
		if (outcome) this.announceAfterCommit(t, outcome);
	}
});

export function createInventoryService(config: AppConfig, routes: EventRoutes): ServiceSchema<InventorySettings, InventoryMethods, InventoryVars> {
	const c = config.inventory;
	return {
		name: "inventory",
		mixins: [
			ReliableEventsMixin({
				service: "inventory",
				config: config.events,
				database: config.database,
				migrations: inventoryMigrations,
				produces: inventoryEvents,
				subscriptions: inventorySubscriptions,
				routes
			})
		],
		settings: {
			// routes are /api/inventory/..., not /api/inventory/inventory/...
			rest: "/",
			reservationTtlSeconds: c.reservationTtlSeconds,
			sweepIntervalSeconds: c.sweepIntervalSeconds
		},

		actions: {
			/** Stock levels of one product; zeros for a product never stocked. Throws VALIDATION_ERROR (422). */
			get: {
				rest: "GET /inventory/:productId",
				summary: "Get a product's stock",
				responses: { 200: { description: "Its stock; zeros for a product never stocked", schema: STOCK_LEVEL } },
				visibility: "published",
				auth: "public",
				params: { $$strict: "remove", ...productIdParam },
				async handler(this: InventoryThis, ctx: Ctx<ProductRef>): Promise<StockLevel> {
					const { productId } = ctx.params;
					const levels = await this.repo.levels([productId]);
					return levels.get(productId) ?? levelOf(productId);
				}
			},

			/**
			 * Receives (delta > 0) or removes (delta < 0) units on hand, recorded in the ledger. Admins over HTTP;
			 * internal callers (the demo-data seeder) act as the system. Throws NOT_FOUND (404) for an unknown or
			 * archived product, NEGATIVE_STOCK / STOCK_BELOW_RESERVED / STOCK_LIMIT_EXCEEDED (409), VALIDATION_ERROR (422).
			 */
			adjust: {
				rest: "POST /inventory/:productId/adjustments",
				summary: "Receive or remove stock",
				responses: { 200: { description: "The stock as it is now", schema: STOCK_LEVEL } },
				errors: { 404: ["NOT_FOUND"], 409: ["NEGATIVE_STOCK", "STOCK_BELOW_RESERVED", "STOCK_LIMIT_EXCEEDED"] },
				visibility: "published",
				permission: "inventory.update",
				params: {
					$$strict: "remove",
					...productIdParam,
					delta: { type: "number", integer: true, min: -MAX_ADJUSTMENT, max: MAX_ADJUSTMENT, notEqual: 0 },
					reason: oneLine(1, 200)
				},
				async handler(this: InventoryThis, ctx: Ctx<AdjustStockParams>): Promise<StockLevel> {
					const { productId, delta, reason } = ctx.params;
					await ctx.call<ProductDto, GetProductParams>("catalog.get", { id: productId });
					const level = await this.db.transaction(async t => {
						const current = await this.repo.lockOrCreateLevel(productId, t);
						const verdict = judgeAdjustment(current, delta);
						if (!verdict.ok) {
							// thrown inside the transaction: even the empty record created for the lock is rolled back
							if (verdict.reason === "NEGATIVE_STOCK") throw new NegativeStockError(current, delta);
							if (verdict.reason === "STOCK_BELOW_RESERVED") throw new StockBelowReservedError(current, delta);
							throw new StockLimitError(current, delta, MAX_ON_HAND);
						}
						const next = await this.repo.setOnHand(productId, verdict.level.onHand, t);
						await this.repo.insertAdjustment({ productId, delta, reason, onHandAfter: next.onHand, actorId: ctx.meta.user?.id ?? null }, t);
						return next;
					});
					this.announce(ctx, [level]);
					return level;
				}
			},

			/** One product's adjustment ledger, newest first. Admins only. Throws VALIDATION_ERROR (422). */
			listAdjustments: {
				rest: "GET /inventory/:productId/adjustments",
				responses: { 200: { description: "The ledger, newest first", schema: ADJUSTMENT_PAGE } },
				visibility: "published",
				permission: "inventory.view",
				params: { $$strict: "remove", ...productIdParam, ...pageParams },
				async handler(this: InventoryThis, ctx: Ctx<ListAdjustmentsParams>): Promise<AdjustmentPage> {
					const { page, pageSize, offset } = pageOf(ctx.params);
					const { items, total } = await this.repo.listAdjustments(ctx.params.productId, pageSize, offset);
					return { items, total, page, pageSize };
				}
			},

			/** Levels of several products in one query, in the order asked; zeros for products never stocked. */
			getMany: {
				visibility: "public",
				params: { $$strict: "remove", productIds: { type: "array", items: uuidParam, min: 1, max: MAX_LINES } },
				async handler(this: InventoryThis, ctx: Ctx<GetManyStockParams>): Promise<StockLevel[]> {
					const levels = await this.repo.levels([...new Set(ctx.params.productIds)]);
					return ctx.params.productIds.map(id => levels.get(id) ?? levelOf(id));
				}
			},

			/** Releases every reservation past its expiry (status EXPIRED); answers how many. Run by a timer; callable from the REPL. */
			sweepExpired: {
				visibility: "public",
				async handler(this: InventoryThis, ctx: Ctx<Record<string, never>>): Promise<SweepResult> {
					let released = 0;
					for (;;) {
						const batch = await this.db.transaction(async t => {
							const due = await this.repo.claimExpired(SWEEP_BATCH, t);
							if (due.length === 0) return { expired: [], changed: [] };
							const totals = totalsByProduct(due.map(r => r.items));
							await this.repo.lockLevels(
								totals.map(l => l.productId),
								t
							);
							const changed = await this.repo.changeReserved(totals, -1, t);
							const expired = await this.repo.markReleased(
								due.map(r => r.orderId),
								"EXPIRED",
								t
							);
							return { expired, changed };
						});
						this.announce(ctx, batch.changed, batch.expired);
						released += batch.expired.length;
						if (batch.expired.length < SWEEP_BATCH) break;
					}
					if (released > 0) this.logger.info(`Released ${released} expired reservation(s)`);
					return { released };
				}
			},

			/**
			 * Deletes reservations that can change no more (released, expired, returned, failed) and ended more
			 * than EVENT_RETENTION_DAYS ago, in batches; answers how many. Run by a timer; callable from the REPL.
			 */
			purgeFinished: {
				visibility: "public",
				async handler(this: InventoryThis): Promise<{ purged: number }> {
					let purged = 0;
					for (;;) {
						const n = await this.repo.purgeFinished(config.events.retentionDays, PURGE_BATCH);
						purged += n;
						if (n < PURGE_BATCH) break;
					}
					if (purged > 0) this.logger.info(`Purged ${purged} finished reservation(s) older than ${config.events.retentionDays} days`);
					return { purged };
				}
			}
		},

		methods: {
			announce(this: InventoryThis, ctx: Context | undefined, changed: readonly StockLevel[], expired: readonly StoredReservation[] = []): void {
				// announcements for listeners that keep views fresh: one lost is logged, never a failure of the step
				const emit = <T>(event: string, data: T) =>
					void (ctx ? ctx.emit<T>(event, data) : this.broker.emit<T>(event, data)).catch(err => this.logger.warn(`Announcing ${event} failed:`, err));
				for (const level of changed) emit<StockChangedEvent>("inventory.stockChanged", level);
				for (const r of expired) emit<ReservationExpiredEvent>("inventory.reservationExpired", { orderId: r.orderId, items: r.items });
			},

			announceAfterCommit(this: InventoryThis, t: Transaction, outcome: Outcome): void {
				// on the root: a hook on the handler's savepoint would run before the inbox's COMMIT
				rootOf(t).afterCommit(() => this.announce(undefined, outcome.changed, outcome.expired));
			},

			async reserveLines(this: InventoryThis, orderId: string, lines: readonly ReservationLine[], t: Transaction): Promise<Outcome> {
				// The reservation row first: a concurrent attempt for the same order waits on it.
				const created = await this.repo.insertReservation(orderId, lines, this.settings.reservationTtlSeconds, t);
				if (!created) return { reservation: (await this.repo.lockReservation(orderId, t))!, changed: [] };
				const { levels, reserved } = await this.repo.reserveIfAvailable(lines, t);
				if (reserved) return { reservation: created, changed: reserved };
				const shortages = findShortages(lines, levels);
				// kept (not rolled back) so a retry of this order answers the same shortages
				await this.repo.markFailed(orderId, shortages, t);
				return { reservation: { ...created, status: "FAILED", shortages }, changed: [] };
			},

			async releaseHeld(this: InventoryThis, stored: StoredReservation, t: Transaction): Promise<Outcome> {
				return this.repo.giveBack(stored, "RELEASED", t);
			},

			async commitHeld(this: InventoryThis, stored: StoredReservation, t: Transaction): Promise<Outcome> {
				// the reservation (locked by the caller) first: the stock records are locked last and held shortest
				const reservation = await this.repo.markCommitted(stored.orderId, t);
				return { reservation, changed: await this.repo.consumeReserved(stored.items, `order ${stored.orderId}`, t) };
			},

			async retakeReleased(this: InventoryThis, stored: StoredReservation, t: Transaction): Promise<Outcome> {
				const levels = await this.repo.lockLevels(
					stored.items.map(l => l.productId),
					t
				);
				const shortages = findShortages(stored.items, levels);
				// never oversell: the event is retried, then dead-lettered for an operator
				if (shortages.length > 0) throw new ReservationLapsedError(stored.orderId, stored.status as "RELEASED" | "EXPIRED", shortages);
				const changed = await this.repo.changeOnHand(stored.items, -1, `order ${stored.orderId}`, t);
				return { reservation: await this.repo.markCommitted(stored.orderId, t), changed };
			},

			async returnCommitted(this: InventoryThis, stored: StoredReservation, t: Transaction): Promise<Outcome> {
				const levels = await this.repo.lockOrCreateLevels(
					stored.items.map(l => l.productId),
					t
				);
				const over = findOverLimit(stored.items, levels);
				// clamping would silently lose units from the books: an operator decides instead
				if (over) throw new StockLimitError(over.level, over.quantity, MAX_ON_HAND);
				const changed = await this.repo.changeOnHand(stored.items, 1, `order ${stored.orderId} cancelled`, t);
				return { reservation: await this.repo.markReturned(stored.orderId, t), changed };
			}
		},

		async started(this: InventoryThis) {
			this.repo = new InventoryRepository(this.db);
			this.sweep = new Pump(
				() => this.actions.sweepExpired({}) as Promise<SweepResult>,
				this.settings.sweepIntervalSeconds * 1000,
				err => this.logger.error("Reservation sweep failed; will try again:", err)
			);
			this.sweep.start();
			this.reservationRetention = new Pump(
				() => this.actions.purgeFinished({}),
				config.events.retentionIntervalSeconds * 1000,
				err => this.logger.warn("Purging finished reservations failed; will try again:", err)
			);
			this.reservationRetention.start();
		},

		async stopped(this: InventoryThis) {
			await Promise.all([this.sweep?.stop(), this.reservationRetention?.stop()]);
		}
	};
}
