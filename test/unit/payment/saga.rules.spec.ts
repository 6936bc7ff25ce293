import { expect } from "chai";
import { MAX_TOKEN_LENGTH, decideCancellation, decideCharge, reannouncementOf, tokenProblem, type PaymentFacts } from "../../../services/payment/payment.rules";
import { payloadProblems } from "../../../lib/events";
import { orderEvents } from "../../../services/order/order.events";

const ORDER = "6f1c2b9e-3d4a-4e5f-8a7b-1c2d3e4f5a6b";
const USER = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

const payment = (over: Partial<PaymentFacts> = {}): PaymentFacts => ({
	id: "p1",
	orderId: ORDER,
	userId: USER,
	amountCents: 1990,
	currency: "BRL",
	status: "SUCCEEDED",
	declineCode: null,
	...over
});

const request = (over: Record<string, unknown> = {}) => ({
	orderId: ORDER,
	userId: USER,
	amountCents: 1990,
	currency: "BRL",
	paymentToken: "tok_visa",
	...over
});

/** The fields payment's inbox finds wrong in an `order.paymentRequested` payload (the contract's schema). */
function problemsOf(data: unknown, event: "order.paymentRequested" | "order.cancelled" = "order.paymentRequested"): string[] {
	return payloadProblems(orderEvents.events[event], data).map(p => /^'([^']+)'/.exec(p)?.[1] ?? "data");
}

const cancellation = (over: Record<string, unknown> = {}) => ({
	orderId: ORDER,
	userId: USER,
	customer: { email: "ana@example.com", name: "Ana", phone: null },
	items: [{ productId: ORDER, sku: "SKU-1", name: "A thing", quantity: 1, unitPriceCents: 1990, lineTotalCents: 1990 }],
	totalCents: 1990,
	currency: "BRL",
	reason: "customer_request",
	previousStatus: "STOCK_RESERVED",
	...over
});

describe("payment saga rules", () => {
	describe("a payment request", () => {
		it("charges nothing for a voided order, but a recorded payment still answers", () => {
			expect(decideCharge(undefined, true)).to.equal("voided");
			expect(decideCharge(undefined, false)).to.equal("charge");
			expect(decideCharge(payment(), true)).to.equal("answer-stored");
		});

		it("asked again, re-announces the stored outcome of the charge, and nothing for a refunded one", () => {
			const base = { paymentId: "p1", orderId: ORDER, userId: USER, amountCents: 1990, currency: "BRL" };
			expect(reannouncementOf(payment())).to.deep.equal({ event: "payment.succeeded", payload: base });
			expect(reannouncementOf(payment({ status: "DECLINED", declineCode: "insufficient_funds" }))).to.deep.equal({
				event: "payment.failed",
				payload: { ...base, declineCode: "insufficient_funds" }
			});
			expect(reannouncementOf(payment({ status: "REFUNDED" }))).to.equal(undefined);
		});

		it("takes a well-formed request into the inbox; the producer always sends the token", () => {
			expect(problemsOf(request())).to.deep.equal([]);
			const { paymentToken: _t, ...noToken } = request();
			expect(problemsOf(noToken)).to.deep.equal(["paymentToken"]);
		});

		it("names every malformed field: ids, amount, currency, token", () => {
			expect(problemsOf(request({ orderId: "nope" }))).to.deep.equal(["orderId"]);
			expect(problemsOf(request({ userId: 42 }))).to.deep.equal(["userId"]);
			for (const amountCents of [0, -5, 1.5, "100", null, 1_000_000_001])
				expect(problemsOf(request({ amountCents })), String(amountCents)).to.deep.equal(["amountCents"]);
			for (const currency of ["brl", "BR", "BRLX", 986]) expect(problemsOf(request({ currency })), String(currency)).to.deep.equal(["currency"]);
			for (const paymentToken of ["", 42, "t".repeat(MAX_TOKEN_LENGTH + 1)])
				expect(problemsOf(request({ paymentToken }))).to.deep.equal(["paymentToken"]);
			expect(problemsOf({ orderId: "x" })).to.have.members(["orderId", "userId", "amountCents", "currency", "paymentToken"]);
			for (const data of [null, undefined, "order", [request()]]) expect(problemsOf(data)).to.deep.equal(["data"]);
		});

		it("never quotes a rejected card token in its problems", () => {
			const secret = "tok_" + "s".repeat(MAX_TOKEN_LENGTH);
			const problems = payloadProblems(orderEvents.events["order.paymentRequested"], request({ paymentToken: secret, orderId: secret }));
			expect(problems).to.have.length(2);
			expect(JSON.stringify(problems)).to.not.include("sss");
			expect(JSON.stringify(tokenProblem(secret))).to.not.include("sss");
			expect(tokenProblem("tok_visa")).to.equal(undefined);
		});
	});

	describe("a cancellation", () => {
		it("refunds a succeeded charge, voids an order not charged yet, and leaves the rest alone", () => {
			expect(decideCancellation(payment())).to.equal("refund");
			expect(decideCancellation(undefined)).to.equal("void");
			expect(decideCancellation(payment({ status: "DECLINED", declineCode: "card_declined" }))).to.equal("nothing");
			expect(decideCancellation(payment({ status: "REFUNDED" }))).to.equal("nothing");
		});

		it("takes any reason: one added to the order service later never blocks a refund", () => {
			expect(problemsOf(cancellation(), "order.cancelled")).to.deep.equal([]);
			expect(problemsOf(cancellation({ reason: "a_reason_added_later" }), "order.cancelled")).to.deep.equal([]);
			expect(problemsOf(cancellation({ reason: 7 }), "order.cancelled")).to.deep.equal(["reason"]);
		});

		it("rejects a cancellation without a usable order id", () => {
			for (const orderId of ["nope", undefined, 42])
				expect(problemsOf(cancellation({ orderId }), "order.cancelled"), String(orderId)).to.deep.equal(["orderId"]);
			for (const data of [null, "x"]) expect(problemsOf(data, "order.cancelled")).to.deep.equal(["data"]);
		});
	});
});
