import { expect } from "chai";
import { configProblems as problemsOf, loadTestConfig as load } from "../../support/config";

describe("notification configuration", () => {
	it("defaults to logged e-mail, no SMS and five attempts", () => {
		expect(load({}).notification).to.deep.equal({
			smtpUrl: undefined,
			mailFrom: "Momentum <no-reply@momentum.local>",
			twilio: undefined,
			maxAttempts: 5,
			retryBaseSeconds: 30,
			retryIntervalSeconds: 10,
			publicUrl: "http://localhost:3000"
		});
	});

	it("takes PUBLIC_URL, the base of links in e-mails, without a trailing slash", () => {
		expect(load({ PUBLIC_URL: "https://shop.example.com/" }).notification.publicUrl).to.equal("https://shop.example.com");
		expect(load({ PUBLIC_URL: "https://example.com/shop/" }).notification.publicUrl).to.equal("https://example.com/shop");
	});

	it("refuses a PUBLIC_URL that is not a plain http(s) base", () => {
		for (const bad of ["shop.example.com", "ftp://shop.example.com", "https://shop.example.com/?x=1", "https://user:pw@shop.example.com"]) {
			expect(problemsOf({ PUBLIC_URL: bad }).join(), bad).to.match(/PUBLIC_URL/);
		}
	});

	it("reads SMTP, the sender, Twilio and the retry policy", () => {
		const c = load({
			SMTP_URL: "smtp://user:pass@mail.example.com:587",
			MAIL_FROM: "Shop <shop@example.com>",
			TWILIO_ACCOUNT_SID: `AC${"a".repeat(32)}`,
			TWILIO_AUTH_TOKEN: "token",
			TWILIO_FROM: "+15005550006",
			NOTIFICATION_MAX_ATTEMPTS: "7"
		}).notification;
		expect(c).to.include({ smtpUrl: "smtp://user:pass@mail.example.com:587", mailFrom: "Shop <shop@example.com>", maxAttempts: 7 });
		expect(c.twilio).to.deep.equal({ accountSid: `AC${"a".repeat(32)}`, authToken: "token", from: "+15005550006" });
	});

	it("wants all three TWILIO_* variables or none", () => {
		expect(problemsOf({ TWILIO_ACCOUNT_SID: `AC${"a".repeat(32)}` }).join()).to.match(/must be set together/);
		expect(problemsOf({ TWILIO_ACCOUNT_SID: "nope", TWILIO_AUTH_TOKEN: "t", TWILIO_FROM: "+15005550006" }).join()).to.match(/TWILIO_ACCOUNT_SID/);
	});

	it("refuses a non-SMTP URL without echoing its password", () => {
		const problems = problemsOf({ SMTP_URL: "http://user:hunter22@mail.example.com" }).join();
		expect(problems).to.match(/SMTP_URL must be an smtp/);
		expect(problems).not.to.contain("hunter22");
	});

	it("refuses NOTIFICATION_MAX_ATTEMPTS outside 1 to 100", () => {
		expect(problemsOf({ NOTIFICATION_MAX_ATTEMPTS: "0" }).join()).to.match(/NOTIFICATION_MAX_ATTEMPTS/);
	});
});
