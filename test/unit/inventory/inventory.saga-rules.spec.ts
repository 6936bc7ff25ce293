import { expect } from "chai";
import {
	answerFor,
	decideCancel,
	decideConfirm,
	findOverLimit,
	levelOf,
	MAX_LINE_QUANTITY,
	MAX_LINES,
	MAX_ON_HAND,
	type ReservationFacts
} from "../../../services/inventory/inventory.rules";
import { payloadProblems } from "../../../lib/events";
import { orderEvents } from "../../../services/order/order.events";

const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";
const ORDER = "00000000-0000-4000-8000-0000000000f1";
const EXPIRES = "2030-01-01T00:15:00.000Z";

const facts = (status: ReservationFacts["status"], shortages: ReservationFacts["shortages"] = []): ReservationFacts => ({
	orderId: ORDER,
	status,
	shortages,
	expiresAt: EXPIRES
});

describe("inventory rules for the checkout saga", () => {
	it("answers reserved, with the expiry, while the units are held or already taken", () => {
		for (const status of ["RESERVED", "COMMITTED"] as const) {
			expect(answerFor(facts(status))).to.deep.equal({ event: "inventory.reserved", data: { orderId: ORDER, expiresAt: EXPIRES } });
		}
	});

	it("answers a failed attempt with its stored shortages", () => {
		const shortages = [{ productId: A, requested: 3, available: 1 }];
		expect(answerFor(facts("FAILED", shortages))).to.deep.equal({ event: "inventory.reservationFailed", data: { orderId: ORDER, shortages } });
	});

	it("answers failed with no shortages once the units were given back, so the order cannot go on", () => {
		for (const status of ["RELEASED", "EXPIRED", "RETURNED"] as const) {
			expect(answerFor(facts(status, [{ productId: A, requested: 1, available: 0 }]))).to.deep.equal({
				event: "inventory.reservationFailed",
				data: { orderId: ORDER, shortages: [] }
			});
		}
	});

	it("commits held units on confirmation, even past their expiry, and takes given-back units again", () => {
		expect(decideConfirm("RESERVED", false)).to.equal("commit");
		expect(decideConfirm("COMMITTED", false)).to.equal("unchanged");
		expect(decideConfirm("EXPIRED", false)).to.equal("retake");
		expect(decideConfirm("RELEASED", false)).to.equal("retake");
	});

	it("never takes stock for a cancelled order, and refuses to confirm what never held anything", () => {
		expect(decideConfirm("RELEASED", true)).to.equal("cancelled");
		expect(decideConfirm("EXPIRED", true)).to.equal("cancelled");
		expect(decideConfirm("FAILED", true)).to.equal("cancelled");
		expect(decideConfirm("RETURNED", true)).to.equal("cancelled");
		expect(decideConfirm("FAILED", false)).to.equal("not-found");
		expect(decideConfirm(undefined, false)).to.equal("not-found");
	});

	it("on cancellation releases held units, returns taken ones, and remembers an order not yet reserved", () => {
		expect(decideCancel("RESERVED")).to.equal("release");
		expect(decideCancel("COMMITTED")).to.equal("return");
		expect(decideCancel(undefined)).to.equal("tombstone");
		for (const status of ["FAILED", "RELEASED", "EXPIRED", "RETURNED"] as const) expect(decideCancel(status)).to.equal("unchanged");
	});

	it("finds the first line whose return would pass the stock ceiling", () => {
		const levels = new Map([
			[A, levelOf(A, 10, 0)],
			[B, levelOf(B, MAX_ON_HAND - 2, 0)]
		]);
		expect(
			findOverLimit(
				[
					{ productId: A, quantity: 5 },
					{ productId: B, quantity: 2 }
				],
				levels
			)
		).to.equal(undefined);
		expect(
			findOverLimit(
				[
					{ productId: A, quantity: 5 },
					{ productId: B, quantity: 3 }
				],
				levels
			)
		).to.deep.equal({ level: levelOf(B, MAX_ON_HAND - 2, 0), quantity: 3 });
		// a product without a level starts from zero
		expect(findOverLimit([{ productId: "00000000-0000-4000-8000-00000000000c", quantity: 4 }], levels)).to.equal(undefined);
	});

	it("takes into its inbox only order.created lines it can reserve (the contract's schema)", () => {
		const created = orderEvents.events["order.created"];
		const validLines = (items: unknown) => payloadProblems(created, { orderId: A, userId: B, items, totalCents: 100, currency: "EUR" }).length === 0;
		expect(
			validLines([
				{ productId: A, quantity: 1 },
				{ productId: B, quantity: MAX_LINE_QUANTITY }
			])
		).to.equal(true);
		const bad: unknown[] = [
			undefined,
			[],
			[{ productId: A, quantity: 0 }],
			[{ productId: A, quantity: 1.5 }],
			[{ productId: A, quantity: "1" }],
			[{ productId: A, quantity: MAX_LINE_QUANTITY + 1 }],
			[{ productId: "not-a-uuid", quantity: 1 }],
			[null],
			Array.from({ length: MAX_LINES + 1 }, () => ({ productId: A, quantity: 1 }))
		];
		for (const items of bad) expect(validLines(items), JSON.stringify(items)).to.equal(false);
	});
});
