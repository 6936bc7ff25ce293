import { expect } from "chai";
import {
	describeCancelReason,
	escapeHtml,
	formatMoney,
	LINK_TOKEN_MASK,
	orderCancelledEmail,
	orderCancelledSms,
	orderConfirmedEmail,
	orderConfirmedSms,
	render,
	reveal,
	welcomeEmail,
	welcomeSms
} from "../../../services/notification/notification.templates";
import type { OrderData } from "../../../services/notification/notification.types";

const NBSP = "\u00a0";
const order: OrderData = {
	name: "Ana",
	orderId: "5b0c7f0e-3f7e-4f55-9d59-0a3e8e1f2a01",
	items: [
		{ name: "Enamel mug", quantity: 2, lineTotalCents: 5980 },
		{ name: "Notebook", quantity: 1, lineTotalCents: 1250 }
	],
	totalCents: 7230,
	currency: "BRL"
};

describe("notification templates", () => {
	describe("formatMoney", () => {
		it("formats integer cents as Brazilian reais", () => {
			expect(formatMoney(123456, "BRL")).to.equal(`R$${NBSP}1.234,56`);
			expect(formatMoney(5, "BRL")).to.equal(`R$${NBSP}0,05`);
			expect(formatMoney(0, "BRL")).to.equal(`R$${NBSP}0,00`);
		});

		it("formats other currencies with their own minor units", () => {
			expect(formatMoney(1999, "USD")).to.equal("$19.99");
			expect(formatMoney(-199, "USD")).to.equal("-$1.99");
			expect(formatMoney(1234, "JPY")).to.equal("¥1,234");
		});

		it("is exact for amounts a float would round", () => {
			expect(formatMoney(900719925474099, "BRL")).to.equal(`R$${NBSP}9.007.199.254.740,99`);
			expect(formatMoney(1000000000000001, "USD")).to.equal("$10,000,000,000,000.01");
		});

		it("refuses fractions of a cent", () => {
			expect(() => formatMoney(10.5, "BRL")).to.throw(RangeError);
		});
	});

	it("escapes the characters that matter in HTML", () => {
		expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).to.equal("&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
	});

	it("tells of a refund with its amount and order, escaping the name in HTML", () => {
		const { email, sms } = render("paymentRefunded", { ...order, name: "<Ana>" });
		expect(email.subject).to.equal(`Your payment for order ${order.orderId} was refunded`);
		expect(email.text).to.include(`We have refunded R$${NBSP}72,30 for your cancelled order ${order.orderId}.`);
		expect(email.html).to.include("&lt;Ana&gt;").and.not.include("<Ana>");
		expect(sms?.body).to.equal(`Momentum: we have refunded R$${NBSP}72,30 for your cancelled order ${order.orderId}.`);
	});

	it("welcomes a user by name in the e-mail, and without it in the SMS (a phone is never verified)", () => {
		const mail = welcomeEmail({ name: "Ana" });
		expect(mail.subject).to.equal("Welcome to Momentum");
		expect(mail.text).to.contain("Hi Ana,");
		expect(mail.html).to.contain("<p>Hi Ana,</p>");
		expect(welcomeSms({ name: "Ana" }).body).to.equal("Momentum: welcome! Your account is ready.");
	});

	it("names the order id, every item and the total of a confirmed order", () => {
		const mail = orderConfirmedEmail(order);
		expect(mail.subject).to.equal(`Your order ${order.orderId} is confirmed`);
		for (const part of [order.orderId, `2 x Enamel mug: R$${NBSP}59,80`, `1 x Notebook: R$${NBSP}12,50`, `Total: R$${NBSP}72,30`]) {
			expect(mail.text).to.contain(part);
		}
		for (const part of [order.orderId, "Enamel mug", `R$${NBSP}59,80`, `R$${NBSP}72,30`]) expect(mail.html).to.contain(part);
		expect(orderConfirmedSms(order).body).to.equal(`Momentum: your order ${order.orderId} is confirmed. Total R$${NBSP}72,30.`);
	});

	it("says why an order was cancelled", () => {
		const mail = orderCancelledEmail({ ...order, cancelReason: "payment_declined" });
		expect(mail.subject).to.equal(`Your order ${order.orderId} was cancelled`);
		expect(mail.text).to.contain(`Your order ${order.orderId} was cancelled because the payment was declined.`);
		expect(mail.text).to.contain(`Total: R$${NBSP}72,30`);
		expect(mail.html).to.contain("because the payment was declined");
		expect(orderCancelledSms({ ...order, cancelReason: "out_of_stock" }).body).to.contain("because some items were out of stock");
		expect(orderCancelledEmail(order).text).to.contain(`Your order ${order.orderId} was cancelled. If`);
		expect(describeCancelReason("something_new")).to.equal("something_new");
	});

	describe("what a cancellation says about the payment", () => {
		const cancelled = (over: Partial<OrderData>) => ({ ...order, ...over });
		const NOT_CHARGED = "You have not been charged for it.";
		const REFUNDED = "Your payment will be refunded.";
		const MAYBE = "If any payment was taken for it, it will be refunded.";

		it("says the customer was not charged when the payment was declined or never asked for", () => {
			for (const d of [
				cancelled({ cancelReason: "payment_declined", previousStatus: "STOCK_RESERVED" }),
				cancelled({ cancelReason: "out_of_stock", previousStatus: "PENDING" }),
				cancelled({ cancelReason: "customer_request", previousStatus: "PENDING" })
			]) {
				const mail = orderCancelledEmail(d);
				expect(mail.text).to.contain(`. ${NOT_CHARGED}`);
				expect(mail.html).to.contain(`. ${NOT_CHARGED}</p>`);
				expect(orderCancelledSms(d).body).to.match(/\. You have not been charged\.$/);
			}
			expect(orderCancelledEmail(cancelled({ cancelReason: "payment_declined", previousStatus: "STOCK_RESERVED" })).text).to.contain(
				`was cancelled because the payment was declined. ${NOT_CHARGED}`
			);
		});

		it("says the payment was refunded for an order cancelled after it was confirmed", () => {
			const d = cancelled({ cancelReason: "customer_request", previousStatus: "CONFIRMED" });
			const mail = orderCancelledEmail(d);
			expect(mail.text).to.contain(`was cancelled because you asked us to cancel it. ${REFUNDED}`);
			expect(mail.html).to.contain(REFUNDED);
			for (const text of [mail.text, mail.html, orderCancelledSms(d).body]) expect(text).not.to.contain("not been charged");
			expect(orderCancelledSms(d).body).to.equal(`Momentum: your order ${order.orderId} was cancelled because you asked us to cancel it. ${REFUNDED}`);
		});

		it("promises a refund only if money was taken while the payment may have been under way", () => {
			for (const d of [cancelled({ cancelReason: "timeout", previousStatus: "STOCK_RESERVED" }), cancelled({ cancelReason: "timeout" })]) {
				const mail = orderCancelledEmail(d);
				expect(mail.text).to.contain(`was cancelled because it could not be completed in time. ${MAYBE}`);
				expect(mail.html).to.contain(MAYBE);
				expect(mail.text).not.to.contain("not been charged");
				expect(orderCancelledSms(d).body).to.match(/\. Any payment taken will be refunded\.$/);
			}
		});

		it("keeps every cancellation SMS within one 160-character message", () => {
			for (const cancelReason of ["out_of_stock", "payment_declined", "customer_request", "timeout"]) {
				for (const previousStatus of ["PENDING", "STOCK_RESERVED", "CONFIRMED"] as const) {
					expect(orderCancelledSms(cancelled({ cancelReason, previousStatus })).body.length).to.be.at.most(160);
				}
			}
		});
	});

	it("escapes every user-controlled value in the HTML, never in the plain text", () => {
		const evil = "<script>alert(1)</script>";
		const data: OrderData = {
			name: `Ana ${evil}`,
			orderId: `o-1"><img src=x>`,
			items: [{ name: `Mug ${evil} & co`, quantity: 1, lineTotalCents: 100 }],
			totalCents: 100,
			currency: "BRL",
			cancelReason: `<b>why</b>`
		};
		for (const mail of [welcomeEmail({ name: data.name }), orderConfirmedEmail(data), orderCancelledEmail(data)]) {
			expect(mail.html).not.to.contain("<script>");
			expect(mail.html).not.to.contain("<img");
			expect(mail.html).not.to.contain("<b>why");
		}
		const confirmed = orderConfirmedEmail(data);
		expect(confirmed.html).to.contain("Mug &lt;script&gt;alert(1)&lt;/script&gt; &amp; co");
		expect(confirmed.html).to.contain("o-1&quot;&gt;&lt;img src=x&gt;");
		expect(orderCancelledEmail(data).html).to.contain("because &lt;b&gt;why&lt;/b&gt;");
		expect(confirmed.text).to.contain(`Mug ${evil} & co`);
	});

	describe("mailed links", () => {
		const link = {
			url: "https://shop.example.com/verify-email",
			linkToken: "AbC_123-xyzAbC_123-xyzAbC_123-xyzAbC_123-x",
			expiresAt: "2030-01-02T03:04:05.678Z"
		};

		it("asks to confirm an address with a link to the page, its expiry, and nothing else to say about the user", () => {
			const { email, sms } = render("verifyEmail", link);
			expect(email.subject).to.equal("Confirm your e-mail address");
			expect(email.text).to.contain(`https://shop.example.com/verify-email?token=${link.linkToken}`);
			expect(email.text).to.contain("until 2030-01-02 03:04 UTC");
			expect(email.html).to.contain(`href="https://shop.example.com/verify-email?token=${link.linkToken}"`);
			expect(sms, "links go by e-mail only").to.equal(undefined);
		});

		it("offers a new password with a link to the reset page", () => {
			const { email, sms } = render("resetPassword", { ...link, url: "https://shop.example.com/reset-password" });
			expect(email.subject).to.equal("Reset your Momentum password");
			expect(email.text).to.contain(`https://shop.example.com/reset-password?token=${link.linkToken}`);
			expect(email.text).to.contain("your password stays as it is");
			expect(sms).to.equal(undefined);
		});

		it("stores a link masked and puts the token back only when it is sent", () => {
			const masked = render("verifyEmail", { ...link, linkToken: LINK_TOKEN_MASK }).email;
			expect(masked.text).not.to.contain(link.linkToken);
			expect(masked.text).to.contain(`?token=${LINK_TOKEN_MASK}`);
			const real = render("verifyEmail", link).email;
			expect(reveal(masked.text, link.linkToken)).to.equal(real.text);
			expect(reveal(masked.html, link.linkToken)).to.equal(real.html);
			expect(reveal(masked.text, null)).to.equal(masked.text);
		});
	});

	it("renders both channels of a template", () => {
		const both = render("orderConfirmed", order);
		expect(both.email).to.deep.equal(orderConfirmedEmail(order));
		expect(both.sms).to.deep.equal(orderConfirmedSms(order));
	});
});
