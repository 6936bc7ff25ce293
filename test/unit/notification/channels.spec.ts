import { expect } from "chai";
import { createMailer } from "../../../services/notification/notification.channels";

describe("notification channels", () => {
	it("logs an e-mail it cannot send (no SMTP_URL) with a link's token hidden: tokens are never logged", async () => {
		const logged: string[] = [];
		const mailer = createMailer({ mailFrom: "Shop <shop@example.com>" }, msg => logged.push(msg));
		const token = "AbC_123-xyzAbC_123-xyzAbC_123-xyzAbC_123-x";
		const link = `https://shop.example.com/reset-password?token=${token}`;
		await mailer.send({
			to: "ana@example.com",
			subject: "Reset your Momentum password",
			text: `Open ${link}`,
			html: `<a href="${link}">link</a>`,
			secrets: [token]
		});
		mailer.close();
		expect(logged).to.have.length(1);
		expect(logged[0]).to.contain("Reset your Momentum password");
		expect(logged[0]).to.contain("https://shop.example.com/reset-password?token=[hidden]");
		expect(logged[0]).not.to.contain(token);
	});
});
