/**
 * A map whose entries expire, holding at most `maxEntries` (the oldest go first). For the gateway's small
 * caches, whose keys come from requests and so must not grow without bound.
 */
export class TtlMap<V> {
	private readonly entries = new Map<string, { value: V; expiresAt: number }>();

	constructor(private readonly maxEntries: number) {}

	/** The value under `key`, if there is one and it has not expired. */
	get(key: string, now = Date.now()): V | undefined {
		const entry = this.entries.get(key);
		if (!entry) return undefined;
		if (entry.expiresAt <= now) {
			this.entries.delete(key);
			return undefined;
		}
		return entry.value;
	}

	/** Keeps `value` for `ttlMs` (nothing is kept for a lifetime of 0 or less). */
	set(key: string, value: V, ttlMs: number, now = Date.now()): void {
		if (!(ttlMs > 0)) return;
		this.entries.delete(key);
		if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
		this.entries.set(key, { value, expiresAt: now + ttlMs });
	}

	clear(): void {
		this.entries.clear();
	}

	get size(): number {
		return this.entries.size;
	}
}
