import { expect } from "chai";
import { ServiceBroker } from "moleculer";
import { BoundedCacher } from "../../../lib/bounded-cacher";
import { jsonOf } from "../../../lib/cache";

describe("BoundedCacher (the broker's cache of action answers)", () => {
	let broker: ServiceBroker;
	let cacher: BoundedCacher;
	const start = (maxEntries: number, maxBytes: number) => {
		cacher = new BoundedCacher({ maxEntries, maxBytes });
		broker = new ServiceBroker({ logger: false, cacher });
	};
	afterEach(() => broker?.stop());

	it("freezes an answer when it is stored and hands out that same answer", async () => {
		start(10, 1024 * 1024);
		await cacher.set("catalog.get:a", { id: "a", tags: ["x"] }, 60);
		const hit = (await cacher.get("catalog.get:a")) as { id: string; tags: string[] };
		expect(Object.isFrozen(hit) && Object.isFrozen(hit.tags)).to.equal(true);
		expect(await cacher.get("catalog.get:a")).to.equal(hit);
	});

	it("holds at most its limit of entries, and a recently read entry outlives older unread ones", async () => {
		start(2, 1024 * 1024);
		await cacher.set("k1", { n: 1 }, 60);
		await cacher.set("k2", { n: 2 }, 60);
		await cacher.get("k1");
		await cacher.set("k3", { n: 3 }, 60);
		expect([await cacher.get("k1"), await cacher.get("k2"), await cacher.get("k3")]).to.deep.equal([{ n: 1 }, undefined, { n: 3 }]);
	});

	it("holds at most its limit of bytes, by each answer's JSON and key, and keeps no answer larger than that", async () => {
		start(1000, 10 * 1024);
		const answer = (n: number) => ({ n, text: "x".repeat(3 * 1024) });
		for (let n = 1; n <= 3; n++) await cacher.set(`k${n}`, answer(n), 60);
		const stored = await cacher.get("k1");
		expect(cacher.cache.calculatedSize).to.equal(3 * ((jsonOf(stored) as Buffer).length + 2));
		await cacher.set("k4", answer(4), 60); // a fourth does not fit: k2, the least recently used, goes
		expect([await cacher.get("k1"), await cacher.get("k2"), await cacher.get("k4")].map(a => a !== undefined)).to.deep.equal([true, false, true]);
		expect(cacher.cache.calculatedSize).to.be.at.most(10 * 1024);
		await cacher.set("huge", { text: "x".repeat(11 * 1024) }, 60);
		expect(await cacher.get("huge")).to.equal(undefined);
		expect(cacher.cache.size).to.equal(3);
	});

	it("stores answers of every shape, null and strings included", async () => {
		start(10, 1024);
		await cacher.set("null", null, 60);
		await cacher.set("text", "plain", 60);
		expect(cacher.cache.size).to.equal(2);
		expect(await cacher.get("null")).to.equal(null); // a miss answers undefined
		expect(await cacher.get("text")).to.equal("plain");
	});

	it("expires an entry after the ttl it was stored with", async () => {
		// lru-cache reads its clock from `performance.now()` (its `perf` option, which BoundedCacher leaves at
		// the default): moved 80 ms on here instead of waiting them out
		const now = performance.now;
		let ahead = 0;
		performance.now = () => now.call(performance) + ahead;
		try {
			start(10, 1024 * 1024);
			await cacher.set("short", { n: 1 }, 0.05);
			await cacher.set("long", { n: 2 }, 60);
			ahead = 80;
			expect([await cacher.get("short"), await cacher.get("long")]).to.deep.equal([undefined, { n: 2 }]);
		} finally {
			performance.now = now;
		}
	});

	it("drops the entries a pattern matches on clean, and only those", async () => {
		start(10, 1024 * 1024);
		await cacher.set("catalog.list:[1]", { n: 1 }, 60);
		await cacher.set("catalog.get:a", { n: 2 }, 60);
		await cacher.set("identity.me:u", { n: 3 }, 60);
		await cacher.clean("catalog.**");
		expect(cacher.cache.size).to.equal(1);
		expect(await cacher.get("identity.me:u")).to.deep.equal({ n: 3 });
		expect(cacher.cache.calculatedSize).to.be.greaterThan(0);
	});
});
