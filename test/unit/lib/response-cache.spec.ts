import { expect } from "chai";
import { ResponseCache } from "../../../lib/response-cache";

const body = (s: string) => Buffer.from(s);
const JSON_TYPE = "application/json; charset=utf-8";

describe("ResponseCache (the gateway's kept responses)", () => {
	it("answers a kept response until its lifetime ends", () => {
		const cache = new ResponseCache();
		cache.set("/api/products?page=1", body("[1]"), JSON_TYPE, 60, cache.current, 1_000);
		expect(cache.get("/api/products?page=1", 60_999)?.body.toString()).to.equal("[1]");
		expect(cache.get("/api/products?page=1", 61_000)).to.equal(undefined);
		expect(cache.size).to.equal(0);
	});

	it("drops everything on invalidation, and does not keep a response computed before it", () => {
		const cache = new ResponseCache();
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

	it("holds at most its limit of entries, the oldest going first, and no oversized bodies", () => {
		const cache = new ResponseCache(2, 10);
		cache.set("/1", body("1"), JSON_TYPE, 60, cache.current);
		cache.set("/2", body("2"), JSON_TYPE, 60, cache.current);
		cache.set("/3", body("3"), JSON_TYPE, 60, cache.current);
		expect([cache.get("/1"), cache.get("/2")?.body.toString(), cache.get("/3")?.body.toString()]).to.deep.equal([undefined, "2", "3"]);
		cache.set("/big", body("x".repeat(11)), JSON_TYPE, 60, cache.current);
		expect(cache.get("/big")).to.equal(undefined);
		expect(cache.size).to.equal(2);
	});
});
