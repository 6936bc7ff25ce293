import crypto from "node:crypto";
import { EVENT_ROUTES } from "../../app/services";
import { expect } from "chai";
import type { Service, ServiceSchema } from "moleculer";
import twilio from "twilio";
import type { IncomingEnvelope } from "../../lib/events";
import type { ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import { createNotificationService } from "../../services/notification/notification.service";
import type { NotificationDto, NotificationPage, RetryResult } from "../../services/notification/notification.types";
import type { CancelReason, OrderCancelledEvent, OrderConfirmedEvent } from "../../services/order/order.types";
import { uniqueEmail } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp";

/**
 * The notification side of the checkout saga: `order.confirmed` and `order.cancelled` envelopes, as the
 * order service's relay hands them to the notification group, become an e-mail on a real SMTP server and
 * the SMS request the twilio library would send.
 */

const NBSP = "\u00a0";
const TWILIO = { TWILIO_ACCOUNT_SID: `AC${"0123456789abcdef".repeat(2)}`, TWILIO_AUTH_TOKEN: "test-auth-token", TWILIO_FROM: "+15005550006" };

interface TwilioRequest {
	url: string;
	form: URLSearchParams;
}

/** The real twilio RequestClient with its network replaced: it records what would have gone to Twilio. */
function recordingTwilioClient(requests: TwilioRequest[]): twilio.RequestClient {
	const client = new twilio.RequestClient();
	client.axios.defaults.adapter = async config => {
		requests.push({ url: String(config.url), form: new URLSearchParams(String(config.data)) });
		const data = { sid: "SM00000000000000000000000000000001", status: "queued" };
		return { status: 201, statusText: "201", data, headers: {}, config };
	};
	return client;
}

function envelope<T>(event: string, data: T, id: string = crypto.randomUUID()): IncomingEnvelope<T> {
	return { id, event, source: "order", occurredAt: new Date().toISOString(), data };
}

function confirmedOrder(phone: string | null = null): OrderConfirmedEvent {
	return {
		orderId: crypto.randomUUID(),
		userId: crypto.randomUUID(),
		customer: { email: uniqueEmail("buyer"), name: "Ana", phone },
		items: [
			{ productId: crypto.randomUUID(), sku: "MUG-ENAMEL", name: "Enamel mug", quantity: 2, unitPriceCents: 2990, lineTotalCents: 5980 },
			{ productId: crypto.randomUUID(), sku: "NOTEBOOK-A5", name: "Notebook", quantity: 1, unitPriceCents: 1250, lineTotalCents: 1250 }
		],
		totalCents: 7230,
		currency: "BRL"
	};
}

function cancelledOrder(order: OrderConfirmedEvent, reason: CancelReason, previousStatus: OrderCancelledEvent["previousStatus"]): OrderCancelledEvent {
	return { ...order, reason, previousStatus };
}

describe("notification in the checkout saga", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let smtp: TestSmtpServer;
	let shop: RunningShop;
	const twilioRequests: TwilioRequest[] = [];

	const notification = () => shop.broker.getLocalService("notification") as Service & ReliableEventsThis;
	const emit = <T>(e: IncomingEnvelope<T>) => shop.broker.emit(e.event, e, { groups: ["notification"] });
	/** Waits until the inbox is done with an envelope: HANDLED, or DEAD when its handler failed. */
	const settled = (e: IncomingEnvelope) =>
		eventually(async () => {
			const status = await notification().inbox.status(e.id);
			expect(status).to.be.oneOf(["HANDLED", "DEAD"]);
			return status;
		});
	/** Emits an envelope and waits until the inbox has handled it. */
	const deliver = async (e: IncomingEnvelope) => {
		await emit(e);
		expect(await settled(e), `${e.event} ${e.id} handled`).to.equal("HANDLED");
	};
	const recordsOf = async (userId: string): Promise<NotificationDto[]> =>
		(
			await shop.broker.call<NotificationPage, object>(
				"notification.list",
				{ pageSize: 100 },
				{ meta: { user: { id: userId, email: "x@example.com", role: "customer", permissions: [] } } }
			)
		).items;
	const smsTo = (phone: string) => twilioRequests.filter(r => r.form.get("To") === phone);

	before(async () => {
		db = await createTestDatabase();
		smtp = await startSmtpServer();
		// no service from SERVICES: the one notification service runs with twilio's HTTP layer replaced
		const config = testConfig(db, {
			SERVICES: "",
			SMTP_URL: smtp.url,
			NOTIFICATION_MAX_ATTEMPTS: "3",
			NOTIFICATION_RETRY_BASE: "0",
			NOTIFICATION_RETRY_INTERVAL: "3600", // the tests run the retry pass themselves
			EVENT_POLL_MS: "50",
			EVENT_MAX_ATTEMPTS: "1", // a handler that fails shows at once as a dead letter
			...TWILIO
		});
		const service = createNotificationService(config, EVENT_ROUTES, { twilioHttpClient: recordingTwilioClient(twilioRequests) });
		shop = await startShop(config, [service as unknown as ServiceSchema]);
	});
	after(async () => {
		await shop?.stop();
		await smtp?.stop();
		await db?.drop();
	});

	it("e-mails a confirmed order to its customer naming the order id, the items and the total", async () => {
		const order = confirmedOrder();
		await deliver(envelope("order.confirmed", order));

		const [mail, ...more] = smtp.to(order.customer.email);
		expect(mail, "an e-mail reached the SMTP server").to.exist;
		expect(more).to.have.length(0);
		expect(mail.subject).to.equal(`Your order ${order.orderId} is confirmed`);
		expect(mail.text).to.contain(`Hi Ana,`);
		expect(mail.text).to.contain(`2 x Enamel mug: R$${NBSP}59,80`);
		expect(mail.text).to.contain(`1 x Notebook: R$${NBSP}12,50`);
		expect(mail.text).to.contain(`Total: R$${NBSP}72,30`);
		expect(mail.html).to.contain(order.orderId);
		expect(mail.html).to.contain(`R$${NBSP}72,30`);
	});

	it("texts a customer who has a phone, as the twilio library would ask Twilio to", async () => {
		const phone = "+5511987650001";
		const order = confirmedOrder(phone);
		await deliver(envelope("order.confirmed", order));

		const [sms, ...more] = smsTo(phone);
		expect(sms, "an SMS request was made").to.exist;
		expect(more).to.have.length(0);
		expect(sms.url).to.equal(`https://api.twilio.com/2010-04-01/Accounts/${TWILIO.TWILIO_ACCOUNT_SID}/Messages.json`);
		expect(sms.form.get("From")).to.equal(TWILIO.TWILIO_FROM);
		expect(sms.form.get("Body")).to.equal(`Momentum: your order ${order.orderId} is confirmed. Total R$${NBSP}72,30.`);
		expect(smtp.to(order.customer.email)).to.have.length(1);
	});

	it("notifies once when the same envelope arrives twice", async () => {
		const phone = "+5511987650002";
		const order = confirmedOrder(phone);
		const e = envelope("order.confirmed", order);
		await emit(e);
		await emit(e);
		expect(await settled(e)).to.equal("HANDLED");

		expect(smtp.to(order.customer.email)).to.have.length(1);
		expect(smsTo(phone)).to.have.length(1);
		expect(await recordsOf(order.userId)).to.have.length(2);
	});

	it("notifies once when the same order's fact comes again under a new envelope id", async () => {
		const phone = "+5511987650003";
		const order = confirmedOrder(phone);
		await deliver(envelope("order.confirmed", order));
		await deliver(envelope("order.confirmed", order));

		const cancelled = cancelledOrder(order, "customer_request", "CONFIRMED");
		await deliver(envelope("order.cancelled", cancelled));
		await deliver(envelope("order.cancelled", cancelled));

		const mails = smtp.to(order.customer.email);
		expect(mails.map(m => m.subject)).to.deep.equal([`Your order ${order.orderId} is confirmed`, `Your order ${order.orderId} was cancelled`]);
		expect(smsTo(phone)).to.have.length(2);
		expect(await recordsOf(order.userId)).to.have.length(4);
	});

	it("tells the customer of an order cancelled after it was paid why, and that the payment was refunded", async () => {
		const phone = "+5511987650004";
		const order = confirmedOrder(phone);
		await deliver(envelope("order.cancelled", cancelledOrder(order, "customer_request", "CONFIRMED")));

		const [mail] = smtp.to(order.customer.email);
		expect(mail.subject).to.equal(`Your order ${order.orderId} was cancelled`);
		expect(mail.text).to.contain(`Your order ${order.orderId} was cancelled because you asked us to cancel it. Your payment will be refunded.`);
		expect(mail.text).to.contain(`Total: R$${NBSP}72,30`);
		expect(mail.html).to.contain("Your payment will be refunded.");
		expect(mail.text + mail.html).not.to.contain("not been charged");
		const [sms] = smsTo(phone);
		expect(sms.form.get("Body")).to.equal(
			`Momentum: your order ${order.orderId} was cancelled because you asked us to cancel it. Your payment will be refunded.`
		);
	});

	it("tells the customer of an order cancelled before payment that they were not charged", async () => {
		const order = confirmedOrder();
		await deliver(envelope("order.cancelled", cancelledOrder(order, "out_of_stock", "PENDING")));

		const [mail] = smtp.to(order.customer.email);
		expect(mail.text).to.contain(`Your order ${order.orderId} was cancelled because some items were out of stock. You have not been charged for it.`);
		expect(mail.html).to.contain("You have not been charged for it.");
		expect(mail.text + mail.html).not.to.contain("refunded");
	});

	it("promises a refund only if money was taken when an order is cancelled while its payment was under way", async () => {
		const order = confirmedOrder();
		await deliver(envelope("order.cancelled", cancelledOrder(order, "timeout", "STOCK_RESERVED")));

		const [mail] = smtp.to(order.customer.email);
		expect(mail.text).to.contain(`was cancelled because it could not be completed in time. If any payment was taken for it, it will be refunded.`);
	});

	it("records the SMS SKIPPED for a customer without a phone, and lists the records to the customer", async () => {
		const order = confirmedOrder();
		await deliver(envelope("order.confirmed", order));
		await deliver(envelope("order.cancelled", cancelledOrder(order, "payment_declined", "STOCK_RESERVED")));

		const records = await recordsOf(order.userId);
		expect(records.map(r => [r.template, r.channel, r.status])).to.deep.equal([
			["orderCancelled", "sms", "SKIPPED"],
			["orderCancelled", "email", "SENT"],
			["orderConfirmed", "sms", "SKIPPED"],
			["orderConfirmed", "email", "SENT"]
		]);
		for (const r of records.filter(r => r.channel === "email")) expect(r).to.include({ recipient: order.customer.email, attempts: 1 });
		for (const r of records.filter(r => r.channel === "sms")) {
			expect(r).to.include({ recipient: null, attempts: 0 });
			expect(r.lastError).to.match(/no phone/);
		}
		expect(smtp.to(order.customer.email).map(m => m.subject)).to.deep.equal([
			`Your order ${order.orderId} is confirmed`,
			`Your order ${order.orderId} was cancelled`
		]);
		expect(await recordsOf(crypto.randomUUID()), "another user sees none of them").to.deep.equal([]);
	});

	it("handles the event even when SMTP refuses the e-mail, and the retry pass delivers it later", async () => {
		const order = confirmedOrder();
		smtp.reject(order.customer.email, 1);
		await deliver(envelope("order.confirmed", order));
		expect(await shop.broker.call("notification.deadLetters")).to.deep.equal([]);

		const pending = (await recordsOf(order.userId)).find(r => r.channel === "email")!;
		expect(pending).to.include({ status: "PENDING", attempts: 1 });
		expect(pending.lastError).to.contain("Mailbox busy");
		expect(smtp.to(order.customer.email)).to.have.length(0);

		const retried = await shop.broker.call<RetryResult, object>("notification.retryDue", {});
		expect(retried.sent).to.be.at.least(1);
		expect((await recordsOf(order.userId)).find(r => r.channel === "email")).to.include({ status: "SENT", attempts: 2 });
		expect(smtp.to(order.customer.email)).to.have.length(1);
	});
});
