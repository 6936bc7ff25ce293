import { expect } from "chai";
import { decide, nextPaymentStatus, pendingStep, type SagaInput, type SagaOrder } from "../../../services/order/order.saga";
import type { OrderStatus } from "../../../services/order/order.types";

const NOW = new Date("2026-11-24T12:00:00Z");
const LATER = "2026-11-24T12:15:00Z";
const EARLIER = "2026-11-24T11:59:00Z";

const order = (status: OrderStatus, extra: Partial<SagaOrder> = {}): SagaOrder => ({
	status,
	totalCents: 1000,
	reservationExpiresAt: status === "PENDING" ? null : LATER,
	paymentStatus: null,
	...extra
});

describe("order saga rules", () => {
	it("moves a paid order PENDING -> STOCK_RESERVED -> CONFIRMED, asking for payment, then confirming", () => {
		expect(decide(order("PENDING"), { type: "stockReserved", expiresAt: LATER }, NOW)).to.deep.equal({
			kind: "transition",
			to: "STOCK_RESERVED",
			emit: "order.paymentRequested"
		});
		expect(decide(order("STOCK_RESERVED"), { type: "paymentSucceeded" }, NOW)).to.deep.equal({
			kind: "transition",
			to: "CONFIRMED",
			emit: "order.confirmed",
			paymentStatus: "SUCCEEDED"
		});
	});

	it("confirms a free order as soon as its stock is held", () => {
		expect(decide(order("PENDING", { totalCents: 0 }), { type: "stockReserved", expiresAt: LATER }, NOW)).to.include({
			to: "CONFIRMED",
			emit: "order.confirmed"
		});
	});

	it("cancels with the reason that fits: out of stock, declined, the customer, the clock", () => {
		expect(decide(order("PENDING"), { type: "stockUnavailable" }, NOW)).to.include({ to: "CANCELLED", reason: "out_of_stock", emit: "order.cancelled" });
		expect(decide(order("STOCK_RESERVED"), { type: "paymentDeclined" }, NOW)).to.include({
			to: "CANCELLED",
			reason: "payment_declined",
			paymentStatus: "DECLINED"
		});
		for (const s of ["PENDING", "STOCK_RESERVED", "CONFIRMED"] as const) {
			expect(decide(order(s), { type: "customerCancelled" }, NOW), s).to.include({ to: "CANCELLED", reason: "customer_request" });
		}
		for (const s of ["PENDING", "STOCK_RESERVED"] as const)
			expect(decide(order(s), { type: "gaveUp" }, NOW), s).to.include({ to: "CANCELLED", reason: "timeout" });
	});

	it("does not confirm a payment that arrives after the stock hold ran out", () => {
		expect(decide(order("STOCK_RESERVED", { reservationExpiresAt: EARLIER }), { type: "paymentSucceeded" }, NOW)).to.include({
			to: "CANCELLED",
			reason: "timeout",
			paymentStatus: "SUCCEEDED"
		});
	});

	it("ignores duplicates and late answers, so a repeated fact changes nothing", () => {
		const late: [OrderStatus, SagaInput][] = [
			["STOCK_RESERVED", { type: "stockReserved", expiresAt: LATER }],
			["CONFIRMED", { type: "stockReserved", expiresAt: LATER }],
			["CANCELLED", { type: "stockReserved", expiresAt: LATER }],
			["STOCK_RESERVED", { type: "stockUnavailable" }],
			["CANCELLED", { type: "stockUnavailable" }],
			["CONFIRMED", { type: "paymentSucceeded" }],
			["CANCELLED", { type: "paymentDeclined" }],
			["CONFIRMED", { type: "gaveUp" }],
			["CANCELLED", { type: "gaveUp" }]
		];
		for (const [status, input] of late)
			expect(decide(order(status, { paymentStatus: "SUCCEEDED" }), input, NOW).kind, `${status} + ${input.type}`).to.equal("ignore");
	});

	it("records a charge that reached an order already cancelled (payment refunds it itself)", () => {
		expect(decide(order("CANCELLED"), { type: "paymentSucceeded" }, NOW)).to.deep.equal({ kind: "ignore", paymentStatus: "SUCCEEDED" });
		expect(decide(order("CANCELLED", { paymentStatus: "SUCCEEDED" }), { type: "paymentRefunded" }, NOW)).to.deep.equal({
			kind: "ignore",
			paymentStatus: "REFUNDED"
		});
	});

	it("refuses to cancel a cancelled order", () => {
		expect(decide(order("CANCELLED"), { type: "customerCancelled" }, NOW)).to.deep.equal({ kind: "refuse" });
	});

	it("moves the payment status only forward", () => {
		expect(nextPaymentStatus(null, "SUCCEEDED")).to.equal("SUCCEEDED");
		expect(nextPaymentStatus("SUCCEEDED", "REFUNDED")).to.equal("REFUNDED");
		expect(nextPaymentStatus("REFUNDED", "SUCCEEDED")).to.equal(undefined);
		expect(nextPaymentStatus("DECLINED", "SUCCEEDED")).to.equal(undefined);
		expect(nextPaymentStatus("SUCCEEDED", "SUCCEEDED")).to.equal(undefined);
	});

	it("knows which step an in-flight order waits for", () => {
		expect(pendingStep("PENDING")).to.equal("order.created");
		expect(pendingStep("STOCK_RESERVED")).to.equal("order.paymentRequested");
		expect(pendingStep("CONFIRMED")).to.equal(undefined);
		expect(pendingStep("CANCELLED")).to.equal(undefined);
	});
});
