/**
 * The broker's memory cacher hands the same stored answer to every caller. Copying it on every hit (the
 * cacher's `clone: true`) protects the cache from a caller that changes its answer, at the price of a deep
 * copy per read. Freezing the answer once, when it is stored, gives the same protection for free on every
 * hit: a caller that writes to it fails loudly (TypeError in strict code) instead of changing the answer
 * for everyone else. Answers are plain JSON-shaped data (they also cross the transporter as JSON).
 */
export function deepFreeze<T>(value: T): T {
	// a stored answer is frozen already: this is the whole cost of a hit
	if (value === null || typeof value !== "object" || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
	Object.freeze(value);
	for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
	return value;
}

/**
 * Serialised JSON of frozen (hence cached, unchangeable) answers, so a read served from the cache is not
 * serialised again on every request. Keyed weakly: an answer dropped from the cache takes its JSON with it.
 */
const serialised = new WeakMap<object, Buffer>();

/** The JSON of `data` as UTF-8; computed once per frozen object, every time for anything else. */
export function jsonOf(data: unknown): Buffer | string {
	if (data === null || typeof data !== "object" || !Object.isFrozen(data)) return JSON.stringify(data);
	let json = serialised.get(data);
	if (!json) {
		json = Buffer.from(JSON.stringify(data), "utf8");
		serialised.set(data, json);
	}
	return json;
}
