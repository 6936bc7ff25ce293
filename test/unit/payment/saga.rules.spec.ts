import { expect } from "chai";
import {
	MAX_TOKEN_LENGTH,
	decideCancellation,
	decideCharge,
	parseCancellation,
	parsePaymentRequest,
	reannouncementOf,
	tokenProblem,
	type PaymentFacts
} from "../../../services/payment/payment.rules";

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

function problemsOf(data: unknown): string[] {
	const parsed = parsePaymentRequest(data);
	return parsed.ok ? [] : parsed.problems.map(p => p.field);
}

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

		it("accepts a well-formed request, and one without a token (only a charge needs it)", () => {
			expect(parsePaymentRequest(request())).to.deep.equal({ ok: true, value: request() });
			const { paymentToken: _t, ...noToken } = request();
			expect(parsePaymentRequest(noToken)).to.deep.equal({ ok: true, value: noToken });
		});

		it("names every malformed field: ids, amount, currency, token", () => {
			expect(problemsOf(request({ orderId: "nope" }))).to.deep.equal(["orderId"]);
			expect(problemsOf(request({ userId: 42 }))).to.deep.equal(["userId"]);
			for (const amountCents of [0, -5, 1.5, "100", null, 1_000_000_001])
				expect(problemsOf(request({ amountCents })), String(amountCents)).to.deep.equal(["amountCents"]);
			for (const currency of ["brl", "BR", "BRLX", 986]) expect(problemsOf(request({ currency })), String(currency)).to.deep.equal(["currency"]);
			for (const paymentToken of ["", 42, "t".repeat(MAX_TOKEN_LENGTH + 1)])
				expect(problemsOf(request({ paymentToken }))).to.deep.equal(["paymentToken"]);
			expect(problemsOf({ orderId: "x" })).to.deep.equal(["orderId", "userId", "amountCents", "currency"]);
			for (const data of [null, undefined, "order", [request()]]) expect(problemsOf(data)).to.deep.equal(["data"]);
		});

		it("never quotes a rejected card token in its problems", () => {
			const secret = "tok_" + "s".repeat(MAX_TOKEN_LENGTH);
			const parsed = parsePaymentRequest(request({ paymentToken: secret, orderId: secret }));
			expect(parsed.ok).to.equal(false);
			expect(JSON.stringify(parsed)).to.not.include("sss");
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

		it("needs only the order id: an unknown reason never blocks a refund", () => {
			expect(parseCancellation({ orderId: ORDER, reason: "customer_request", items: [] })).to.deep.equal({
				ok: true,
				value: { orderId: ORDER, reason: "customer_request" }
			});
			expect(parseCancellation({ orderId: ORDER, reason: "a_reason_added_later" })).to.deep.equal({
				ok: true,
				value: { orderId: ORDER, reason: "a_reason_added_later" }
			});
			expect(parseCancellation({ orderId: ORDER, reason: 7 })).to.deep.equal({ ok: true, value: { orderId: ORDER, reason: null } });
			const long = parseCancellation({ orderId: ORDER, reason: "r".repeat(500) });
			expect(long.ok && long.value.reason).to.have.length(100);
		});

		it("rejects a cancellation without a usable order id", () => {
			for (const data of [{ orderId: "nope" }, {}, null, "x"]) expect(parseCancellation(data).ok, JSON.stringify(data)).to.equal(false);
		});
	});
});
