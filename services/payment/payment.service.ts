import { defineMetrics, type MetricDef, type MetricHandle } from "../../lib/metrics";
import { whenCommitted } from "../../lib/database";
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { Transaction } from "sequelize";
import type { AppConfig } from "../../app/config";
import { InvalidInputError } from "../../lib/errors";
import { subscriptions, type EventRoutes } from "../../lib/events";
import { pageOf, pageParams, uuidParam } from "../../lib/params";
import type { DbThis } from "../../lib/mixins/db.mixin";
import { ReliableEventsMixin, type ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import { callerOf, holds, type CallerMeta } from "../identity/identity.types";
import { orderEvents } from "../order/order.events";
import { paymentEvents } from "./payment.events";
import { PaymentProviderUnavailableError } from "./payment.errors";
import { paymentMigrations } from "./payment.migrations";
import { ProviderUnavailableError, createProvider, type PaymentProvider } from "./payment.provider";
import { PgSimulatedLedger } from "./payment.simulated-ledger";
import { PaymentRepository, publicPayment, type StoredPayment } from "./payment.repository";
import {
	chargeKey,
	decideCancellation,
	decideCharge,
	factOf,
	reannouncementOf,
	refundKey,
	tokenProblem,
	type PaymentFact,
	type PaymentRequest
} from "./payment.rules";
import type { ListPaymentsParams, PaymentEvents, PaymentPage } from "./payment.types";
import { PAYMENT_PAGE } from "./payment.openapi";

interface PaymentSettings extends ServiceSettingSchema {
	rest: string;
}

/** Payments recorded, by outcome (lib/metrics.ts). */
const PAYMENT_METRICS = {
	payments: {
		type: "counter",
		name: "momentum_payments_total",
		description: "Payments recorded, by outcome (succeeded, declined, refunded)",
		labelNames: ["outcome"]
	}
} satisfies Record<string, MetricDef>;

interface PaymentVars extends DbThis, ReliableEventsThis<PaymentEvents> {
	metrics: Record<keyof typeof PAYMENT_METRICS, MetricHandle>;
	repo: PaymentRepository;
	provider: PaymentProvider;
}

/** What one charge attempt came to: the order was voided, it already had a payment, or it has one now. */
type ChargeAttempt = { kind: "voided" } | { kind: "stored"; payment: StoredPayment } | { kind: "recorded"; payment: StoredPayment };

interface PaymentMethods {
	/** Calls the provider, turning its transient faults into PAYMENT_PROVIDER_UNAVAILABLE (retryable, 503). */
	atProvider<T>(operation: "charge" | "refund", orderId: string, fn: () => Promise<T>): Promise<T>;
	/** The one charge of an order, in `t`: `order.paymentRequested` comes here. */
	chargeOrder(request: PaymentRequest, t: Transaction): Promise<ChargeAttempt>;
	/** Gives a SUCCEEDED payment back, in `t` (the order's lock held): `order.cancelled` comes here. */
	refundPayment(payment: StoredPayment, t: Transaction): Promise<StoredPayment>;
	/** Writes a payment fact to the outbox in `t`: it is published if and only if `t` commits. */
	announce(fact: PaymentFact, t: Transaction): Promise<void>;
}

type PaymentThis = Service<PaymentSettings> & PaymentVars & PaymentMethods;
type Ctx<P> = Context<P, CallerMeta>;

/** Payment's part of the checkout saga: it charges on `order.paymentRequested`, refunds or voids on `order.cancelled`. */
export const paymentSubscriptions = subscriptions<PaymentThis>("payment").on(orderEvents, {
	/**
	 * Charges the order once and announces the outcome; asked again (the order's watchdog, under a new
	 * event id), it announces the stored outcome again. A voided order is not charged. A decline is
	 * announced as `payment.failed`; a provider outage throws, so the inbox retries.
	 */
	async "order.paymentRequested"(event, t) {
		const request = event.data;
		const attempt = await this.chargeOrder(request, t);
		if (attempt.kind === "voided") {
			this.logger.info(`Payment for order ${request.orderId}: not charged, the order was cancelled first`);
		} else if (attempt.kind === "stored") {
			const fact = reannouncementOf(attempt.payment);
			if (fact) await this.announce(fact, t);
		}
		// the token has done its job (or was never needed): this store does not keep it
		await this.inbox.scrub(event.correlationId, t);
	},

	/**
	 * Refunds a charge that went through and announces `payment.refunded`; voids an order not charged
	 * yet, so a payment request arriving later charges nothing. A provider outage throws, so the inbox
	 * retries the refund.
	 */
	async "order.cancelled"(event, t) {
		const { orderId, reason } = event.data;
		await this.repo.lockOrder(orderId, t);
		const existing = await this.repo.byOrder(orderId, t);
		switch (decideCancellation(existing)) {
			case "refund":
				await this.refundPayment(existing!, t);
				return;
			case "void":
				if (await this.repo.markVoided(orderId, reason, t)) this.logger.info(`Payment for order ${orderId}: voided before any charge (${reason})`);
				return;
			case "nothing":
				return;
		}
	}
});

/**
 * Charges orders through a `PaymentProvider` (the configured one unless the caller passes its own, as
 * tests do) and keeps one payment record per order. In the checkout saga it charges on
 * `order.paymentRequested` and refunds or voids on `order.cancelled`; every payment fact it announces is
 * written to its outbox in the transaction that records the payment.
 */
export function createPaymentService(
	config: AppConfig,
	routes: EventRoutes,
	provider?: PaymentProvider
): ServiceSchema<PaymentSettings, PaymentMethods, PaymentVars> {
	return {
		name: "payment",
		mixins: [
			ReliableEventsMixin({
				service: "payment",
				config: config.events,
				database: config.database,
				migrations: paymentMigrations,
				produces: paymentEvents,
				subscriptions: paymentSubscriptions,
				routes
			})
		],
		settings: { rest: "/" },

		actions: {
			/** The caller's payment records, newest first (with `payment.view`: everyone's). Throws VALIDATION_ERROR (422). */
			list: {
				rest: "GET /payments",
				summary: "List your payments (with payment.view: everyone's)",
				responses: { 200: { description: "A page of payment records, newest first", schema: PAYMENT_PAGE } },
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", orderId: { ...uuidParam, optional: true }, ...pageParams },
				async handler(this: PaymentThis, ctx: Ctx<ListPaymentsParams>): Promise<PaymentPage> {
					const user = callerOf(ctx);
					const { page, pageSize, offset } = pageOf(ctx.params);
					const userId = holds(user, "payment.view") ? undefined : user.id;
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

			async chargeOrder(this: PaymentThis, request: PaymentRequest, t: Transaction): Promise<ChargeAttempt> {
				const { orderId, userId, amountCents, currency, paymentToken } = request;
				// Concurrent charges of one order, and a cancellation racing them, take turns here: the first
				// charges, the others find its record (and a cancellation finds a charge to refund, not a void).
				await this.repo.lockOrder(orderId, t);
				const existing = await this.repo.byOrder(orderId, t);
				switch (decideCharge(existing, !existing && (await this.repo.isVoided(orderId, t)))) {
					case "answer-stored":
						return { kind: "stored", payment: existing! };
					case "voided":
						return { kind: "voided" };
					case "charge":
						break;
				}
				if (paymentToken === undefined) throw new InvalidInputError([tokenProblem(undefined)!]);

				// The provider's idempotency key keeps a retry after a lost answer (or a rolled-back record) to one charge.
				const outcome = await this.atProvider("charge", orderId, () =>
					this.provider.charge({ idempotencyKey: chargeKey(orderId), amountCents, currency, token: paymentToken, description: `Order ${orderId}` })
				);
				const inserted = await this.repo.insert(
					{
						orderId,
						userId,
						amountCents,
						currency,
						status: outcome.status,
						declineCode: outcome.status === "DECLINED" ? (outcome.declineCode ?? "declined") : null,
						providerRef: outcome.providerRef
					},
					t
				);
				if (!inserted) return { kind: "stored", payment: (await this.repo.byOrder(orderId, t))! };
				this.logger.info(`Payment for order ${orderId}: ${inserted.status}${inserted.declineCode ? ` (${inserted.declineCode})` : ""}`);
				whenCommitted(t, () => this.metrics.payments.inc({ outcome: inserted.status === "DECLINED" ? "declined" : "succeeded" }));
				await this.announce(factOf(inserted), t);
				return { kind: "recorded", payment: inserted };
			},

			async refundPayment(this: PaymentThis, payment: StoredPayment, t: Transaction): Promise<StoredPayment> {
				const { orderId } = payment;
				const { refundRef } = await this.atProvider("refund", orderId, () =>
					this.provider.refund({ idempotencyKey: refundKey(orderId), providerRef: payment.providerRef, amountCents: payment.amountCents })
				);
				const refunded = await this.repo.markRefunded(orderId, refundRef, t);
				if (!refunded) return (await this.repo.byOrder(orderId, t))!;
				this.logger.info(`Payment for order ${orderId}: REFUNDED`);
				whenCommitted(t, () => this.metrics.payments.inc({ outcome: "refunded" }));
				await this.announce(factOf(refunded), t);
				return refunded;
			},

			async announce(this: PaymentThis, fact: PaymentFact, t: Transaction): Promise<void> {
				await this.outbox.add(t, fact.event, fact.payload);
			}
		},

		created(this: PaymentThis) {
			if (!provider && config.env === "production" && config.payment.provider === "simulated") {
				this.logger.warn("Payments go through the simulated provider: no real money is charged");
			}
		},

		started(this: PaymentThis) {
			this.metrics = defineMetrics(this.broker, PAYMENT_METRICS);
			this.repo = new PaymentRepository(this.db);
			// the simulated network keeps its records where every payment instance finds them, as a real one does
			this.provider = provider ?? createProvider(config.payment, new PgSimulatedLedger(this.db));
		}
	};
}
