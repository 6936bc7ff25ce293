import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { Transaction } from "sequelize";
import "../identity/identity.access";
import type { AppConfig } from "../../app/config";
import { ForbiddenError, InvalidInputError } from "../../lib/errors";
import { Pump } from "../../lib/pump";
import { component, pageComponent } from "../../lib/openapi";
import { centsParam, pageOf, pageParams, uuidParam } from "../../lib/params";
import { subscriptions, type EventRoutes } from "../../lib/events";
import type { DbThis } from "../../lib/mixins/db.mixin";
import { ReliableEventsMixin } from "../../lib/mixins/reliable-events.mixin";
import { defineMetrics, type MetricDef } from "../../lib/metrics";
import { whenCommitted } from "../../lib/database";

/** Notifications by channel (email, sms) and what became of them (sent, retrying, failed, skipped). */
const NOTIFICATION_METRICS = {
	notifications: {
		type: "counter",
		name: "momentum_notifications_total",
		description: "Notification outcomes, by channel and status (sent, retrying, failed, skipped)",
		labelNames: ["channel", "status"]
	}
} satisfies Record<string, MetricDef>;
import { callerOf, holds, type CallerMeta } from "../identity/identity.types";
import { identityEvents } from "../identity/identity.events";
import { orderEvents } from "../order/order.events";
import { createMailer, createSmsSender, describeSmtpUrl, type Mailer, type SmsSender, type TwilioHttpClient } from "./notification.channels";
import { notificationMigrations } from "./notification.migrations";
import {
	orderCancelledNotice,
	orderConfirmedNotice,
	paymentRefundedNotice,
	resetPasswordNotice,
	verifyEmailNotice,
	welcomeNotice
} from "./notification.notices";
import { NotificationRepository, publicNotification, type NewNotification, type StoredNotification } from "./notification.repository";
import { afterAttempt, emailSkipReason, missingTemplateFields, recordKey, smsSkipReason } from "./notification.rules";
import { LINK_TOKEN_MASK, render, reveal } from "./notification.templates";
import {
	CANCELLABLE_ORDER_STATUSES,
	TEMPLATES,
	type ListNotificationsParams,
	type NotificationPage,
	type RetryResult,
	type SendParams,
	type SendResult
} from "./notification.types";

interface NotificationSettings extends ServiceSettingSchema {
	rest: string;
	maxAttempts: number;
	retryBaseSeconds: number;
	retryIntervalSeconds: number;
	/** Where the links in account mails point (PUBLIC_URL). */
	publicUrl: string;
}

interface NotificationVars extends DbThis {
	repo: NotificationRepository;
	/** Undefined in production without SMTP_URL: e-mail notifications are then SKIPPED. */
	mailer?: Mailer;
	/** Undefined when SMS is not configured: SMS notifications are then SKIPPED. */
	sms?: SmsSender;
	/** Delivers what is due again, every NOTIFICATION_RETRY_INTERVAL; one pass at a time, awaited on stop. */
	retry?: Pump;
}

interface NotificationMethods {
	/** Delivers one PENDING notification now, unless another delivery holds it. */
	deliver(id: string): Promise<void>;
	/** One attempt on a claimed notification; records the outcome in the claiming transaction. */
	attempt(n: StoredNotification, transaction: Transaction): Promise<StoredNotification>;
}

type NotificationThis = Service<NotificationSettings> & NotificationVars & NotificationMethods;
type Ctx<P> = Context<P, CallerMeta>;

/** Sends a notice through `notification.send`, which records it (deduplicated) and delivers it. */
async function sendNotice(svc: NotificationThis, notice: SendParams): Promise<void> {
	await svc.broker.call<SendResult, SendParams>("notification.send", notice);
}

/**
 * What the customer is told, and when: account mails from identity, the outcome of their orders from the
 * checkout saga. Each is sent once per event (reliable events: retried, deduplicated, dead-lettered). A
 * failed delivery stays PENDING for the retry pass: it is not the handler's failure.
 */
export const notificationSubscriptions = subscriptions<NotificationThis>("notification")
	.on(identityEvents, {
		/** The link that verifies an address goes to that address, and nowhere else. */
		async "identity.emailVerificationRequested"(event) {
			await sendNotice(this, verifyEmailNotice(event.data, this.settings.publicUrl));
		},
		async "identity.passwordResetRequested"(event) {
			await sendNotice(this, resetPasswordNotice(event.data, this.settings.publicUrl));
		},
		/** A verified address gets the welcome, once per account. */
		async "identity.emailVerified"(event) {
			await sendNotice(this, welcomeNotice(event.data));
		}
	})
	.on(orderEvents, {
		/**
		 * `send` records in its own transaction so delivery can follow at once; a retry after a crash
		 * between the two commits finds the dedupe key taken and sends nothing.
		 */
		async "order.confirmed"(event) {
			await sendNotice(this, orderConfirmedNotice(event.data));
		},
		/** With the reason and what happened to the payment. */
		async "order.cancelled"(event) {
			await sendNotice(this, orderCancelledNotice(event.data));
		},
		/** The refund has happened (payment said so): now the customer may be told. */
		async "order.refunded"(event) {
			await sendNotice(this, paymentRefundedNotice(event.data));
		}
	});

/** A notification as the API answers it (NotificationDto), for the API reference. */
const NOTIFICATION_PAGE = pageComponent(
	"NotificationPage",
	component("Notification", {
		type: "object",
		required: ["id", "channel", "template", "recipient", "subject", "status", "attempts", "lastError", "createdAt", "sentAt"],
		properties: {
			id: { type: "string", format: "uuid" },
			channel: { enum: ["email", "sms"] },
			template: { type: "string" },
			recipient: { type: ["string", "null"], description: "E-mail address or phone number; null for an SMS skipped for want of a phone." },
			subject: { type: ["string", "null"] },
			status: { type: "string" },
			attempts: { type: "integer", minimum: 0 },
			lastError: { type: ["string", "null"] },
			createdAt: { type: "string", format: "date-time" },
			sentAt: { type: ["string", "null"], format: "date-time" }
		}
	})
);

/** How many due notifications one retry transaction claims. */
const RETRY_BATCH = 20;

/** Replacements for the outside world, for tests: the twilio client's HTTP layer. */
export interface NotificationDeps {
	twilioHttpClient?: TwilioHttpClient;
}

const E164 = /^\+[1-9]\d{6,14}$/;

const dataParam = {
	type: "object",
	strict: "remove",
	props: {
		// each template needs some of these (notification.rules.ts missingTemplateFields)
		name: { type: "string", trim: true, min: 1, max: 100, optional: true },
		orderId: { type: "string", min: 1, max: 100, optional: true },
		items: {
			type: "array",
			optional: true,
			max: 100,
			items: {
				type: "object",
				strict: "remove",
				props: {
					name: { type: "string", min: 1, max: 200 },
					quantity: { type: "number", integer: true, min: 1, max: 1_000_000 },
					lineTotalCents: centsParam
				}
			}
		},
		totalCents: { ...centsParam, optional: true },
		currency: { type: "string", pattern: /^[A-Z]{3}$/, optional: true },
		cancelReason: { type: "string", min: 1, max: 100, optional: true },
		previousStatus: { type: "enum", values: CANCELLABLE_ORDER_STATUSES, optional: true },
		url: { type: "url", max: 500, optional: true },
		linkToken: { type: "string", min: 16, max: 200, pattern: /^[A-Za-z0-9_-]+$/, optional: true },
		expiresAt: { type: "string", pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, optional: true }
	}
} as const;

function errorText(err: unknown): string {
	const message = err instanceof Error ? err.message : String(err);
	return message || "Unknown delivery error";
}

export function createNotificationService(
	config: AppConfig,
	routes: EventRoutes,
	deps: NotificationDeps = {}
): ServiceSchema<NotificationSettings, NotificationMethods, NotificationVars> {
	const c = config.notification;
	return {
		name: "notification",
		mixins: [
			ReliableEventsMixin({
				service: "notification",
				config: config.events,
				database: config.database,
				migrations: notificationMigrations,
				subscriptions: notificationSubscriptions,
				routes
			})
		],
		settings: {
			rest: "/",
			publicUrl: c.publicUrl,
			maxAttempts: c.maxAttempts,
			retryBaseSeconds: c.retryBaseSeconds,
			retryIntervalSeconds: c.retryIntervalSeconds
		},

		actions: {
			/**
			 * Tells a user something by e-mail and by SMS (SKIPPED without a phone or SMS config; none at all for
			 * templates that go by e-mail only), recording each and delivering at once; a failed delivery is retried
			 * later. Idempotent by `dedupeKey`: a repeat creates and sends nothing. A link's token is kept apart from
			 * the stored text (which shows it masked) and forgotten once the message is SENT or FAILED.
			 * Throws VALIDATION_ERROR (422).
			 */
			send: {
				visibility: "public",
				params: {
					$$strict: "remove",
					userId: uuidParam,
					template: { type: "enum", values: TEMPLATES },
					data: dataParam,
					email: { type: "email", max: 254 },
					phone: { type: "string", pattern: E164, optional: true, nullable: true },
					dedupeKey: { type: "string", min: 1, max: 200 }
				},
				async handler(this: NotificationThis, ctx: Ctx<SendParams>): Promise<SendResult> {
					const { userId, template, data, email, phone, dedupeKey } = ctx.params;
					const missing = missingTemplateFields(template, data);
					if (missing.length > 0) {
						throw new InvalidInputError(
							missing.map(field => ({ field: `data.${field}`, message: `The '${template}' template needs 'data.${field}'.`, type: "required" }))
						);
					}
					// a link's token is not rendered into what is stored: the text keeps a mask, the token waits apart
					const secret = "linkToken" in data ? data.linkToken : undefined;
					const content = secret ? render(template, { ...data, linkToken: LINK_TOKEN_MASK } as typeof data) : render(template, data);
					const emailSkip = emailSkipReason(this.mailer !== undefined);
					const smsSkip = smsSkipReason(phone, this.sms !== undefined);
					const records: NewNotification[] = [
						{
							userId,
							channel: "email",
							template,
							recipient: email,
							subject: content.email.subject,
							body: content.email.text,
							html: content.email.html,
							status: emailSkip ? "SKIPPED" : "PENDING",
							skipReason: emailSkip,
							// kept only for a message still to be sent
							secret: emailSkip ? null : (secret ?? null),
							dedupeKey: recordKey(dedupeKey, "email")
						}
					];
					if (content.sms) {
						records.push({
							userId,
							channel: "sms",
							template,
							recipient: phone ?? null,
							subject: null,
							body: content.sms.body,
							html: null,
							status: smsSkip ? "SKIPPED" : "PENDING",
							skipReason: smsSkip,
							secret: null,
							dedupeKey: recordKey(dedupeKey, "sms")
						});
					}
					const created = await this.db.transaction(t => this.repo.insertNew(records, t));
					if (created.length === 0) {
						const existing = await this.repo.byDedupeKeys(records.map(r => r.dedupeKey));
						return { created: false, notifications: existing.map(publicNotification) };
					}
					const counted = defineMetrics(this.broker, NOTIFICATION_METRICS).notifications;
					for (const n of created) if (n.status === "SKIPPED") counted.inc({ channel: n.channel, status: "skipped" });
					await Promise.all(created.filter(n => n.status === "PENDING").map(n => this.deliver(n.id)));
					const current = await this.repo.byIds(created.map(n => n.id));
					return { created: true, notifications: current.map(publicNotification) };
				}
			},

			/**
			 * Attempts every PENDING notification whose retry is due, each at most once per pass; answers the
			 * counts. Run by a timer; callable from tests and the REPL.
			 */
			retryDue: {
				visibility: "public",
				async handler(this: NotificationThis): Promise<RetryResult> {
					const result: RetryResult = { attempted: 0, sent: 0, failed: 0 };
					const seen: string[] = [];
					for (;;) {
						const batch = await this.db.transaction(async t => {
							const due = await this.repo.claimDue(RETRY_BATCH, seen, t);
							const done: StoredNotification[] = [];
							// one at a time: each holds only its own row lock, and SMTP servers prefer it
							for (const n of due) done.push(await this.attempt(n, t));
							return done;
						});
						for (const n of batch) {
							seen.push(n.id);
							result.attempted++;
							if (n.status === "SENT") result.sent++;
							if (n.status === "FAILED") result.failed++;
						}
						if (batch.length < RETRY_BATCH) break;
					}
					if (result.attempted > 0)
						this.logger.info(`Retried ${result.attempted} notification(s): ${result.sent} sent, ${result.failed} failed for good`);
					return result;
				}
			},

			/**
			 * The caller's own notifications, newest first; with `notification.view`, everyone's (or one user's:
			 * `userId`). Throws UNAUTHENTICATED (401), FORBIDDEN (403: `userId` without the permission), VALIDATION_ERROR (422).
			 */
			list: {
				rest: "GET /notifications",
				responses: { 200: { description: "A page of notifications, newest first", schema: NOTIFICATION_PAGE } },
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", userId: { type: "uuid", optional: true }, ...pageParams },
				async handler(this: NotificationThis, ctx: Ctx<ListNotificationsParams>): Promise<NotificationPage> {
					const user = callerOf(ctx);
					const everyone = holds(user, "notification.view");
					if (ctx.params.userId && !everyone && ctx.params.userId !== user.id)
						throw new ForbiddenError("This needs the notification.view permission", { permission: "notification.view" });
					const { page, pageSize, offset } = pageOf(ctx.params);
					const { items, total } = await this.repo.listForUser(everyone ? ctx.params.userId : user.id, pageSize, offset);
					return { items: items.map(publicNotification), total, page, pageSize };
				}
			}
		},

		methods: {
			async deliver(this: NotificationThis, id: string): Promise<void> {
				await this.db.transaction(async t => {
					const n = await this.repo.claim(id, t);
					if (n) await this.attempt(n, t);
				});
			},

			async attempt(this: NotificationThis, n: StoredNotification, t: Transaction): Promise<StoredNotification> {
				let error: string | undefined;
				try {
					if (n.channel === "email") {
						if (!this.mailer) throw new Error("E-mail is not configured any more (SMTP_URL)");
						// a link's token goes back into the text only now, on its way out
						const text = reveal(n.body, n.secret);
						const html = n.html ? reveal(n.html, n.secret) : text;
						await this.mailer.send({ to: n.recipient!, subject: n.subject ?? "", text, html, secrets: n.secret ? [n.secret] : [] });
					} else {
						if (!this.sms) throw new Error("SMS is not configured any more");
						await this.sms.send({ to: n.recipient!, body: n.body });
					}
				} catch (err) {
					error = errorText(err);
				}
				const outcome = afterAttempt(n.attempts, error, this.settings);
				if (outcome.status === "FAILED") {
					this.logger.error(`Notification ${n.id} (${n.channel} ${n.template}) failed after ${outcome.attempts} attempt(s): ${outcome.error}`);
				} else if (outcome.status === "PENDING") {
					this.logger.warn(
						`Notification ${n.id} (${n.channel} ${n.template}) attempt ${outcome.attempts} failed, retrying in ${outcome.retryInSeconds}s: ${outcome.error}`
					);
				}
				const status = outcome.status === "PENDING" ? "retrying" : outcome.status.toLowerCase();
				whenCommitted(t, () => defineMetrics(this.broker, NOTIFICATION_METRICS).notifications.inc({ channel: n.channel, status }));
				return this.repo.recordAttempt(n.id, outcome, t);
			}
		},

		async started(this: NotificationThis) {
			this.repo = new NotificationRepository(this.db);
			// outside production a missing SMTP_URL means "show me": the message goes to the log instead
			const mailOff = !c.smtpUrl && config.env === "production";
			this.mailer = mailOff ? undefined : createMailer(c, msg => this.logger.info(msg));
			this.sms = c.twilio && createSmsSender(c.twilio, deps.twilioHttpClient);
			const mail = c.smtpUrl
				? `through ${describeSmtpUrl(c.smtpUrl)}`
				: mailOff
					? "OFF: SMTP_URL is unset, e-mails are SKIPPED"
					: "to the log (SMTP_URL is unset)";
			(mailOff ? this.logger.warn : this.logger.info).call(this.logger, `E-mail ${mail}; SMS ${c.twilio ? "through Twilio" : "off (TWILIO_* unset)"}`);
			this.retry = new Pump(
				() => this.actions.retryDue({}) as Promise<RetryResult>,
				this.settings.retryIntervalSeconds * 1000,
				err => this.logger.error("Notification retry pass failed; will try again:", err)
			);
			this.retry.start();
		},

		async stopped(this: NotificationThis) {
			await this.retry?.stop();
			this.mailer?.close();
		}
	};
}
