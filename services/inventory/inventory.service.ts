import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import "../../lib/action-access";
import type { AppConfig } from "../../lib/config";
import { pageOf, pageParams, uuidParam } from "../../lib/params";
import { DbMixin, type DbThis } from "../../mixins/db.mixin";
import type { GetProductParams, ProductDto } from "../catalog/catalog.types";
import type { CallerMeta } from "../identity/identity.types";
import {
	InsufficientStockError,
	NegativeStockError,
	ReservationCommittedError,
	ReservationNotFoundError,
	ReservationReleasedError,
	StockBelowReservedError,
	StockLimitError
} from "./inventory.errors";
import { inventoryMigrations } from "./inventory.migrations";
import { InventoryRepository, publicReservation, type StoredReservation } from "./inventory.repository";
import {
	MAX_ADJUSTMENT,
	MAX_LINE_QUANTITY,
	MAX_LINES,
	MAX_ON_HAND,
	decideCommit,
	decideRelease,
	findShortages,
	judgeAdjustment,
	levelOf,
	mergeLines,
	totalsByProduct
} from "./inventory.rules";
import type {
	AdjustStockParams,
	AdjustmentPage,
	GetManyStockParams,
	ListAdjustmentsParams,
	OrderRef,
	ProductRef,
	Reservation,
	ReservationExpiredEvent,
	ReserveParams,
	StockChangedEvent,
	StockLevel,
	SweepResult
} from "./inventory.types";

interface InventorySettings extends ServiceSettingSchema {
	rest: string;
	reservationTtlSeconds: number;
	sweepIntervalSeconds: number;
}

interface InventoryVars extends DbThis {
	repo: InventoryRepository;
	sweepTimer?: NodeJS.Timeout;
	/** The sweep in progress, awaited on stop so the pool is not closed under it. */
	sweeping?: Promise<void>;
}

interface InventoryMethods {
	runSweep(): void;
	announce(ctx: Context, changed: readonly StockLevel[], expired?: readonly StoredReservation[]): void;
}

type InventoryThis = Service<InventorySettings> & InventoryVars & InventoryMethods;
type Ctx<P> = Context<P, CallerMeta>;

/** How many expired reservations one sweep transaction releases. */
const SWEEP_BATCH = 100;

const productIdParam = { productId: uuidParam };

const lineParam = {
	type: "object",
	strict: "remove",
	props: {
		productId: uuidParam,
		quantity: { type: "number", integer: true, min: 1, max: MAX_LINE_QUANTITY }
	}
} as const;

export function createInventoryService(config: AppConfig): ServiceSchema<InventorySettings, InventoryMethods, InventoryVars> {
	const c = config.inventory;
	return {
		name: "inventory",
		mixins: [DbMixin({ service: "inventory", config: config.database, migrations: inventoryMigrations })],
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
				visibility: "published",
				roles: ["admin"],
				params: {
					$$strict: "remove",
					...productIdParam,
					delta: { type: "number", integer: true, min: -MAX_ADJUSTMENT, max: MAX_ADJUSTMENT, notEqual: 0 },
					reason: { type: "string", trim: true, min: 1, max: 200 }
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
				visibility: "published",
				roles: ["admin"],
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

			/**
			 * Reserves every line for an order, or none. Idempotent per orderId: a repeat answers the stored
			 * outcome. Throws INSUFFICIENT_STOCK (409) with `data.shortages`, VALIDATION_ERROR (422).
			 */
			reserve: {
				visibility: "public",
				params: {
					$$strict: "remove",
					orderId: uuidParam,
					items: { type: "array", items: lineParam, min: 1, max: MAX_LINES }
				},
				async handler(this: InventoryThis, ctx: Ctx<ReserveParams>): Promise<Reservation> {
					const { orderId } = ctx.params;
					const lines = mergeLines(ctx.params.items);
					const outcome = await this.db.transaction(async t => {
						// The reservation row first: a concurrent attempt for the same order waits on it.
						const created = await this.repo.insertReservation(orderId, lines, this.settings.reservationTtlSeconds, t);
						if (!created) {
							const stored = await this.repo.lockReservation(orderId, t);
							return { reservation: stored!, changed: [] };
						}
						const levels = await this.repo.lockLevels(lines.map(l => l.productId), t);
						const shortages = findShortages(lines, levels);
						if (shortages.length > 0) {
							// kept (not rolled back) so a retry of this order answers the same shortages
							await this.repo.markFailed(orderId, shortages, t);
							return { reservation: { ...created, status: "FAILED" as const, shortages }, changed: [] };
						}
						return { reservation: created, changed: await this.repo.changeReserved(lines, 1, t) };
					});
					if (outcome.reservation.status === "FAILED") throw new InsufficientStockError(orderId, outcome.reservation.shortages);
					this.announce(ctx, outcome.changed);
					return publicReservation(outcome.reservation);
				}
			},

			/**
			 * Gives an order's reserved units back. Idempotent: releasing a released or expired reservation
			 * changes nothing. Throws RESERVATION_NOT_FOUND (404), RESERVATION_COMMITTED (409).
			 */
			release: {
				visibility: "public",
				params: { $$strict: "remove", orderId: uuidParam },
				async handler(this: InventoryThis, ctx: Ctx<OrderRef>): Promise<Reservation> {
					const { orderId } = ctx.params;
					const outcome = await this.db.transaction(async t => {
						const stored = await this.repo.lockReservation(orderId, t);
						switch (decideRelease(stored?.status)) {
							case "not-found":
								throw new ReservationNotFoundError(orderId);
							case "committed":
								throw new ReservationCommittedError(orderId);
							case "unchanged":
								return { reservation: stored!, changed: [] };
							case "release":
								return this.repo.giveBack(stored!, "RELEASED", t);
						}
					});
					this.announce(ctx, outcome.changed);
					return publicReservation(outcome.reservation);
				}
			},

			/**
			 * Turns an order's reservation into units gone (on hand and reserved both drop), recorded in the
			 * ledger as "order <orderId>". Idempotent. Throws RESERVATION_NOT_FOUND (404), RESERVATION_RELEASED
			 * (409, also for a reservation past its expiry, which this releases).
			 */
			commit: {
				visibility: "public",
				params: { $$strict: "remove", orderId: uuidParam },
				async handler(this: InventoryThis, ctx: Ctx<OrderRef>): Promise<Reservation> {
					const { orderId } = ctx.params;
					const outcome = await this.db.transaction(async t => {
						const stored = await this.repo.lockReservation(orderId, t);
						const decision = decideCommit(stored?.status, stored?.pastExpiry ?? false);
						switch (decision) {
							case "not-found":
								throw new ReservationNotFoundError(orderId);
							case "released":
								throw new ReservationReleasedError(orderId, stored!.status as "RELEASED" | "EXPIRED");
							case "unchanged":
								return { decision, reservation: stored!, changed: [] };
							case "expire":
								return { decision, ...(await this.repo.giveBack(stored!, "EXPIRED", t)) };
							case "commit": {
								await this.repo.lockLevels(stored!.items.map(l => l.productId), t);
								const changed = await this.repo.consumeReserved(stored!.items, `order ${orderId}`, t);
								return { decision, reservation: await this.repo.markCommitted(orderId, t), changed };
							}
						}
					});
					if (outcome.decision === "expire") {
						// the expiry is kept: the sweep would have done the same a moment later
						this.announce(ctx, outcome.changed, [outcome.reservation]);
						throw new ReservationReleasedError(orderId, "EXPIRED");
					}
					this.announce(ctx, outcome.changed);
					return publicReservation(outcome.reservation);
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
							await this.repo.lockLevels(totals.map(l => l.productId), t);
							const changed = await this.repo.changeReserved(totals, -1, t);
							const expired = await this.repo.markReleased(due.map(r => r.orderId), "EXPIRED", t);
							return { expired, changed };
						});
						this.announce(ctx, batch.changed, batch.expired);
						released += batch.expired.length;
						if (batch.expired.length < SWEEP_BATCH) break;
					}
					if (released > 0) this.logger.info(`Released ${released} expired reservation(s)`);
					return { released };
				}
			}
		},

		methods: {
			/** Events for what a committed transaction changed. */
			announce(this: InventoryThis, ctx: Context, changed: readonly StockLevel[], expired: readonly StoredReservation[] = []): void {
				for (const level of changed) ctx.emit<StockChangedEvent>("inventory.stockChanged", level);
				for (const r of expired) ctx.emit<ReservationExpiredEvent>("inventory.reservationExpired", { orderId: r.orderId, items: r.items });
			},

			/** One sweep at a time per instance; a failure is logged and the next tick tries again. */
			runSweep(this: InventoryThis): void {
				if (this.sweeping) return;
				this.sweeping = (this.actions.sweepExpired({}) as Promise<SweepResult>)
					.then(() => undefined)
					.catch(err => this.logger.error("Reservation sweep failed:", err))
					.finally(() => (this.sweeping = undefined));
			}
		},

		async started(this: InventoryThis) {
			this.repo = new InventoryRepository(this.db);
			this.sweepTimer = setInterval(() => this.runSweep(), this.settings.sweepIntervalSeconds * 1000);
		},

		async stopped(this: InventoryThis) {
			clearInterval(this.sweepTimer);
			this.sweepTimer = undefined;
			await this.sweeping;
		}
	};
}
