import { expect } from "chai";
import { TtlMap } from "../../../lib/ttl-map";

/** A clock the test moves by hand (lru-cache treats a start time of 0 as "no lifetime": start later). */
const fakeClock = () => ({
	t: 1_000,
	now() {
		return this.t;
	}
});
const MB = 1024 * 1024;

describe("TtlMap (the gateway's kept access tokens)", () => {
	it("answers a value until its lifetime ends, and keeps nothing for a lifetime of 0 or less", () => {
		const clock = fakeClock();
		const m = new TtlMap<string>(10, MB, undefined, clock);
		m.set("a", "1", 1_000);
		clock.t += 1_000;
		expect(m.get("a")).to.equal("1");
		clock.t += 1;
		expect(m.get("a")).to.equal(undefined);
		m.set("b", "2", 0);
		m.set("c", "3", -5);
		expect(m.size).to.equal(0);
	});

	it("holds at most its limit of entries, and a recently read entry outlives older unread ones", () => {
		const m = new TtlMap<number>(2, MB);
		m.set("a", 1, 60_000);
		m.set("b", 2, 60_000);
		expect(m.get("a")).to.equal(1); // read: now the most recently used
		m.set("c", 3, 60_000);
		expect([m.get("a"), m.get("b"), m.get("c")]).to.deep.equal([1, undefined, 3]);
		expect(m.size).to.equal(2);
	});

	it("holds at most its limit of bytes, counting keys (an access token may be 8 kB), and refuses an entry above it", () => {
		const token = (c: string) => c.repeat(8 * 1024);
		const m = new TtlMap<{ id: string }>(10_000, 20 * 1024);
		m.set(token("a"), { id: "a" }, 60_000);
		m.set(token("b"), { id: "b" }, 60_000);
		expect(m.get(token("a"))).to.deep.equal({ id: "a" });
		m.set(token("c"), { id: "c" }, 60_000); // a third 8 kB key does not fit: the least recently used (b) goes
		expect([m.get(token("a"))?.id, m.get(token("b")), m.get(token("c"))?.id]).to.deep.equal(["a", undefined, "c"]);
		expect(m.bytes).to.be.at.most(20 * 1024);
		m.set("x".repeat(21 * 1024), { id: "x" }, 60_000);
		expect(m.size).to.equal(2);
	});

	it("forgets everything on clear", () => {
		const m = new TtlMap<number>(10, MB);
		m.set("a", 1, 60_000);
		m.clear();
		expect([m.get("a"), m.size, m.bytes]).to.deep.equal([undefined, 0, 0]);
	});
});
