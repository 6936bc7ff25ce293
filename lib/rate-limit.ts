import { LRUCache } from "lru-cache";
import type { RateRule } from "./config";

/**
 * Per-client rate limits, shared by every gateway of a cluster.
 *
 * Each gateway decides on its own, at once and in memory (no round trip per request), from what it knows:
 * the hits every gateway reported to the shared store for the client's current window, plus its own hits not
 * reported yet. Every `syncMs` it reports its new hits in one statement and learns the totals back. So one
 * gateway limits exactly, and N gateways let at most N sync intervals' worth of extra requests through.
 *
 * The window slides: the previous window's total counts in proportion to how much of it still lies within the
 * last `windowSeconds`, so a client cannot send twice its limit around a window's edge.
 */

export interface RateHit {
	key: string;
	window: number;
	hits: number;
	/** When the store may forget the row (the end of the next window). */
	expiresAt: Date;
}

/** Where the gateways add up their hits (PostgreSQL; see services/gateway/gateway.rate-limits.ts). */
export interface RateStore {
	/** Adds `hits` to each row and answers each row's new total. */
	add(hits: RateHit[]): Promise<RateTotal[]>;
	/** The totals of these rows, as far as they exist. */
	totals(rows: { key: string; window: number }[]): Promise<RateTotal[]>;
}

export interface RateTotal {
	key: string;
	window: number;
	hits: number;
}

interface Counts {
	window: number;
	/** Hits of the current window every gateway reported, as of our last report. */
	shared: number;
	/** Our hits in the current window that the store has not confirmed yet. */
	local: number;
	/** The previous window's total. */
	previous: number;
}

export class RateLimiter {
	private readonly counts: LRUCache<string, Counts>;
	/** Hits taken since the last report, by `key|window`. */
	private unreported = new Map<string, RateHit>();

	constructor(
		readonly name: string,
		private readonly rule: RateRule,
		/** Clients tracked at once; the least recently seen are forgotten first. */
		maxClients = 100_000
	) {
		this.counts = new LRUCache({ max: maxClients });
	}

	/** Counts a request of `client`; answers 0 when it may go on, else the seconds until it may. */
	take(client: string, now = Date.now()): number {
		const key = `${this.name}|${client}`;
		const windowMs = this.rule.windowSeconds * 1000;
		const window = Math.floor(now / windowMs);
		let c = this.counts.get(key);
		if (!c || c.window < window - 1) c = { window, shared: 0, local: 0, previous: 0 };
		else if (c.window === window - 1) c = { window, shared: 0, local: 0, previous: c.shared + c.local };
		const into = (now % windowMs) / windowMs;
		const current = c.shared + c.local;
		if (c.previous * (1 - into) + current >= this.rule.limit) {
			this.counts.set(key, c);
			return retryAfterSeconds(this.rule, c, into);
		}
		c.local++;
		this.counts.set(key, c);
		const id = `${key}|${window}`;
		const hit = this.unreported.get(id);
		if (hit) hit.hits++;
		else this.unreported.set(id, { key, window, hits: 1, expiresAt: new Date((window + 2) * windowMs) });
		return 0;
	}

	/**
	 * Reports the hits taken since the last report and learns every gateway's totals back. A client at half its
	 * limit or more that sent nothing here since the last report has its total looked up as well: other gateways
	 * may be taking its last requests.
	 */
	async sync(store: RateStore, now = Date.now()): Promise<void> {
		const batch = [...this.unreported.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.window - b.window));
		this.unreported = new Map();
		const sent = new Map(batch.map(h => [`${h.key}|${h.window}`, h.hits]));
		const window = Math.floor(now / (this.rule.windowSeconds * 1000));
		const watched: { key: string; window: number }[] = [];
		for (const [key, c] of this.counts.entries()) {
			if (c.window === window && c.shared + c.local >= this.rule.limit / 2 && !sent.has(`${key}|${window}`)) watched.push({ key, window });
		}
		const totals = [...(batch.length > 0 ? await store.add(batch) : []), ...(watched.length > 0 ? await store.totals(watched) : [])];
		for (const t of totals) {
			const c = this.counts.peek(t.key);
			if (!c || c.window !== t.window) continue;
			c.shared = t.hits;
			c.local = Math.max(0, c.local - (sent.get(`${t.key}|${t.window}`) ?? 0));
		}
	}

	get clients(): number {
		return this.counts.size;
	}
}

/** Seconds until the estimate falls below the limit: the previous window's share decays as time passes. */
function retryAfterSeconds(rule: RateRule, c: Counts, into: number): number {
	const current = c.shared + c.local;
	const windowSeconds = rule.windowSeconds;
	const left = (1 - into) * windowSeconds;
	if (current >= rule.limit || c.previous === 0) return Math.max(1, Math.ceil(left));
	// previous * (1 - x) + current < limit  <=>  x > 1 - (limit - current) / previous
	const at = 1 - (rule.limit - current) / c.previous;
	return Math.max(1, Math.ceil((at - into) * windowSeconds));
}
