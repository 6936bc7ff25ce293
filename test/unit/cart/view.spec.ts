import { expect } from "chai";
import { buildCartView } from "../../../services/cart/cart.view";
import type { ProductDto } from "../../../services/catalog/catalog.types";

function product(id: string, priceCents: number, active = true): ProductDto {
	return {
		id,
		sku: `SKU-${id}`,
		name: `Product ${id}`,
		description: "",
		priceCents,
		currency: "BRL",
		category: "Test",
		imageUrl: null,
		active,
		createdAt: "2026-01-01T00:00:00.000Z",
		updatedAt: "2026-01-01T00:00:00.000Z"
	};
}

describe("buildCartView", () => {
	it("prices each line at the current catalog price and totals in integer cents", () => {
		const view = buildCartView(
			[
				{ productId: "a", quantity: 3 },
				{ productId: "b", quantity: 1 }
			],
			[product("b", 10), product("a", 333)],
			[{ productId: "a", onHand: 9, reserved: 2, available: 7 }],
			"BRL"
		);
		expect(view.items.map(i => [i.productId, i.lineTotalCents, i.available])).to.deep.equal([
			["a", 999, 7],
			["b", 10, 0]
		]);
		expect(view.totalCents).to.equal(1009);
		expect(view.currency).to.equal("BRL");
	});

	it("leaves out lines whose product is archived or gone", () => {
		const view = buildCartView(
			[
				{ productId: "kept", quantity: 1 },
				{ productId: "archived", quantity: 1 },
				{ productId: "gone", quantity: 1 }
			],
			[product("kept", 100), product("archived", 200, false)],
			[],
			"BRL"
		);
		expect(view.items.map(i => i.productId)).to.deep.equal(["kept"]);
		expect(view.totalCents).to.equal(100);
	});
});
