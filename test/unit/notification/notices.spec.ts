import { expect } from "chai";
import type { EmailVerificationRequestedEvent } from "../../../services/identity/identity.types";
import {
	orderCancelledNotice,
	orderConfirmedNotice,
	resetPasswordNotice,
	verifyEmailNotice,
	welcomeNotice
} from "../../../services/notification/notification.notices";
import type { OrderCancelledEvent, OrderConfirmedEvent } from "../../../services/order/order.types";

const confirmed: OrderConfirmedEvent = {
	orderId: "5b0c7f0e-3f7e-4f55-9d59-0a3e8e1f2a01",
	userId: "0d7c2f7e-1b1a-4a55-8d59-0a3e8e1f2a02",
	customer: { email: "ana@example.com", name: "Ana", phone: "+5511987654321" },
	items: [
		{ productId: "9a1e7a8c-2c55-4c43-9f2e-6b3f5e2d1a03", sku: "MUG-1", name: "Enamel mug", quantity: 2, unitPriceCents: 2990, lineTotalCents: 5980 },
		{ productId: "9a1e7a8c-2c55-4c43-9f2e-6b3f5e2d1a04", sku: "NB-1", name: "Notebook", quantity: 1, unitPriceCents: 1250, lineTotalCents: 1250 }
	],
	totalCents: 7230,
	currency: "BRL"
};

describe("notification notices (what each saga fact tells the customer)", () => {
	it("tells the order's customer about a confirmed order, with its lines, total and currency", () => {
		expect(orderConfirmedNotice(confirmed)).to.deep.equal({
			userId: confirmed.userId,
			template: "orderConfirmed",
			data: {
				name: "Ana",
				orderId: confirmed.orderId,
				items: [
					{ name: "Enamel mug", quantity: 2, lineTotalCents: 5980 },
					{ name: "Notebook", quantity: 1, lineTotalCents: 1250 }
				],
				totalCents: 7230,
				currency: "BRL"
			},
			email: "ana@example.com",
			phone: "+5511987654321",
			dedupeKey: `orderConfirmed:${confirmed.orderId}`
		});
	});

	it("passes the reason and the status the order left for a cancellation, under its own key", () => {
		const cancelled: OrderCancelledEvent = {
			...confirmed,
			customer: { ...confirmed.customer, phone: null },
			reason: "customer_request",
			previousStatus: "CONFIRMED"
		};
		const notice = orderCancelledNotice(cancelled);
		expect(notice).to.include({ template: "orderCancelled", dedupeKey: `orderCancelled:${confirmed.orderId}`, phone: null });
		expect(notice.data).to.include({ cancelReason: "customer_request", previousStatus: "CONFIRMED", orderId: confirmed.orderId });
		expect(notice.dedupeKey).not.to.equal(orderConfirmedNotice(confirmed).dedupeKey);
	});

	describe("account facts", () => {
		const asked: EmailVerificationRequestedEvent = {
			userId: confirmed.userId,
			email: "new@example.com",
			tokenId: "6c2b0f7e-1b1a-4a55-8d59-0a3e8e1f2a09",
			linkToken: "AbC_123-xyzAbC_123-xyzAbC_123-xyzAbC_123-x",
			expiresAt: "2030-01-01T00:00:00.000Z"
		};

		it("mails a verification link to the address it verifies, by e-mail only, once per link, with a key that does not give the token away", () => {
			const notice = verifyEmailNotice(asked, "https://shop.example.com");
			expect(notice).to.deep.equal({
				userId: asked.userId,
				template: "verifyEmail",
				data: { url: "https://shop.example.com/verify-email", linkToken: asked.linkToken, expiresAt: asked.expiresAt },
				email: "new@example.com",
				dedupeKey: `verifyEmail:${asked.tokenId}`
			});
			expect(notice.dedupeKey).not.to.contain(asked.linkToken);
		});

		it("points a reset link at the reset page", () => {
			const notice = resetPasswordNotice(asked, "https://example.com/shop");
			expect(notice).to.include({ template: "resetPassword", dedupeKey: `resetPassword:${asked.tokenId}` });
			expect(notice.data).to.include({ url: "https://example.com/shop/reset-password" });
		});

		it("welcomes a verified user once per account, whichever address they verify", () => {
			const welcome = welcomeNotice({
				userId: asked.userId,
				email: "a@example.com",
				name: "Ana",
				phone: null,
				previousEmail: null,
				verifiedAt: asked.expiresAt
			});
			expect(welcome).to.deep.equal({
				userId: asked.userId,
				template: "welcome",
				data: { name: "Ana" },
				email: "a@example.com",
				phone: null,
				dedupeKey: `welcome:${asked.userId}`
			});
			const later = welcomeNotice({
				userId: asked.userId,
				email: "b@example.com",
				name: "Ana",
				phone: null,
				previousEmail: "a@example.com",
				verifiedAt: asked.expiresAt
			});
			expect(later.dedupeKey).to.equal(welcome.dedupeKey);
		});
	});
});
