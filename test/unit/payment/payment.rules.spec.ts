import { expect } from "chai";
import { chargeKey, decideCharge, factOf, refundKey, type PaymentFacts } from "../../../services/payment/payment.rules";

const payment = (over: Partial<PaymentFacts> = {}): PaymentFacts => ({
	id: "p1",
	orderId: "o1",
	userId: "u1",
	amountCents: 1990,
	currency: "BRL",
	status: "SUCCEEDED",
	declineCode: null,
	...over
});

describe("payment rules", () => {
	it("keys provider requests by order, so one order is charged and refunded at most once", () => {
		expect(chargeKey("o1")).to.equal("order:o1");
		expect(refundKey("o1")).to.equal("refund:o1");
	});

	it("charges an order without a payment and answers the stored one otherwise, whatever its status", () => {
		expect(decideCharge(undefined)).to.equal("charge");
		for (const status of ["SUCCEEDED", "DECLINED", "REFUNDED"] as const) expect(decideCharge(payment({ status }))).to.equal("answer-stored");
	});

	it("announces each state as its past-tense fact", () => {
		const base = { paymentId: "p1", orderId: "o1", userId: "u1", amountCents: 1990, currency: "BRL" };
		expect(factOf(payment())).to.deep.equal({ event: "payment.succeeded", payload: base });
		expect(factOf(payment({ status: "DECLINED", declineCode: "card_declined" }))).to.deep.equal({
			event: "payment.failed",
			payload: { ...base, declineCode: "card_declined" }
		});
		expect(factOf(payment({ status: "REFUNDED" }))).to.deep.equal({ event: "payment.refunded", payload: base });
	});
});
