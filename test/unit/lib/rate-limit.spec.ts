import { expect } from "chai";
import { RateLimiter, type RateHit, type RateStore, type RateTotal } from "../../../lib/rate-limit";

/** The shared counters of several gateways, in memory. */
function memoryStore(): RateStore & { rows: Map<string, number> } {
	const rows = new Map<string, number>();
	return {
		rows,
		async add(hits: RateHit[]): Promise<RateTotal[]> {
			return hits.map(h => {
				const id = `${h.key}|${h.window}`;
				rows.set(id, (rows.get(id) ?? 0) + h.hits);
				return { key: h.key, window: h.window, hits: rows.get(id)! };
			});
		},
		async totals(wanted) {
			return wanted.filter(w => rows.has(`${w.key}|${w.window}`)).map(w => ({ ...w, hits: rows.get(`${w.key}|${w.window}`)! }));
		}
	};
}

describe("rate limits", () => {
	const rule = { limit: 10, windowSeconds: 60 };
	const start = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

	it("lets `limit` requests of a client through per window and tells the next when to come back", () => {
		const limiter = new RateLimiter("api", rule);
		for (let i = 0; i < 10; i++) expect(limiter.take("a", start + i)).to.equal(0);
		expect(limiter.take("a", start + 10)).to.equal(60);
		expect(limiter.take("b", start + 10), "another client").to.equal(0);
	});

	it("counts the previous window in proportion, so a burst at a window's edge cannot double the limit", () => {
		const limiter = new RateLimiter("api", rule);
		for (let i = 0; i < 10; i++) limiter.take("a", start + 59_000);
		// 1 s into the next window the last one still counts 59/60 of its 10: one more fits, not ten
		expect(limiter.take("a", start + 61_000)).to.equal(0);
		expect(limiter.take("a", start + 61_000)).to.be.greaterThan(0);
		// half-way, half of it counts (5), with the 1 of this window: 4 more fit
		let allowed = 0;
		for (let i = 0; i < 10; i++) if (limiter.take("a", start + 90_000) === 0) allowed++;
		expect(allowed).to.equal(4);
	});

	it("adds up every gateway's hits through the store", async () => {
		const store = memoryStore();
		const one = new RateLimiter("api", rule);
		const two = new RateLimiter("api", rule);
		for (let i = 0; i < 6; i++) expect(one.take("a", start)).to.equal(0);
		await one.sync(store, start);
		expect(two.take("a", start)).to.equal(0);
		await two.sync(store, start);
		// two has learnt of one's six: three more in all
		const allowed = [1, 2, 3, 4].map(() => two.take("a", start)).filter(r => r === 0).length;
		expect(allowed).to.equal(3);
		await two.sync(store, start);
		// one looks up a client near its limit at its next report, without new hits of its own
		await one.sync(store, start);
		expect(one.take("a", start)).to.be.greaterThan(0);
		expect([...store.rows.values()]).to.deep.equal([10]);
	});

	it("keeps limiting on its own counts when the store fails", async () => {
		const limiter = new RateLimiter("api", rule);
		for (let i = 0; i < 10; i++) limiter.take("a", start);
		const failing: RateStore = { add: () => Promise.reject(new Error("down")), totals: () => Promise.reject(new Error("down")) };
		await limiter.sync(failing, start).catch(() => undefined);
		expect(limiter.take("a", start)).to.be.greaterThan(0);
	});

	it("forgets the least recently seen clients past its bound", () => {
		const limiter = new RateLimiter("api", rule, 100);
		for (let i = 0; i < 1000; i++) limiter.take(`client-${i}`, start);
		expect(limiter.clients).to.equal(100);
	});
});
