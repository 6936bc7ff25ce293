import { expect } from "chai";
import { deepFreeze, jsonOf } from "../../../lib/cache";

describe("cached answers (lib/cache.ts)", () => {
	it("are frozen all the way down, so a caller that changes one fails instead of changing it for everyone", () => {
		const answer = deepFreeze({ items: [{ id: "a", tags: ["x"], price: { cents: 100 } }], total: 1 });
		expect(() => {
			(answer.items[0].price as { cents: number }).cents = 1;
		}).to.throw(TypeError);
		expect(() => (answer.items as unknown[]).push({})).to.throw(TypeError);
		expect(() => (answer.items[0].tags as string[]).splice(0, 1)).to.throw(TypeError);
		expect(answer.items[0].price.cents).to.equal(100);
	});

	it("pass a stored answer through untouched on every hit, and leave values that cannot be frozen alone", () => {
		const answer = deepFreeze({ a: [1, 2] });
		expect(deepFreeze(answer)).to.equal(answer);
		expect(deepFreeze(null)).to.equal(null);
		expect(deepFreeze("text")).to.equal("text");
		const bytes = Buffer.from("abc");
		expect(deepFreeze({ bytes }).bytes).to.equal(bytes);
	});

	it("are serialised once: the JSON of a frozen answer is made on first use and reused", () => {
		const answer = deepFreeze({ name: "Mug ☕", cents: 1299 });
		const first = jsonOf(answer);
		expect(Buffer.isBuffer(first)).to.equal(true);
		expect(JSON.parse(first.toString())).to.deep.equal({ name: "Mug ☕", cents: 1299 });
		expect(jsonOf(answer)).to.equal(first);
	});

	it("are not confused with answers that may still change: those are serialised every time", () => {
		const answer = { name: "Before" };
		expect(jsonOf(answer)).to.equal('{"name":"Before"}');
		answer.name = "After";
		expect(jsonOf(answer)).to.equal('{"name":"After"}');
		expect(jsonOf(42)).to.equal("42");
	});
});
