import { LRUCache } from "lru-cache";
import { Cachers, type ServiceBroker } from "moleculer";
import { deepFreeze, jsonOf } from "./cache";
import type { CacheConfig } from "./config";
import { CACHE_METRICS, defineMetrics, metricsEnabled, type MetricHandle } from "./metrics";

/** The bytes an answer takes in the cache, by its JSON (at least 1: lru-cache refuses a size of 0). */
function answerBytes(value: unknown): number {
	const json = jsonOf(value);
	const bytes = json === undefined ? 0 : typeof json === "string" ? Buffer.byteLength(json) : json.length;
	return Math.max(1, bytes);
}

/**
 * Moleculer's memory cacher, bounded by entries and by bytes: the least recently used answers go first.
 * Cache keys come from requests (a listing's query string), so an unbounded cache is memory any client can
 * fill. The size of an answer is its JSON, which `jsonOf` keeps with the frozen answer: the gateway sends
 * the same bytes, so measuring costs no extra serialisation.
 *
 * Answers are frozen when stored (`clone: deepFreeze`; the cacher also runs it on every hit, where a frozen
 * answer passes untouched): a caller that changes a cached result fails instead of changing it for everyone.
 */
export class BoundedCacher extends Cachers.MemoryLRU {
	/** Moleculer's MemoryLRUCacher keeps its entries here (undeclared in its typings). */
	declare cache: LRUCache<string, NonNullable<unknown>>;

	/** Hits, misses and evictions (no-ops with METRICS=off). */
	private shopMetrics?: Record<keyof typeof CACHE_METRICS, MetricHandle>;

	constructor(bounds: CacheConfig, opts: Cachers.MemoryLRU.MemoryLRUCacherOptions = {}) {
		super({ clone: deepFreeze, ...opts, max: bounds.maxEntries });
		// the same cache MemoryLRUCacher builds, plus the bound on bytes; a set passes its own `{ ttl }`
		this.cache = new LRUCache<string, NonNullable<unknown>>({
			max: bounds.maxEntries,
			maxSize: bounds.maxBytes,
			sizeCalculation: (value, key) => answerBytes(value) + key.length,
			ttl: this.opts.ttl ? this.opts.ttl * 1000 : undefined,
			updateAgeOnGet: !!this.opts.ttl,
			dispose: (_value, _key, reason) => {
				if (reason === "evict") this.shopMetrics?.evictions.inc({ cache: "actions" });
			}
		});
	}

	override init(broker: ServiceBroker): void {
		super.init(broker);
		if (metricsEnabled(broker)) this.shopMetrics = defineMetrics(broker, CACHE_METRICS);
	}

	override get(key: string): Promise<Record<string, unknown> | null> {
		const found = super.get(key);
		const m = this.shopMetrics;
		if (!m) return found;
		return found.then(value => {
			m.lookups.inc({ cache: "actions", result: value === null || value === undefined ? "miss" : "hit" });
			return value;
		});
	}
}
