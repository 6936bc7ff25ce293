import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { AppConfig } from "../../lib/config";
import { InvalidInputError, UnauthenticatedError } from "../../lib/errors";
import { centsParam, pageOf, pageParams, uuidParam } from "../../lib/params";
import { DbMixin, type DbThis } from "../../mixins/db.mixin";
import type { CallerMeta } from "../identity/identity.types";
import { PaymentNotFoundError, PaymentNotRefundableError, PaymentProviderUnavailableError } from "./payment.errors";
import { paymentMigrations } from "./payment.migrations";
import { ProviderUnavailableError, createProvider, type PaymentProvider } from "./payment.provider";
import { PaymentRepository, publicPayment, type StoredPayment } from "./payment.repository";
import { chargeKey, decideCharge, decideRefund, factOf, refundKey, resultOf } from "./payment.rules";
import type { ChargeParams, ListPaymentsParams, PaymentPage, PaymentResult, RefundParams } from "./payment.types";

interface PaymentSettings extends ServiceSettingSchema {
	rest: string;
}

interface PaymentVars extends DbThis {
	repo: PaymentRepository;
	provider: PaymentProvider;
}

interface PaymentMethods {
	/** Calls the provider, turning its transient faults into PAYMENT_PROVIDER_UNAVAILABLE (retryable, 503). */
	atProvider<T>(operation: "charge" | "refund", orderId: string, fn: () => Promise<T>): Promise<T>;
	announce(ctx: Context, payment: StoredPayment): void;
}

type PaymentThis = Service<PaymentSettings> & PaymentVars & PaymentMethods;
type Ctx<P> = Context<P, CallerMeta>;

const MAX_TOKEN_LENGTH = 255;

/**
 * The card token is checked here rather than by the validator, whose errors carry the value they
 * rejected: a token must never travel in an error, and errors get logged.
 */
function checkToken(token: unknown): asserts token is string {
	if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
		throw new InvalidInputError([{ field: "paymentToken", message: `The 'paymentToken' field must be a card token of 1 to ${MAX_TOKEN_LENGTH} characters.`, type: "string" }]);
	}
}

/**
 * Charges orders through a `PaymentProvider` (the configured one unless the caller passes its own, as
 * tests do) and keeps one payment record per order.
 */
export function createPaymentService(config: AppConfig, provider?: PaymentProvider): ServiceSchema<PaymentSettings, PaymentMethods, PaymentVars> {
	return {
		name: "payment",
		mixins: [DbMixin({ service: "payment", config: config.database, migrations: paymentMigrations })],
		settings: { rest: "/" },

		actions: {
			/**
			 * Charges an order once. Idempotent per orderId: an order with a payment record answers it without
			 * asking the provider again. A decline is an answer (status DECLINED, declineCode), not an error.
			 * Throws PAYMENT_PROVIDER_UNAVAILABLE (503, retryable; nothing recorded), VALIDATION_ERROR (422).
			 */
			charge: {
				visibility: "public",
				params: {
					$$strict: "remove",
					orderId: uuidParam,
					userId: uuidParam,
					amountCents: { ...centsParam, min: 1 },
					currency: { type: "string", pattern: /^[A-Z]{3}$/ },
					paymentToken: { type: "any" }
				},
				async handler(this: PaymentThis, ctx: Ctx<ChargeParams>): Promise<PaymentResult> {
					const { orderId, userId, amountCents, currency, paymentToken } = ctx.params;
					checkToken(paymentToken);
					const existing = await this.repo.byOrder(orderId);
					if (decideCharge(existing) === "answer-stored") return resultOf(existing!);

					// Concurrent first charges of one order all reach the provider: its idempotency key makes
					// them one charge, and the unique order_id makes them one record.
					const outcome = await this.atProvider("charge", orderId, () =>
						this.provider.charge({ idempotencyKey: chargeKey(orderId), amountCents, currency, token: paymentToken, description: `Order ${orderId}` })
					);
					const inserted = await this.repo.insert({
						orderId,
						userId,
						amountCents,
						currency,
						status: outcome.status,
						declineCode: outcome.status === "DECLINED" ? (outcome.declineCode ?? "declined") : null,
						providerRef: outcome.providerRef
					});
					if (!inserted) return resultOf((await this.repo.byOrder(orderId))!);
					this.logger.info(`Payment for order ${orderId}: ${inserted.status}${inserted.declineCode ? ` (${inserted.declineCode})` : ""}`);
					this.announce(ctx, inserted);
					return resultOf(inserted);
				}
			},

			/**
			 * Refunds an order's charge in full, once; a repeat answers the refunded payment. Throws
			 * PAYMENT_NOT_FOUND (404), PAYMENT_NOT_REFUNDABLE (409, a declined charge),
			 * PAYMENT_PROVIDER_UNAVAILABLE (503, retryable; nothing changed).
			 */
			refund: {
				visibility: "public",
				params: { $$strict: "remove", orderId: uuidParam },
				async handler(this: PaymentThis, ctx: Ctx<RefundParams>): Promise<PaymentResult> {
					const { orderId } = ctx.params;
					const existing = await this.repo.byOrder(orderId);
					switch (decideRefund(existing)) {
						case "not-found":
							throw new PaymentNotFoundError(orderId);
						case "not-refundable":
							throw new PaymentNotRefundableError(orderId, existing!.status);
						case "unchanged":
							return resultOf(existing!);
						case "refund":
							break;
					}
					const payment = existing!;
					const { refundRef } = await this.atProvider("refund", orderId, () =>
						this.provider.refund({ idempotencyKey: refundKey(orderId), providerRef: payment.providerRef, amountCents: payment.amountCents })
					);
					const refunded = await this.repo.markRefunded(orderId, refundRef);
					if (!refunded) return resultOf((await this.repo.byOrder(orderId))!);
					this.logger.info(`Payment for order ${orderId}: REFUNDED`);
					this.announce(ctx, refunded);
					return resultOf(refunded);
				}
			},

			/** The caller's payment records, newest first (admins see everyone's). Throws VALIDATION_ERROR (422). */
			list: {
				rest: "GET /payments",
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", orderId: { ...uuidParam, optional: true }, ...pageParams },
				async handler(this: PaymentThis, ctx: Ctx<ListPaymentsParams>): Promise<PaymentPage> {
					const user = ctx.meta.user;
					if (!user) throw new UnauthenticatedError();
					const { page, pageSize, offset } = pageOf(ctx.params);
					const userId = user.roles.includes("admin") ? undefined : user.id;
					const { items, total } = await this.repo.list({ userId, orderId: ctx.params.orderId }, pageSize, offset);
					return { items: items.map(publicPayment), total, page, pageSize };
				}
			}
		},

		methods: {
			async atProvider<T>(this: PaymentThis, operation: "charge" | "refund", orderId: string, fn: () => Promise<T>): Promise<T> {
				try {
					return await fn();
				} catch (err) {
					if (err instanceof ProviderUnavailableError) {
						this.logger.warn(`Payment provider unavailable for the ${operation} of order ${orderId}: ${err.message}`);
						throw new PaymentProviderUnavailableError(operation, orderId);
					}
					throw err;
				}
			},

			/**
			 * The saga's hook: announces a newly recorded payment state, once, by the call that recorded it.
			 * Emitted after the write; when the outbox lands this becomes an outbox row in the same transaction.
			 */
			announce(this: PaymentThis, ctx: Context, payment: StoredPayment): void {
				const fact = factOf(payment);
				ctx.emit(fact.event, fact.payload);
			}
		},

		created(this: PaymentThis) {
			this.provider = provider ?? createProvider(config.payment);
			if (!provider && config.env === "production" && config.payment.provider === "simulated") {
				this.logger.warn("Payments go through the simulated provider: no real money is charged");
			}
		},

		started(this: PaymentThis) {
			this.repo = new PaymentRepository(this.db);
		}
	};
}
