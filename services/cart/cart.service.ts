import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { AppConfig } from "../../app/config";
import { InvalidInputError, NotFoundError } from "../../lib/errors";
import { uuidParam } from "../../lib/params";
import { subscriptions, type EventRoutes } from "../../lib/events";
import type { DbThis } from "../../lib/mixins/db.mixin";
import { ReliableEventsMixin, type ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import { orderEvents } from "../order/order.events";
import type { GetManyProductsParams, GetProductParams, ProductArchivedEvent, ProductDto } from "../catalog/catalog.types";
import { callerOf, type CallerMeta } from "../identity/identity.types";
import type { StockLevel } from "../inventory/inventory.types";
import { CartStockError } from "./cart.errors";
import { cartMigrations } from "./cart.migrations";
import { CartRepository } from "./cart.repository";
import type { AddItemParams, CartDto, ProductRef, RemoveOrderedParams, SetQuantityParams, UserRef } from "./cart.types";
import { buildCartView } from "./cart.view";
import { CART } from "./cart.openapi";

interface CartSettings extends ServiceSettingSchema {
	rest: string;
	currency: string;
	maxQuantityPerLine: number;
	maxLines: number;
}

interface CartVars extends DbThis, ReliableEventsThis {
	repo: CartRepository;
}

interface CartMethods {
	view(ctx: Context, userId: string): Promise<CartDto>;
	/** The product, if it can be bought; NOT_FOUND otherwise. */
	purchasable(ctx: Context, productId: string): Promise<ProductDto>;
	/** Refuses a line larger than the stock available right now. */
	checkStock(ctx: Context, productId: string, quantity: number): Promise<void>;
	/** Takes a placed order's lines out of its shopper's cart (nothing when that was done already). */
}

type CartThis = Service<CartSettings> & CartVars & CartMethods;
type Ctx<P> = Context<P, CallerMeta>;

/** The signed-in caller's id; every cart route needs one (the gateway enforces it, this is the backstop). */
const callerId = (ctx: Ctx<unknown>): string => callerOf(ctx).id;

/** A placed order's lines leave the shopper's cart (once per order; `order.place` usually did it already). */
export const cartSubscriptions = subscriptions<CartThis>("cart").on(orderEvents, {
	async "order.created"(event, t) {
		const { orderId, userId, items } = event.data;
		await this.repo.removeOrdered(userId, orderId, items, t);
	}
});

export function createCartService(config: AppConfig, routes: EventRoutes): ServiceSchema<CartSettings, CartMethods, CartVars> {
	const max = config.cart.maxQuantityPerLine;
	return {
		name: "cart",
		// order.created through the inbox: an order's lines leave the cart even when the order service's own
		// call to removeOrdered was lost (a cart node restarting); once per order either way
		mixins: [
			ReliableEventsMixin({
				service: "cart",
				config: config.events,
				database: config.database,
				migrations: cartMigrations,
				subscriptions: cartSubscriptions,
				routes
			})
		],
		settings: { rest: "/", currency: config.store.currency, maxQuantityPerLine: max, maxLines: 100 },

		actions: {
			/** The caller's cart with current prices and availability. */
			get: {
				rest: "GET /cart",
				summary: "Get your cart",
				responses: { 200: { description: "Your cart", schema: CART } },
				visibility: "published",
				auth: "required",
				handler(this: CartThis, ctx: Ctx<Record<string, never>>): Promise<CartDto> {
					return this.view(ctx, callerId(ctx));
				}
			},

			/** Adds units of a product (to an existing line too). Throws NOT_FOUND (404), VALIDATION_ERROR (422), INSUFFICIENT_STOCK (409). */
			addItem: {
				rest: "POST /cart/items",
				summary: "Add a product to your cart",
				responses: { 200: { description: "Your cart as it is now", schema: CART } },
				errors: { 404: ["NOT_FOUND"], 409: ["INSUFFICIENT_STOCK"] },
				visibility: "published",
				auth: "required",
				params: {
					$$strict: "remove",
					productId: uuidParam,
					quantity: { type: "number", integer: true, min: 1, max }
				},
				async handler(this: CartThis, ctx: Ctx<AddItemParams>): Promise<CartDto> {
					const userId = callerId(ctx);
					const { productId, quantity } = ctx.params;
					await this.purchasable(ctx, productId);
					const existing = await this.repo.line(userId, productId);
					if (!existing && (await this.repo.countLines(userId)) >= this.settings.maxLines) {
						throw new InvalidInputError([
							{ field: "productId", message: `A cart holds at most ${this.settings.maxLines} different products.`, type: "cartFull" }
						]);
					}
					await this.checkStock(ctx, productId, (existing?.quantity ?? 0) + quantity);
					const updated = await this.repo.increment(userId, productId, quantity, max);
					if (updated === undefined) {
						throw new InvalidInputError([{ field: "quantity", message: `A cart line holds at most ${max} units.`, type: "numberMax" }]);
					}
					return this.view(ctx, userId);
				}
			},

			/** Sets a line's quantity; 0 removes it. Throws NOT_FOUND (404), VALIDATION_ERROR (422), INSUFFICIENT_STOCK (409). */
			setQuantity: {
				rest: "PATCH /cart/items/:productId",
				summary: "Set a line's quantity (0 removes it)",
				responses: { 200: { description: "Your cart as it is now", schema: CART } },
				errors: { 404: ["NOT_FOUND"], 409: ["INSUFFICIENT_STOCK"] },
				visibility: "published",
				auth: "required",
				params: {
					$$strict: "remove",
					productId: uuidParam,
					quantity: { type: "number", integer: true, min: 0, max }
				},
				async handler(this: CartThis, ctx: Ctx<SetQuantityParams>): Promise<CartDto> {
					const userId = callerId(ctx);
					const { productId, quantity } = ctx.params;
					if (!(await this.repo.line(userId, productId))) throw new NotFoundError("Cart line", productId);
					if (quantity === 0) {
						await this.repo.remove(userId, productId);
					} else {
						await this.purchasable(ctx, productId);
						await this.checkStock(ctx, productId, quantity);
						if (!(await this.repo.setQuantity(userId, productId, quantity))) throw new NotFoundError("Cart line", productId);
					}
					return this.view(ctx, userId);
				}
			},

			/** Removes a line (nothing to do when it is not there). */
			removeItem: {
				rest: "DELETE /cart/items/:productId",
				summary: "Remove a line from your cart",
				responses: { 200: { description: "Your cart as it is now", schema: CART } },
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", productId: uuidParam },
				async handler(this: CartThis, ctx: Ctx<ProductRef>): Promise<CartDto> {
					const userId = callerId(ctx);
					await this.repo.remove(userId, ctx.params.productId);
					return this.view(ctx, userId);
				}
			},

			/** Empties the caller's cart. */
			clear: {
				rest: "DELETE /cart",
				summary: "Empty your cart",
				responses: { 200: { description: "Your cart, empty", schema: CART } },
				visibility: "published",
				auth: "required",
				async handler(this: CartThis, ctx: Ctx<Record<string, never>>): Promise<CartDto> {
					const userId = callerId(ctx);
					await this.repo.clear(userId);
					return this.view(ctx, userId);
				}
			},

			/** A user's cart, for other services (the order snapshots it at checkout). */
			getForUser: {
				visibility: "public",
				params: { userId: uuidParam },
				handler(this: CartThis, ctx: Ctx<UserRef>): Promise<CartDto> {
					return this.view(ctx, ctx.params.userId);
				}
			},

			/**
			 * Takes a placed order's lines out of a user's cart, once per order (a repeat changes nothing);
			 * what the shopper added after the snapshot stays. For the order service.
			 */
			removeOrdered: {
				visibility: "public",
				params: {
					$$strict: "remove",
					userId: uuidParam,
					orderId: uuidParam,
					items: {
						type: "array",
						min: 1,
						max: 1000,
						items: { type: "object", strict: "remove", props: { productId: uuidParam, quantity: { type: "number", integer: true, min: 1 } } }
					}
				},
				async handler(this: CartThis, ctx: Ctx<RemoveOrderedParams>): Promise<{ removed: boolean }> {
					const { userId, orderId, items } = ctx.params;
					return { removed: await this.repo.removeOrdered(userId, orderId, items) };
				}
			},

			/** Empties a user's cart, for other services. */
			clearForUser: {
				visibility: "public",
				params: { userId: uuidParam },
				async handler(this: CartThis, ctx: Ctx<UserRef>): Promise<void> {
					await this.repo.clear(ctx.params.userId);
				}
			}
		},

		events: {
			/** An archived product can no longer be bought: drop it from every cart. */
			"catalog.productArchived": {
				group: "cart",
				async handler(this: CartThis, ctx: Context<ProductArchivedEvent>) {
					const removed = await this.repo.removeProductEverywhere(ctx.params.productId);
					if (removed > 0) this.logger.info(`Removed archived product ${ctx.params.sku} from ${removed} cart(s)`);
				}
			}
		},

		methods: {
			async view(this: CartThis, ctx: Context, userId: string): Promise<CartDto> {
				const lines = await this.repo.lines(userId);
				if (lines.length === 0) return { items: [], totalCents: 0, currency: this.settings.currency };
				const ids = lines.map(l => l.productId);
				const [products, levels] = await Promise.all([
					ctx.call<ProductDto[], GetManyProductsParams>("catalog.getMany", { ids }),
					ctx.call<StockLevel[], { productIds: string[] }>("inventory.getMany", { productIds: ids })
				]);
				return buildCartView(lines, products, levels, this.settings.currency);
			},

			async purchasable(this: CartThis, ctx: Context, productId: string): Promise<ProductDto> {
				return ctx.call<ProductDto, GetProductParams>("catalog.get", { id: productId });
			},

			async checkStock(this: CartThis, ctx: Context, productId: string, quantity: number): Promise<void> {
				const [level] = await ctx.call<StockLevel[], { productIds: string[] }>("inventory.getMany", { productIds: [productId] });
				const available = level?.available ?? 0;
				if (quantity > available) throw new CartStockError(productId, quantity, available);
			}
		},

		started(this: CartThis) {
			this.repo = new CartRepository(this.db);
		}
	};
}
