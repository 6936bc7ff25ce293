import crypto from "node:crypto";
import { EVENT_ROUTES } from "../../app/services";
import { expect } from "chai";
import type { ServiceSchema } from "moleculer";
import { Client } from "pg";
import twilio from "twilio";
import { createNotificationService } from "../../services/notification/notification.service";
import type { NotificationDto, NotificationPage, RetryResult, SendParams, SendResult } from "../../services/notification/notification.types";
import type { UserDto } from "../../services/identity/identity.types";
import { uniqueEmail } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp";
import { eventually } from "../support/eventually";

const NBSP = "\u00a0";
const TWILIO = { TWILIO_ACCOUNT_SID: `AC${"0123456789abcdef".repeat(2)}`, TWILIO_AUTH_TOKEN: "test-auth-token", TWILIO_FROM: "+15005550006" };

/** What the twilio library handed its HTTP layer: the real RequestClient, with its network replaced. */
interface TwilioRequest {
	method: string;
	url: string;
	authorization: string;
	contentType: string;
	form: URLSearchParams;
}

function recordingTwilioClient(requests: TwilioRequest[], answer: () => { status: number; data: object }): twilio.RequestClient {
	const client = new twilio.RequestClient();
	client.axios.defaults.adapter = async config => {
		const headers = config.headers as unknown as Record<string, string>;
		requests.push({
			method: String(config.method).toUpperCase(),
			url: String(config.url),
			authorization: headers.Authorization ?? headers.authorization,
			contentType: headers["Content-Type"] ?? headers["content-type"],
			form: new URLSearchParams(String(config.data))
		});
		const { status, data } = answer();
		return { status, statusText: String(status), data, headers: {}, config };
	};
	return client;
}

describe("notification service", () => {
	let db: TestDatabase;
	let smtp: TestSmtpServer;
	let shop: RunningShop;
	const twilioRequests: TwilioRequest[] = [];
	let twilioAnswer: () => { status: number; data: object } = () => ({ status: 201, data: { sid: "SM00000000000000000000000000000001", status: "queued" } });

	const send = (params: SendParams) => shop.broker.call<SendResult, SendParams>("notification.send", params);
	const retryDue = () => shop.broker.call<RetryResult, object>("notification.retryDue", {});
	const recordsOf = async (userId: string): Promise<NotificationDto[]> =>
		(
			await shop.broker.call<NotificationPage, object>(
				"notification.list",
				{ pageSize: 100 },
				{ meta: { user: { id: userId, email: "x@example.com", role: "customer", permissions: [] } } }
			)
		).items;
	const byChannel = (records: NotificationDto[], channel: "email" | "sms") => records.find(r => r.channel === channel)!;

	function orderNotice(overrides: Partial<SendParams> = {}): SendParams {
		const orderId = crypto.randomUUID();
		return {
			userId: crypto.randomUUID(),
			template: "orderConfirmed",
			data: {
				name: "Ana",
				orderId,
				items: [
					{ name: "Enamel mug", quantity: 2, lineTotalCents: 5980 },
					{ name: "Notebook", quantity: 1, lineTotalCents: 1250 }
				],
				totalCents: 7230,
				currency: "BRL"
			},
			email: uniqueEmail("buyer"),
			dedupeKey: `orderConfirmed:${orderId}`,
			...overrides
		} as SendParams;
	}

	before(async () => {
		db = await createTestDatabase();
		smtp = await startSmtpServer();
		const config = testConfig(db, {
			SERVICES: "identity",
			SMTP_URL: smtp.url,
			NOTIFICATION_MAX_ATTEMPTS: "3",
			NOTIFICATION_RETRY_BASE: "0", // every retry due at once; the backoff itself is a unit test
			NOTIFICATION_RETRY_INTERVAL: "3600", // the tests run the retry pass themselves
			...TWILIO
		});
		const notification = createNotificationService(config, EVENT_ROUTES, { twilioHttpClient: recordingTwilioClient(twilioRequests, () => twilioAnswer()) });
		shop = await startShop(config, [notification as unknown as ServiceSchema]);
	});
	after(async () => {
		await shop?.stop();
		await smtp?.stop();
		await db?.drop();
	});

	it("e-mails an order confirmation through SMTP naming the order id, the items and the total, and records it SENT", async () => {
		const notice = orderNotice();
		const result = await send(notice);
		expect(result.created).to.equal(true);

		const [mail] = smtp.to(notice.email);
		expect(mail, "an e-mail reached the SMTP server").to.exist;
		expect(mail.to).to.deep.equal([notice.email]);
		expect(mail.from).to.equal("no-reply@momentum.local");
		const orderId = (notice.data as { orderId: string }).orderId;
		expect(mail.subject).to.equal(`Your order ${orderId} is confirmed`);
		expect(mail.text).to.contain(orderId);
		expect(mail.text).to.contain(`2 x Enamel mug: R$${NBSP}59,80`);
		expect(mail.text).to.contain(`Total: R$${NBSP}72,30`);
		expect(mail.html).to.contain(orderId);

		const email = byChannel(result.notifications, "email");
		expect(email).to.include({ status: "SENT", attempts: 1, recipient: notice.email, template: "orderConfirmed", lastError: null });
		expect(email.sentAt).to.be.a("string");
		expect(byChannel(result.notifications, "sms")).to.include({ status: "SKIPPED", recipient: null, attempts: 0 });
		expect(byChannel(result.notifications, "sms").lastError).to.match(/no phone/);
	});

	/** The token of the link in the last verification e-mail to `email`, once it has arrived. */
	const verificationToken = (email: string): Promise<string> =>
		eventually(() => {
			const mail = smtp.to(email).find(m => m.subject === "Confirm your e-mail address");
			expect(mail, `a verification e-mail to ${email}`).to.exist;
			return /\/verify-email\?token=([A-Za-z0-9_-]+)/.exec(mail!.text)![1];
		});

	it("mails a newly registered user a verification link without their name, and welcomes them by name once verified", async () => {
		const email = uniqueEmail("newcomer");
		const { user } = await shop.broker.call<{ user: UserDto }, object>("identity.register", { email, password: "password123", name: "Bia <b>" });

		const token = await verificationToken(email);
		const [verify] = smtp.to(email);
		expect(verify.text).to.contain(`http://localhost:3000/verify-email?token=${token}`);
		expect(verify.text + verify.html).not.to.contain("Bia");
		const first = await eventually(async () => {
			const r = await recordsOf(user.id);
			expect(r.map(n => [n.template, n.channel, n.status])).to.deep.equal([["verifyEmail", "email", "SENT"]]);
			return r;
		});
		expect(first[0]).to.include({ recipient: email, attempts: 1 });

		await shop.broker.call("identity.verifyEmail", { token });
		const welcome = await eventually(() => {
			const got = smtp.to(email).find(m => m.subject === "Welcome to Momentum");
			expect(got).to.exist;
			return got!;
		});
		expect(welcome.text).to.contain("Hi Bia <b>,");
		expect(welcome.html).to.contain("Hi Bia &lt;b&gt;,");
		const records = await eventually(async () => {
			const r = await recordsOf(user.id);
			expect(
				byChannel(
					r.filter(n => n.template === "welcome"),
					"email"
				)?.status
			).to.equal("SENT");
			return r;
		});
		expect(records.filter(n => n.template === "welcome").map(n => [n.channel, n.status])).to.have.deep.members([
			["email", "SENT"],
			["sms", "SKIPPED"]
		]);
	});

	describe("a link's token", () => {
		const linkNotice = (email: string): SendParams => {
			const tokenId = crypto.randomUUID();
			return {
				userId: crypto.randomUUID(),
				template: "resetPassword",
				data: {
					url: "https://shop.example.com/reset-password",
					linkToken: crypto.randomBytes(32).toString("base64url"),
					expiresAt: new Date(Date.now() + 60_000).toISOString()
				},
				email,
				dedupeKey: `resetPassword:${tokenId}`
			};
		};
		const storedRow = async (userId: string) => {
			const pg = new Client({ connectionString: db.url });
			await pg.connect();
			try {
				const { rows } = await pg.query("SELECT status, body, html, secret FROM notification.notifications WHERE user_id = $1", [userId]);
				return rows as { status: string; body: string; html: string; secret: string | null }[];
			} finally {
				await pg.end();
			}
		};

		it("is mailed but kept out of the stored message, waits apart while a retry is due, and is forgotten once sent", async () => {
			const notice = linkNotice(uniqueEmail("reset"));
			const token = (notice.data as { linkToken: string }).linkToken;
			smtp.reject(notice.email, 1);
			const first = await send(notice);
			expect(first.notifications.map(n => [n.channel, n.status])).to.deep.equal([["email", "PENDING"]]);
			let [row] = await storedRow(notice.userId);
			expect(row.secret).to.equal(token);
			expect(row.body + row.html).not.to.contain(token);
			expect(row.body).to.contain("https://shop.example.com/reset-password?token=[hidden]");

			await retryDue();
			const [mail] = smtp.to(notice.email);
			expect(mail.text).to.contain(`https://shop.example.com/reset-password?token=${token}`);
			expect(mail.html).to.contain(token);
			[row] = await storedRow(notice.userId);
			expect(row).to.include({ status: "SENT", secret: null });
			expect(row.body + row.html).not.to.contain(token);
		});

		it("is forgotten when its message fails for good", async () => {
			const notice = linkNotice(uniqueEmail("bounce"));
			smtp.reject(notice.email, Infinity);
			await send(notice);
			for (let i = 0; i < 3; i++) await retryDue();
			const [row] = await storedRow(notice.userId);
			expect(row).to.include({ status: "FAILED", secret: null });
			expect(row.body + row.html).not.to.contain((notice.data as { linkToken: string }).linkToken);
		});

		it("is refused when it is not a token", async () => {
			const notice = linkNotice(uniqueEmail("odd"));
			const err = await send({ ...notice, data: { ...notice.data, linkToken: "<script>" } } as SendParams).catch((e: { type: string }) => e);
			expect(err).to.have.property("type", "VALIDATION_ERROR");
		});
	});

	it("sends an SMS through the twilio library when the user has a phone, with the request Twilio would receive", async () => {
		twilioRequests.length = 0;
		const notice = orderNotice({ phone: "+5511987654321" });
		const result = await send(notice);

		expect(twilioRequests).to.have.length(1);
		const [req] = twilioRequests;
		expect(req.method).to.equal("POST");
		expect(req.url).to.equal(`https://api.twilio.com/2010-04-01/Accounts/${TWILIO.TWILIO_ACCOUNT_SID}/Messages.json`);
		expect(req.authorization).to.equal(`Basic ${Buffer.from(`${TWILIO.TWILIO_ACCOUNT_SID}:${TWILIO.TWILIO_AUTH_TOKEN}`).toString("base64")}`);
		expect(req.contentType).to.equal("application/x-www-form-urlencoded");
		expect(req.form.get("To")).to.equal("+5511987654321");
		expect(req.form.get("From")).to.equal(TWILIO.TWILIO_FROM);
		const orderId = (notice.data as { orderId: string }).orderId;
		expect(req.form.get("Body")).to.equal(`Momentum: your order ${orderId} is confirmed. Total R$${NBSP}72,30.`);

		expect(byChannel(result.notifications, "sms")).to.include({ status: "SENT", attempts: 1, recipient: "+5511987654321" });
		expect(byChannel(result.notifications, "email").status).to.equal("SENT");
	});

	it("retries an SMS Twilio refused, keeping Twilio's reason", async () => {
		twilioRequests.length = 0;
		const ok = twilioAnswer;
		twilioAnswer = () => ({ status: 503, data: { code: 20503, message: "Service unavailable", status: 503 } });
		try {
			const result = await send(orderNotice({ phone: "+5511912345678" }));
			const sms = byChannel(result.notifications, "sms");
			expect(sms).to.include({ status: "PENDING", attempts: 1 });
			expect(sms.lastError).to.contain("Service unavailable");
		} finally {
			twilioAnswer = ok;
		}
		await retryDue();
		expect(twilioRequests).to.have.length(2);
	});

	it("retries a rejected e-mail and ends SENT on the third attempt", async () => {
		const notice = orderNotice();
		smtp.reject(notice.email, 2);
		const first = byChannel((await send(notice)).notifications, "email");
		expect(first).to.include({ status: "PENDING", attempts: 1 });
		expect(first.lastError).to.contain("Mailbox busy");

		await retryDue();
		expect(byChannel(await recordsOf(notice.userId), "email")).to.include({ status: "PENDING", attempts: 2 });
		expect(smtp.to(notice.email)).to.have.length(0);

		await retryDue();
		const last = byChannel(await recordsOf(notice.userId), "email");
		expect(last).to.include({ status: "SENT", attempts: 3, lastError: null });
		expect(smtp.rejections(notice.email)).to.equal(2);
		expect(smtp.to(notice.email)).to.have.length(1);
	});

	it("gives up after the maximum attempts and records FAILED with the last error", async () => {
		const notice = orderNotice();
		smtp.reject(notice.email, Infinity);
		await send(notice);
		for (let i = 0; i < 5; i++) await retryDue();

		const email = byChannel(await recordsOf(notice.userId), "email");
		expect(email).to.include({ status: "FAILED", attempts: 3 });
		expect(email.lastError).to.contain("Mailbox busy");
		expect(email.sentAt).to.equal(null);
		expect(smtp.rejections(notice.email)).to.equal(3);
		expect(smtp.to(notice.email)).to.have.length(0);
	});

	it("notifies once for the same dedupe key, however often it is asked", async () => {
		const notice = orderNotice({ phone: "+5511955554444" });
		twilioRequests.length = 0;
		const first = await send(notice);
		const repeats = await Promise.all([send(notice), send(notice), send({ ...notice, email: uniqueEmail("other") })]);

		expect(smtp.to(notice.email)).to.have.length(1);
		expect(twilioRequests).to.have.length(1);
		for (const again of repeats) {
			expect(again.created).to.equal(false);
			expect(again.notifications.map(n => n.id).sort()).to.deep.equal(first.notifications.map(n => n.id).sort());
		}
		expect(await recordsOf(notice.userId)).to.have.length(2);
	});

	it("refuses an order template without the order's details", async () => {
		const notice = orderNotice();
		const err = await send({ ...notice, data: { name: "Ana" } } as SendParams).catch((e: { type: string; data: { field: string }[] }) => e);
		expect(err).to.have.property("type", "VALIDATION_ERROR");
		expect((err as { data: { field: string }[] }).data.map(p => p.field)).to.include("data.orderId");
		expect(await recordsOf(notice.userId)).to.have.length(0);
	});

	describe("without Twilio configured, as `SERVICES` starts it", () => {
		let db2: TestDatabase;
		let shop2: RunningShop;

		before(async () => {
			db2 = await createTestDatabase();
			shop2 = await startShop(testConfig(db2, { SERVICES: "identity,notification", SMTP_URL: smtp.url }));
		});
		after(async () => {
			await shop2?.stop();
			await db2?.drop();
		});

		it("welcomes a verified user with a phone by e-mail and records the SMS SKIPPED with the reason", async () => {
			const email = uniqueEmail("nosms");
			const { user } = await shop2.broker.call<{ user: UserDto }, object>("identity.register", {
				email,
				password: "password123",
				name: "Caio",
				phone: "+5511900001111"
			});
			await shop2.broker.call("identity.verifyEmail", { token: await verificationToken(email) });
			await eventually(async () => expect(smtp.to(email).map(m => m.subject)).to.include("Welcome to Momentum"));
			const records = await eventually(async () => {
				const page = await shop2.broker.call<NotificationPage, object>(
					"notification.list",
					{},
					{ meta: { user: { id: user.id, email, role: "customer", permissions: [] } } }
				);
				const welcome = page.items.filter(r => r.template === "welcome");
				expect(welcome.find(r => r.channel === "email")?.status).to.equal("SENT");
				return welcome;
			});
			const sms = byChannel(records, "sms");
			expect(sms).to.include({ status: "SKIPPED", recipient: "+5511900001111", attempts: 0, sentAt: null });
			expect(sms.lastError).to.match(/TWILIO_ACCOUNT_SID/);
		});
	});
});
