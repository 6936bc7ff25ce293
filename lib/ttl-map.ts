import { LRUCache } from "lru-cache";

/** A source of milliseconds for expiry; tests pass a fake one (it must not answer 0). */
export interface Clock {
	now(): number;
}

/** lru-cache's options for an injected clock: read it on every check instead of once per millisecond. */
export function clockOptions(clock: Clock | undefined): { perf?: Clock; ttlResolution?: number } {
	return clock ? { perf: clock, ttlResolution: 0 } : {};
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? "");

/**
 * A map whose entries expire, bounded by entries and by bytes (key length plus `sizeOf(value)`): the least
 * recently used go first. For the gateway's small caches, whose keys come from requests (an access token
 * may be 8 kB) and so must not grow without bound.
 */
export class TtlMap<V extends NonNullable<unknown>> {
	private readonly entries: LRUCache<string, V>;

	constructor(maxEntries: number, maxBytes: number, sizeOf: (value: V) => number = jsonBytes, clock?: Clock) {
		this.entries = new LRUCache<string, V>({
			max: maxEntries,
			maxSize: maxBytes,
			sizeCalculation: (value, key) => Math.max(1, key.length + sizeOf(value)),
			...clockOptions(clock)
		});
	}

	/** The value under `key`, if there is one and it has not expired (it becomes the most recently used). */
	get(key: string): V | undefined {
		return this.entries.get(key);
	}

	/** Keeps `value` for `ttlMs` (nothing is kept for a lifetime of 0 or less, nor an entry above `maxBytes`). */
	set(key: string, value: V, ttlMs: number): void {
		if (!(ttlMs > 0)) {
			this.entries.delete(key);
			return;
		}
		this.entries.set(key, value, { ttl: Math.ceil(ttlMs) });
	}

	clear(): void {
		this.entries.clear();
	}

	/** Drops every entry whose value matches. */
	deleteWhere(matches: (value: V) => boolean): void {
		// the keys first: the cache is not changed while its own iterator walks it
		const doomed = [...this.entries.entries()].filter(([, value]) => matches(value)).map(([key]) => key);
		for (const key of doomed) this.entries.delete(key);
	}

	get size(): number {
		return this.entries.size;
	}

	/** The bytes the entries count for (keys and values). */
	get bytes(): number {
		return this.entries.calculatedSize;
	}
}
