import crypto from "node:crypto";
import { expect } from "chai";
import type { NotificationDto, SendParams } from "../../services/notification/notification.types";
import { newCustomer } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

describe("REST notifications through the gateway", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let ana: { token: string; id: string; email: string };
	let bob: { token: string; id: string; email: string };

	const list = (token: string | undefined, query = "") =>
		request<{ items: NotificationDto[]; total: number; page: number; pageSize: number }>("GET", `/api/notifications${query}`, { token });

	/** Waits for the verification e-mail of a new user (the registration event is handled in the background). */
	async function asked(token: string): Promise<void> {
		await eventually(async () => expect((await list(token)).body.total).to.equal(1), 5000);
	}

	before(async () => {
		db = await createTestDatabase();
		// no SMTP_URL: e-mails go to nodemailer's JSON transport, as in development
		shop = await startShop(testConfig(db, { SERVICES: "gateway,identity,notification" }));
		request = httpClient(shop.baseUrl);
		ana = await newCustomer(request, "Ana");
		bob = await newCustomer(request, "Bob");
		await asked(ana.token);
		await asked(bob.token);
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("needs a signed-in user", async () => {
		expect((await list(undefined)).status).to.equal(401);
		expect((await list("not-a-token")).status).to.equal(401);
	});

	it("lists the caller's own notifications only, newest first, paginated", async () => {
		const orderId = crypto.randomUUID();
		await shop.broker.call<unknown, SendParams>("notification.send", {
			userId: ana.id,
			template: "orderConfirmed",
			data: { name: "Ana", orderId, items: [{ name: "Mug", quantity: 1, lineTotalCents: 2590 }], totalCents: 2590, currency: "BRL" },
			email: ana.email,
			dedupeKey: `orderConfirmed:${orderId}`
		});

		const res = await list(ana.token);
		expect(res.status).to.equal(200);
		expect(res.body).to.include({ total: 3, page: 1, pageSize: 20 });
		expect(res.body.items.map(n => [n.template, n.channel])).to.deep.equal([
			["orderConfirmed", "sms"],
			["orderConfirmed", "email"],
			["verifyEmail", "email"]
		]);
		const email = res.body.items[1];
		expect(Object.keys(email).sort()).to.deep.equal([
			"attempts",
			"channel",
			"createdAt",
			"id",
			"lastError",
			"recipient",
			"sentAt",
			"status",
			"subject",
			"template"
		]);
		expect(email).to.include({ recipient: ana.email, subject: `Your order ${orderId} is confirmed`, status: "SENT", attempts: 1, lastError: null });
		expect(res.body.items.every(n => n.recipient === ana.email || n.recipient === null)).to.equal(true);

		const bobs = await list(bob.token);
		expect(bobs.body.total).to.equal(1);
		expect(bobs.body.items.map(n => n.recipient))
			.to.include(bob.email)
			.and.not.to.include(ana.email);

		const second = await list(ana.token, "?page=2&pageSize=2");
		expect(second.body).to.include({ total: 3, page: 2, pageSize: 2 });
		expect(second.body.items.map(n => [n.template, n.channel])).to.deep.equal([["verifyEmail", "email"]]);
	});

	it("refuses a malformed page with 422", async () => {
		expect((await list(ana.token, "?pageSize=0")).status).to.equal(422);
		expect((await list(ana.token, "?page=abc")).status).to.equal(422);
	});
});
