import { expect } from "chai";
import {
	MAX_BACKOFF_SECONDS,
	afterAttempt,
	backoffSeconds,
	emailSkipReason,
	missingOrderFields,
	missingTemplateFields,
	recordKey,
	smsSkipReason
} from "../../../services/notification/notification.rules";

describe("notification rules", () => {
	const policy = { maxAttempts: 3, retryBaseSeconds: 30 };

	it("keys a record by the fact and the channel", () => {
		expect(recordKey("orderConfirmed:o-1", "email")).to.equal("orderConfirmed:o-1:email");
		expect(recordKey("orderConfirmed:o-1", "sms")).to.equal("orderConfirmed:o-1:sms");
	});

	it("doubles the wait after each failure, up to an hour", () => {
		expect([1, 2, 3, 4].map(n => backoffSeconds(n, 30))).to.deep.equal([30, 60, 120, 240]);
		expect(backoffSeconds(8, 30)).to.equal(MAX_BACKOFF_SECONDS);
		expect(backoffSeconds(1000, 30)).to.equal(MAX_BACKOFF_SECONDS);
		expect(backoffSeconds(3, 0)).to.equal(0);
	});

	it("marks a successful attempt SENT and counts it", () => {
		expect(afterAttempt(2, undefined, policy)).to.deep.equal({ status: "SENT", attempts: 3 });
	});

	it("keeps a failed attempt PENDING with a backoff until the attempts run out, then FAILED", () => {
		expect(afterAttempt(0, "421 try later", policy)).to.deep.equal({ status: "PENDING", attempts: 1, error: "421 try later", retryInSeconds: 30 });
		expect(afterAttempt(1, "421 try later", policy)).to.deep.equal({ status: "PENDING", attempts: 2, error: "421 try later", retryInSeconds: 60 });
		expect(afterAttempt(2, "550 no such user", policy)).to.deep.equal({ status: "FAILED", attempts: 3, error: "550 no such user" });
	});

	it("shortens very long errors", () => {
		const outcome = afterAttempt(0, "x".repeat(5000), policy);
		expect(outcome.status).to.equal("PENDING");
		expect((outcome as { error: string }).error).to.have.length(500);
	});

	it("skips an SMS without a phone or without SMS configuration", () => {
		expect(smsSkipReason(null, true)).to.match(/no phone/);
		expect(smsSkipReason(undefined, true)).to.match(/no phone/);
		expect(smsSkipReason("+5511987654321", false)).to.match(/TWILIO_ACCOUNT_SID/);
		expect(smsSkipReason("+5511987654321", true)).to.equal(undefined);
	});

	it("skips e-mail only when no mailer is configured", () => {
		expect(emailSkipReason(false)).to.match(/SMTP_URL/);
		expect(emailSkipReason(true)).to.equal(undefined);
	});

	it("names the order fields an order template lacks", () => {
		expect(missingOrderFields({ name: "Ana" })).to.deep.equal(["orderId", "items", "totalCents", "currency"]);
		expect(missingOrderFields({ name: "Ana", orderId: "o", items: [], totalCents: 0, currency: "BRL" })).to.deep.equal([]);
	});

	it("names the fields each template lacks", () => {
		expect(missingTemplateFields("welcome", {})).to.deep.equal(["name"]);
		expect(missingTemplateFields("orderConfirmed", { orderId: "o" })).to.deep.equal(["name", "items", "totalCents", "currency"]);
		expect(missingTemplateFields("verifyEmail", { name: "Ana" })).to.deep.equal(["url", "linkToken", "expiresAt"]);
		expect(
			missingTemplateFields("resetPassword", { url: "https://x.test/r", linkToken: "t".repeat(43), expiresAt: "2030-01-01T00:00:00.000Z" })
		).to.deep.equal([]);
	});
});
