import { LRUCache } from "lru-cache";
import { clockOptions, type Clock } from "./ttl-map";

/**
 * The gateway's cache of whole responses to cacheable public reads (the catalog's listings and products): a
 * repeated `GET /api/products?page=1` is answered from here without routing it or calling the catalog, like
 * a reverse proxy's micro-cache in front of a shop.
 *
 * What may be stored is decided by the action that answered: a GET of a published action that declares
 * `cache` keyed by its parameters only (not the caller's meta) and is public (`auth: "public"`, no
 * permission), answered 200: the same answer for every caller, so no caller ever gets an answer made for
 * someone else. It answers anonymous requests, and signed-in ones once the gateway has checked their token
 * (services/gateway/gateway.service.ts). An entry lives as long as the action's own cache
 * entry may (its `ttl`). Every entry goes at once when a service announces that its cached reads are stale
 * (`<service>.cacheInvalidated`, e.g. the catalog after an admin changed a product), and when the node
 * reconnects to the cluster (it may have missed such an announcement).
 */
export interface CachedResponse {
	body: Buffer;
	contentType: string;
}

export class ResponseCache {
	private readonly entries: LRUCache<string, CachedResponse>;
	/** Told of every lookup and of every entry dropped to stay within the bounds (the gateway's metrics). */
	onLookup?: (hit: boolean) => void;
	onEvict?: () => void;
	/** Bumped by every invalidation: a response computed before it is not stored after it. */
	private generation = 0;

	constructor(
		/** The most entries kept; the least recently used go first (distinct query strings are not unlimited memory). */
		maxEntries: number,
		/** The most bytes kept, counting each body and its key (URL). */
		maxBytes: number,
		/** Bodies larger than this are not kept. */
		private readonly maxBodyBytes = 256 * 1024,
		clock?: Clock
	) {
		this.entries = new LRUCache<string, CachedResponse>({
			max: maxEntries,
			maxSize: maxBytes,
			sizeCalculation: (response, key) => Math.max(1, response.body.length + key.length),
			dispose: (_value, _key, reason) => {
				if (reason === "evict") this.onEvict?.();
			},
			...clockOptions(clock)
		});
	}

	/** The generation a response being computed now belongs to (read when the request arrives). */
	get current(): number {
		return this.generation;
	}

	/** The stored response for `key`, if there is one and it is fresh (it becomes the most recently used). */
	get(key: string): CachedResponse | undefined {
		const hit = this.entries.get(key);
		this.onLookup?.(hit !== undefined);
		return hit;
	}

	/** Stores a response computed during `generation`, unless an invalidation came in the meantime. */
	set(key: string, body: Buffer, contentType: string, ttlSeconds: number, generation: number): void {
		if (generation !== this.generation || body.length > this.maxBodyBytes || !(ttlSeconds > 0)) return;
		this.entries.set(key, { body, contentType }, { ttl: Math.ceil(ttlSeconds * 1000) });
	}

	/** Drops every entry (any cached read may be stale). */
	clear(): void {
		this.generation++;
		this.entries.clear();
	}

	get size(): number {
		return this.entries.size;
	}

	/** The bytes the entries count for (bodies and keys). */
	get bytes(): number {
		return this.entries.calculatedSize;
	}
}
