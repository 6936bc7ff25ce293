import crypto from "node:crypto";
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { Transaction } from "sequelize";
import "../identity/identity.access";
import type { AppConfig } from "../../app/config";
import { InvalidInputError, NotFoundError } from "../../lib/errors";
import { subscriptions, tagSpan, type EventRoutes } from "../../lib/events";
import type { TrailEntry } from "../../lib/outbox";
import { lineParam, pageOf, pageParams, uuidParam } from "../../lib/params";
import { Pump } from "../../lib/pump";
import type { DbThis } from "../../lib/mixins/db.mixin";
import { ReliableEventsMixin, type ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import type { CartDto, RemoveOrderedParams, UserRef } from "../cart/cart.types";
import { callerOf, holds, type AuthUser, type CallerMeta, type GetUserParams, type UserDto } from "../identity/identity.types";
import { inventoryEvents } from "../inventory/inventory.events";
import { paymentEvents } from "../payment/payment.events";
import { MAX_CHARGE_CENTS } from "../payment/payment.types";
import {
	EmailNotVerifiedError,
	EmptyCartError,
	IdempotencyKeyReusedError,
	OrderNotCancellableError,
	OrdersBusyError,
	OrderTotalNotPayableError
} from "./order.errors";
import { orderMigrations } from "./order.migrations";
import { OrderRepository, publicOrder, type StoredOrder } from "./order.repository";
import { orderEvents } from "./order.events";
import { orderMetrics, recordSagaEnd, type OrderMetrics } from "./order.metrics";
import { commandFor, decide, draftOrder, historyEntry, pendingStep, type SagaCommand, type SagaInput } from "./order.saga";
import {
	ORDER_STATUSES,
	type ListOrdersParams,
	type OrderDto,
	type OrderEvents,
	type OrderIdParams,
	type OrderPage,
	type OrderStatus,
	type PlaceOrderParams,
	type SagaTrail,
	type ShippingAddress
} from "./order.types";
import { ORDER_ENVELOPE, ORDER_PAGE, SAGA_TRAIL } from "./order.openapi";

interface OrderSettings extends ServiceSettingSchema {
	rest: string;
}

interface OrderVars extends DbThis, ReliableEventsThis<OrderEvents> {
	repo: OrderRepository;
	watchdog: Pump;
	/** When the log last said that orders are being refused (ORDERS_BUSY). */
	busySince: number;
	/** The saga's metrics (order.metrics.ts); no-ops with METRICS=off. */
	metrics: OrderMetrics;
}

/** What `order.place` has read before it decides: any order under the same key, the saga's load, the cart, the profile. */
interface PlacingReads {
	existing: StoredOrder | undefined;
	inFlight: number;
	cart: CartDto;
	profile: UserDto;
}

/** An order request as checked: the card token, and the Idempotency-Key with the hash of the body it came with. */
interface PlaceRequest {
	paymentToken: string;
	shippingAddress: ShippingAddress | null;
	key: string | undefined;
	hash: string | null;
}

interface OrderMethods {
	/** Checks the request: card token, Idempotency-Key. Throws VALIDATION_ERROR (422). */
	readPlaceRequest(ctx: Ctx<PlaceOrderParams>): PlaceRequest;
	/** Every read `place` needs, at once (a replay or a refusal wastes the others, which are only reads). */
	readForPlacing(ctx: Ctx<PlaceOrderParams>, userId: string, key: string | undefined): Promise<PlacingReads>;
	/** The first response to a key again; throws IDEMPOTENCY_KEY_REUSED (422) for a different body. */
	replay(ctx: Ctx<PlaceOrderParams>, existing: StoredOrder, hash: string | null): { order: OrderDto };
	/** Throws ORDERS_BUSY (503) while the saga has ORDER_MAX_IN_FLIGHT orders in flight: shed load rather than queue it. */
	shedLoad(inFlight: number): void;
	/** Stores a new order with its `order.created`, in one transaction. Answers undefined when its key was taken meanwhile. */
	persist(order: OrderDto, request: PlaceRequest, profile: UserDto): Promise<StoredOrder | undefined>;
	/** Feeds one saga input to a locked order and persists what the rules decide. Answers the order after. */
	apply(orderId: string, input: SagaInput, t: Transaction): Promise<StoredOrder>;
	/** Writes the event a transition (or a nudge) calls for; `left` is the status a cancelled order left. */
	command(order: StoredOrder, event: SagaCommand, t: Transaction, left?: OrderStatus): Promise<void>;
	/** One watchdog pass: re-asks stuck steps and gives up on orders past the limit. Answers how many it touched. */
	watch(stopping: () => boolean): Promise<number>;
	/** Takes an order's lines out of the shopper's cart (once per order, however often asked) and records it. */
	takeOutOfCart(ctx: Ctx<unknown>, userId: string, orderId: string, items: readonly { productId: string; quantity: number }[]): Promise<void>;
	/** Takes the lines of the shopper's earlier orders out of the cart where that is not confirmed yet. */
	clearCarts(ctx: Ctx<unknown>, userId: string): Promise<void>;
}

type OrderThis = Service<OrderSettings> & OrderVars & OrderMethods;
type Ctx<P> = Context<P, CallerMeta>;

const MAX_TOKEN_LENGTH = 255;
/** Printable ASCII without spaces, like the keys clients generate (UUIDs, ULIDs, hashes). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** How many stuck orders one watchdog transaction handles. */
const WATCH_BATCH = 50;
/** What a client refused with ORDERS_BUSY is told to wait before it tries again. */
const BUSY_RETRY_AFTER_SECONDS = 2;
/** While orders are refused, the log says so at most this often. */
const BUSY_LOG_EVERY_MS = 10_000;
/** The services that take part in the saga and keep records of its events. */
const SAGA_SERVICES = ["order", "inventory", "payment", "notification"] as const;

const text = (max: number, optional = false) => ({ ...lineParam(1, max), ...(optional ? { optional: true } : {}) }) as const;

const addressParam = {
	type: "object",
	strict: "remove",
	optional: true,
	props: {
		name: text(100),
		line1: text(200),
		line2: text(200, true),
		city: text(100),
		region: text(100, true),
		postalCode: text(20),
		country: {
			type: "string",
			pattern: /^[A-Z]{2}$/,
			messages: { stringPattern: "The 'shippingAddress.country' field must be an ISO 3166-1 alpha-2 code such as 'BR'." }
		}
	}
} as const;

/**
 * The card token is checked here rather than by the validator, whose errors carry the value they
 * rejected: a token must never travel in an error, and errors get logged.
 */
function checkToken(token: unknown): asserts token is string {
	if (typeof token !== "string" || token.trim().length === 0 || token.length > MAX_TOKEN_LENGTH) {
		throw new InvalidInputError([
			{ field: "paymentToken", message: `The 'paymentToken' field must be a card token of 1 to ${MAX_TOKEN_LENGTH} characters.`, type: "string" }
		]);
	}
}

function checkKey(key: unknown): string | undefined {
	if (key === undefined) return undefined;
	if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key)) {
		throw new InvalidInputError([
			{ field: "Idempotency-Key", message: "The Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces.", type: "header" }
		]);
	}
	return key;
}

/** What identifies a request for its Idempotency-Key: the body, with the token hashed rather than kept. */
function requestHash(params: PlaceOrderParams): string {
	const body = JSON.stringify({ paymentToken: params.paymentToken, shippingAddress: params.shippingAddress ?? null });
	return crypto.createHash("sha256").update(body).digest("hex");
}

/** Throws EMAIL_NOT_VERIFIED (403) under REQUIRE_EMAIL_VERIFICATION for a caller whose address is not verified. */
function checkMayOrder(user: AuthUser, requireEmailVerification: boolean): void {
	// identity fills emailVerified from its current data when it resolves the caller's token
	if (requireEmailVerification && user.emailVerified !== true) throw new EmailNotVerifiedError();
}

/** The saga's answers the order moves on: inventory's to `order.created`, payment's to `order.paymentRequested` and `order.cancelled`. */
export const orderSubscriptions = subscriptions<OrderThis>("order")
	.on(inventoryEvents, {
		async "inventory.reserved"(event, t) {
			const { orderId, expiresAt } = event.data;
			await this.apply(orderId, { type: "stockReserved", expiresAt }, t);
		},
		async "inventory.reservationFailed"(event, t) {
			await this.apply(event.data.orderId, { type: "stockUnavailable" }, t);
		}
	})
	.on(paymentEvents, {
		async "payment.succeeded"(event, t) {
			await this.apply(event.data.orderId, { type: "paymentSucceeded" }, t);
		},
		async "payment.failed"(event, t) {
			await this.apply(event.data.orderId, { type: "paymentDeclined" }, t);
		},
		async "payment.refunded"(event, t) {
			const before = await this.repo.lock(event.data.orderId, t);
			const after = await this.apply(event.data.orderId, { type: "paymentRefunded" }, t);
			// the customer hears of the refund once it has happened, and once
			if (before && before.paymentStatus !== "REFUNDED" && after.paymentStatus === "REFUNDED") await this.command(after, "order.refunded", t);
		}
	});

export function createOrderService(config: AppConfig, routes: EventRoutes): ServiceSchema<OrderSettings, OrderMethods, OrderVars> {
	const c = config.order;
	return {
		name: "order",
		mixins: [
			ReliableEventsMixin({
				service: "order",
				config: config.events,
				database: config.database,
				migrations: orderMigrations,
				produces: orderEvents,
				subscriptions: orderSubscriptions,
				routes
			})
		],
		settings: { rest: "/" },

		actions: {
			/**
			 * Places an order for everything in the caller's cart and empties it; the saga then reserves the
			 * stock and charges the card. With an `Idempotency-Key` header a repeat answers the first response.
			 * Throws EMAIL_NOT_VERIFIED (403) under REQUIRE_EMAIL_VERIFICATION for a caller whose address is not verified,
			 * EMPTY_CART (422), ORDER_TOTAL_NOT_PAYABLE (422), IDEMPOTENCY_KEY_REUSED (422), VALIDATION_ERROR (422), and ORDERS_BUSY (503,
			 * Retry-After) while the saga has ORDER_MAX_IN_FLIGHT orders in flight.
			 */
			place: {
				rest: "POST /orders",
				summary: "Place an order for your cart",
				responses: {
					201: {
						description:
							"Placed (PENDING; the checkout goes on in the background: read the order for its status). A repeat with the same Idempotency-Key answers the first order, with `Idempotent-Replayed: true`.",
						schema: ORDER_ENVELOPE,
						headers: {
							Location: "The order's URL",
							"Idempotent-Replayed": "`true` when this answers an earlier request with the same Idempotency-Key"
						}
					}
				},
				errors: { 403: ["EMAIL_NOT_VERIFIED"], 422: ["EMPTY_CART", "ORDER_TOTAL_NOT_PAYABLE", "IDEMPOTENCY_KEY_REUSED"], 503: ["ORDERS_BUSY"] },
				// placing an order reads the cart and the profile and writes the order with its event: longer than a read
				timeout: 20_000,
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", paymentToken: { type: "any" }, shippingAddress: addressParam },
				async handler(this: OrderThis, ctx: Ctx<PlaceOrderParams>): Promise<{ order: OrderDto }> {
					const user = callerOf(ctx);
					checkMayOrder(user, c.requireEmailVerification);
					const request = this.readPlaceRequest(ctx);
					// Lines of an earlier order may still sit in the cart (taking them out failed): out with them
					// first, or this order would buy them again. Nothing to do, as a rule: one indexed read.
					await this.clearCarts(ctx, user.id);
					const { existing, inFlight, cart, profile } = await this.readForPlacing(ctx, user.id, request.key);
					if (existing) return this.replay(ctx, existing, request.hash);
					this.shedLoad(inFlight);
					if (cart.items.length === 0) {
						// a twin request with the same key may have just placed the order and emptied the cart
						const twin = request.key && (await this.repo.byKey(user.id, request.key));
						if (twin) return this.replay(ctx, twin, request.hash);
						throw new EmptyCartError();
					}
					// an order no card payment can cover would only wait in the saga until it gives up
					if (cart.totalCents < 1 || cart.totalCents > MAX_CHARGE_CENTS) throw new OrderTotalNotPayableError(cart.totalCents, MAX_CHARGE_CENTS);

					const order = draftOrder(crypto.randomUUID(), user.id, cart, request.shippingAddress, new Date());
					tagSpan(ctx, { orderId: order.id });
					const created = await this.persist(order, request, profile);
					if (!created) return this.replay(ctx, (await this.repo.byKey(user.id, request.key!))!, request.hash);
					this.logger.info(`Order ${order.id} placed: ${order.items.length} line(s), ${order.totalCents} ${order.currency}`);
					try {
						await this.takeOutOfCart(ctx, user.id, order.id, order.items);
					} catch (err) {
						// The order stands. Its lines leave the cart when cart handles order.created, or before this
						// shopper's next order is placed, whichever comes first.
						this.logger.warn(`Order ${order.id} was placed; its lines will leave the cart later (${(err as Error).message})`);
					}
					ctx.meta.$statusCode = 201;
					ctx.meta.$location = `/api/orders/${order.id}`;
					return { order };
				}
			},

			/** The caller's orders newest first (with `order.view`: everyone's). Throws VALIDATION_ERROR (422). */
			list: {
				rest: "GET /orders",
				summary: "List your orders (with order.view: everyone's)",
				responses: { 200: { description: "A page of orders, newest first", schema: ORDER_PAGE } },
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", status: { type: "enum", values: ORDER_STATUSES, optional: true }, ...pageParams },
				async handler(this: OrderThis, ctx: Ctx<ListOrdersParams>): Promise<OrderPage> {
					const user = callerOf(ctx);
					const { page, pageSize, offset } = pageOf(ctx.params);
					const filter = { userId: holds(user, "order.view") ? undefined : user.id, status: ctx.params.status };
					const { items, total } = await this.repo.list(filter, pageSize, offset);
					return { items: items.map(publicOrder), total, page, pageSize };
				}
			},

			/** One order: the caller's own (with `order.view`: any). Throws NOT_FOUND (404, also for another user's order). */
			get: {
				rest: "GET /orders/:id",
				summary: "Get an order",
				responses: { 200: { description: "The order", schema: ORDER_ENVELOPE } },
				errors: { 404: ["NOT_FOUND"] },
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", id: uuidParam },
				async handler(this: OrderThis, ctx: Ctx<OrderIdParams>): Promise<{ order: OrderDto }> {
					const user = callerOf(ctx);
					const order = await this.repo.byId(ctx.params.id);
					// someone else's order is "not found", not "forbidden": its existence is not the caller's business
					if (!order || (order.userId !== user.id && !holds(user, "order.view"))) throw new NotFoundError("Order", ctx.params.id);
					return { order: publicOrder(order) };
				}
			},

			/**
			 * Cancels an order of the caller's (with `order.update`: anyone's). Before confirmation the stock is released; after
			 * it the payment is refunded and the stock put back (the saga does both). Throws NOT_FOUND (404),
			 * ORDER_NOT_CANCELLABLE (409, already cancelled).
			 */
			cancel: {
				rest: "POST /orders/:id/cancel",
				summary: "Cancel an order",
				responses: { 200: { description: "The order, cancelled", schema: ORDER_ENVELOPE } },
				errors: { 404: ["NOT_FOUND"], 409: ["ORDER_NOT_CANCELLABLE"] },
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", id: uuidParam },
				async handler(this: OrderThis, ctx: Ctx<OrderIdParams>): Promise<{ order: OrderDto }> {
					const user = callerOf(ctx);
					const order = await this.db.transaction(async t => {
						const current = await this.repo.lock(ctx.params.id, t);
						if (!current || (current.userId !== user.id && !holds(user, "order.update"))) throw new NotFoundError("Order", ctx.params.id);
						return this.apply(current.id, { type: "customerCancelled" }, t);
					});
					return { order: publicOrder(order) };
				}
			},

			/**
			 * An order's saga for staff (the admin's timeline, REPL `saga <id>`): its history and every event
			 * about it that order, inventory, payment and notification sent or received. Throws NOT_FOUND (404).
			 */
			saga: {
				rest: "GET /orders/:id/saga",
				summary: "An order's saga: its history and every event about it, as each service saw it",
				responses: { 200: { description: "The order and its events, oldest first", schema: SAGA_TRAIL } },
				errors: { 404: ["NOT_FOUND"] },
				visibility: "published",
				auth: "required",
				permission: "order.view",
				params: { $$strict: "remove", id: uuidParam },
				async handler(this: OrderThis, ctx: Ctx<OrderIdParams>): Promise<SagaTrail> {
					const order = await this.repo.byId(ctx.params.id);
					if (!order) throw new NotFoundError("Order", ctx.params.id);
					const unreachable: string[] = [];
					const trails = await Promise.all(
						SAGA_SERVICES.map(svc =>
							ctx.call<TrailEntry[], { correlationId: string }>(`${svc}.eventTrail`, { correlationId: order.id }).catch(() => {
								unreachable.push(svc);
								return [] as TrailEntry[];
							})
						)
					);
					const events = trails.flat().sort((a, b) => a.at.localeCompare(b.at) || (a.direction === "sent" ? -1 : 1));
					return { order: publicOrder(order), events, unreachable };
				}
			},

			/** Runs a watchdog pass now (re-asks stuck steps, gives up on orders past SAGA_GIVE_UP); answers how many it touched. */
			watchdog: {
				visibility: "public",
				async handler(this: OrderThis): Promise<{ touched: number }> {
					return { touched: await this.watch(() => false) };
				}
			}
		},

		methods: {
			readPlaceRequest(this: OrderThis, ctx: Ctx<PlaceOrderParams>): PlaceRequest {
				const { paymentToken } = ctx.params;
				checkToken(paymentToken);
				const key = checkKey(ctx.meta.idempotencyKey);
				return { paymentToken, shippingAddress: ctx.params.shippingAddress ?? null, key, hash: key ? requestHash(ctx.params) : null };
			},

			async readForPlacing(this: OrderThis, ctx: Ctx<PlaceOrderParams>, userId: string, key: string | undefined): Promise<PlacingReads> {
				const [existing, inFlight, cart, profile] = await Promise.all([
					key ? this.repo.byKey(userId, key) : undefined,
					c.maxInFlight > 0 ? this.repo.inFlight(c.maxInFlight) : 0,
					ctx.call<CartDto, UserRef>("cart.getForUser", { userId }),
					ctx.call<UserDto, GetUserParams>("identity.get", { id: userId })
				]);
				return { existing, inFlight, cart, profile };
			},

			replay(this: OrderThis, ctx: Ctx<PlaceOrderParams>, existing: StoredOrder, hash: string | null): { order: OrderDto } {
				if (existing.requestHash !== hash) throw new IdempotencyKeyReusedError(existing.id);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/orders/${existing.id}`;
				ctx.meta.$responseHeaders = { "Idempotent-Replayed": "true" };
				return existing.createdResponse;
			},

			shedLoad(this: OrderThis, inFlight: number): void {
				// past the limit an order would wait minutes for its saga
				if (c.maxInFlight <= 0 || inFlight < c.maxInFlight) return;
				if (Date.now() - this.busySince > BUSY_LOG_EVERY_MS) {
					this.busySince = Date.now();
					this.logger.warn(`${inFlight} orders in flight (ORDER_MAX_IN_FLIGHT): new orders are refused with 503 ORDERS_BUSY`);
				}
				this.metrics.busy.inc();
				throw new OrdersBusyError(BUSY_RETRY_AFTER_SECONDS);
			},

			async persist(this: OrderThis, order: OrderDto, request: PlaceRequest, profile: UserDto): Promise<StoredOrder | undefined> {
				return this.db.transaction(async t => {
					const stored = await this.repo.insert(
						{
							...order,
							customer: { email: profile.email, name: profile.name, phone: profile.phone },
							paymentToken: request.paymentToken,
							idempotencyKey: request.key ?? null,
							requestHash: request.hash,
							createdResponse: { order }
						},
						t
					);
					if (stored) await this.command(stored, "order.created", t);
					return stored;
				});
			},

			async takeOutOfCart(
				this: OrderThis,
				ctx: Ctx<unknown>,
				userId: string,
				orderId: string,
				items: readonly { productId: string; quantity: number }[]
			): Promise<void> {
				await ctx.call<{ removed: boolean }, RemoveOrderedParams>("cart.removeOrdered", {
					userId,
					orderId,
					items: items.map(i => ({ productId: i.productId, quantity: i.quantity }))
				});
				await this.repo.markCartCleared(orderId);
			},

			async clearCarts(this: OrderThis, ctx: Ctx<unknown>, userId: string): Promise<void> {
				for (const pending of await this.repo.cartsToClear(userId)) await this.takeOutOfCart(ctx, userId, pending.id, pending.items);
			},

			async apply(this: OrderThis, orderId: string, input: SagaInput, t: Transaction): Promise<StoredOrder> {
				const order = await this.repo.lock(orderId, t);
				// an event about an order this shop does not have: dead-lettered for an operator to look at
				if (!order) throw new NotFoundError("Order", orderId);
				const now = new Date();
				const decision = decide(order, input, now);
				if (decision.kind === "refuse") throw new OrderNotCancellableError(order.id, order.status);
				// inventory's hold ends then, whatever the order does with the news
				const reservationExpiresAt = input.type === "stockReserved" ? input.expiresAt : undefined;
				if (decision.kind === "ignore") {
					if (reservationExpiresAt) await this.repo.setReservationExpiry(order.id, reservationExpiresAt, t);
					if (decision.paymentStatus) {
						await this.repo.setPaymentStatus(order.id, decision.paymentStatus, t);
						// payment has answered: its card token is of no more use to anyone
						await this.outbox.scrub(order.id, t);
					}
					return reservationExpiresAt || decision.paymentStatus ? (await this.repo.lock(orderId, t))! : order;
				}

				const ended = decision.to === "CANCELLED" || decision.to === "CONFIRMED";
				// one statement records the step and what moved it (payment's answer, inventory's hold)
				const next = await this.repo.transition(
					order.id,
					{
						status: decision.to,
						cancelReason: decision.reason ?? null,
						entry: historyEntry(decision.to, now, decision.reason),
						dropToken: ended,
						paymentStatus: decision.paymentStatus,
						reservationExpiresAt
					},
					t
				);
				// payment has answered or the order has ended: its card token is of no more use to anyone
				if (ended || decision.paymentStatus) await this.outbox.scrub(order.id, t);
				if (decision.to === "CANCELLED" || decision.to === "CONFIRMED") recordSagaEnd(this.metrics, t, decision.to, order.createdAt, decision.reason);
				await this.command(next, decision.emit, t, order.status);
				const reason = decision.reason ? ` (${decision.reason})` : "";
				this.logger.info(`Order ${order.id}: ${order.status} -> ${decision.to}${reason}`);
				return next;
			},

			async command(this: OrderThis, order: StoredOrder, event: SagaCommand, t: Transaction, left?: OrderStatus): Promise<void> {
				const { event: name, data } = commandFor(order, event, left);
				await this.outbox.add(t, name, data);
			},

			async watch(this: OrderThis, stopping: () => boolean): Promise<number> {
				let touched = 0;
				while (!stopping()) {
					const batch = await this.db.transaction(async t => {
						const stuck = await this.repo.claimStuck(c.sagaTimeoutSeconds, c.sagaGiveUpSeconds, WATCH_BATCH, t);
						for (const order of stuck) {
							if (order.giveUp) {
								this.logger.warn(`Order ${order.id} still ${order.status} after ${c.sagaGiveUpSeconds}s; cancelling it`);
								await this.apply(order.id, { type: "gaveUp" }, t);
								continue;
							}
							const step = pendingStep(order.status)!;
							this.logger.warn(`Order ${order.id} heard nothing for ${c.sagaTimeoutSeconds}s while ${order.status}; asking again (${step})`);
							await this.command(order, step, t);
							await this.repo.markNudged(order.id, t);
						}
						return stuck.length;
					});
					touched += batch;
					if (batch < WATCH_BATCH) break;
				}
				return touched;
			}
		},

		started(this: OrderThis) {
			this.repo = new OrderRepository(this.db);
			this.busySince = 0;
			this.metrics = orderMetrics(this.broker, () => this.db);
			this.watchdog = new Pump(
				stopping => this.watch(stopping),
				c.watchdogIntervalSeconds * 1000,
				err => this.logger.warn("Saga watchdog pass failed; will try again:", err)
			);
			this.watchdog.start();
		},

		async stopped(this: OrderThis) {
			this.metrics?.stop();
			await this.watchdog?.stop();
		}
	};
}
