import { expect } from "chai";
import { TtlMap } from "../../../lib/ttl-map";

describe("TtlMap", () => {
	it("answers a value until its lifetime ends, and keeps nothing for a lifetime of 0 or less", () => {
		const m = new TtlMap<string>(10);
		m.set("a", "1", 1_000, 0);
		expect(m.get("a", 999)).to.equal("1");
		expect(m.get("a", 1_000)).to.equal(undefined);
		m.set("b", "2", 0, 0);
		m.set("c", "3", -5, 0);
		expect(m.size).to.equal(0);
	});

	it("holds at most its limit, dropping the oldest first", () => {
		const m = new TtlMap<number>(2);
		m.set("a", 1, 1_000, 0);
		m.set("b", 2, 1_000, 0);
		m.set("a", 10, 1_000, 0); // set again: now the newest
		m.set("c", 3, 1_000, 0);
		expect([m.get("a", 1), m.get("b", 1), m.get("c", 1)]).to.deep.equal([10, undefined, 3]);
	});
});
