import { expect } from "chai";
import { ResponseCache } from "../../../lib/response-cache";

const body = (s: string) => Buffer.from(s);
const JSON_TYPE = "application/json; charset=utf-8";
const MB = 1024 * 1024;
/** A clock the test moves by hand (lru-cache treats a start time of 0 as "no lifetime": start later). */
const fakeClock = () => ({
	t: 1_000,
	now() {
		return this.t;
	}
});

describe("ResponseCache (the gateway's kept responses)", () => {
	it("answers a kept response until its lifetime ends", () => {
		const clock = fakeClock();
		const cache = new ResponseCache(10, MB, undefined, clock);
		cache.set("/api/products?page=1", body("[1]"), JSON_TYPE, 60, cache.current);
		clock.t += 60_000;
		expect(cache.get("/api/products?page=1")?.body.toString()).to.equal("[1]");
		clock.t += 1;
		expect(cache.get("/api/products?page=1")).to.equal(undefined);
		expect(cache.size).to.equal(0);
	});

	it("drops everything on invalidation, and does not keep a response computed before it", () => {
		const cache = new ResponseCache(10, MB);
		cache.set("/a", body("old"), JSON_TYPE, 60, cache.current);
		const before = cache.current;
		cache.clear();
		expect(cache.get("/a")).to.equal(undefined);
		// a request that was in flight across the invalidation carries an answer that may be stale
		cache.set("/b", body("maybe stale"), JSON_TYPE, 60, before);
		expect(cache.get("/b")).to.equal(undefined);
		cache.set("/b", body("fresh"), JSON_TYPE, 60, cache.current);
		expect(cache.get("/b")?.body.toString()).to.equal("fresh");
	});

	it("holds at most its limit of entries, the least recently used going first, and no oversized bodies", () => {
		const cache = new ResponseCache(2, MB, 10);
		cache.set("/1", body("1"), JSON_TYPE, 60, cache.current);
		cache.set("/2", body("2"), JSON_TYPE, 60, cache.current);
		expect(cache.get("/1")?.body.toString()).to.equal("1"); // read: now the most recently used
		cache.set("/3", body("3"), JSON_TYPE, 60, cache.current);
		expect([cache.get("/1")?.body.toString(), cache.get("/2"), cache.get("/3")?.body.toString()]).to.deep.equal(["1", undefined, "3"]);
		cache.set("/big", body("x".repeat(11)), JSON_TYPE, 60, cache.current);
		expect(cache.get("/big")).to.equal(undefined);
		expect(cache.size).to.equal(2);
	});

	it("holds at most its limit of bytes (bodies and URLs), the least recently used going first", () => {
		const kb = (c: string) => body(c.repeat(1024));
		const cache = new ResponseCache(1000, 3 * 1024 + 100);
		for (const key of ["/a", "/b", "/c"]) cache.set(key, kb(key[1]), JSON_TYPE, 60, cache.current);
		expect(cache.bytes).to.equal(3 * 1024 + 3 * 2);
		cache.get("/a");
		cache.set("/d", kb("d"), JSON_TYPE, 60, cache.current);
		expect(["/a", "/b", "/c", "/d"].map(k => cache.get(k) !== undefined)).to.deep.equal([true, false, true, true]);
		expect(cache.bytes).to.be.at.most(3 * 1024 + 100);
		// a body larger than the whole budget is not kept, and pushes nothing out
		cache.set("/huge", body("x".repeat(4 * 1024)), JSON_TYPE, 60, cache.current);
		expect([cache.get("/huge"), cache.size]).to.deep.equal([undefined, 3]);
	});
});
