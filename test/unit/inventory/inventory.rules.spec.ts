import { expect } from "chai";
import { findShortages, judgeAdjustment, levelOf, MAX_ON_HAND, mergeLines, totalsByProduct } from "../../../services/inventory/inventory.rules";

const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";

describe("inventory rules", () => {
	it("computes available as on hand minus reserved, zeros for a product never stocked", () => {
		expect(levelOf(A, 7, 3)).to.deep.equal({ productId: A, onHand: 7, reserved: 3, available: 4 });
		expect(levelOf(A)).to.deep.equal({ productId: A, onHand: 0, reserved: 0, available: 0 });
	});

	it("sums lines naming the same product, keeping first-seen order", () => {
		expect(
			mergeLines([
				{ productId: B, quantity: 1 },
				{ productId: A, quantity: 2 },
				{ productId: B, quantity: 3 }
			])
		).to.deep.equal([
			{ productId: B, quantity: 4 },
			{ productId: A, quantity: 2 }
		]);
		expect(totalsByProduct([[{ productId: A, quantity: 1 }], [{ productId: A, quantity: 2 }]])).to.deep.equal([{ productId: A, quantity: 3 }]);
	});

	it("reports every line that cannot be covered, treating unknown products as having nothing", () => {
		const levels = new Map([[A, levelOf(A, 5, 2)]]);
		expect(findShortages([{ productId: A, quantity: 3 }], levels)).to.deep.equal([]);
		expect(
			findShortages(
				[
					{ productId: A, quantity: 4 },
					{ productId: B, quantity: 1 }
				],
				levels
			)
		).to.deep.equal([
			{ productId: A, requested: 4, available: 3 },
			{ productId: B, requested: 1, available: 0 }
		]);
	});

	it("refuses adjustments below zero, below the reserved units, or above the ceiling", () => {
		const level = levelOf(A, 5, 3);
		expect(judgeAdjustment(level, -2)).to.deep.equal({ ok: true, level: levelOf(A, 3, 3) });
		expect(judgeAdjustment(level, -3)).to.deep.equal({ ok: false, reason: "STOCK_BELOW_RESERVED" });
		expect(judgeAdjustment(level, -6)).to.deep.equal({ ok: false, reason: "NEGATIVE_STOCK" });
		expect(judgeAdjustment(levelOf(A, MAX_ON_HAND, 0), 1)).to.deep.equal({ ok: false, reason: "STOCK_LIMIT_EXCEEDED" });
	});
});
