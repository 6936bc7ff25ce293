import autocannon, { type Request } from "autocannon";
import { summarize, type LatencySummary } from "./stats";

/**
 * A closed-loop HTTP load with autocannon's programmatic API: `connections` clients, each sending its
 * next request as soon as the previous one answered, for `seconds`. Latencies are recorded here with
 * sub-millisecond resolution (autocannon's own histogram rounds to whole milliseconds, too coarse for
 * cached reads on loopback).
 */

export interface LoadResult {
	/** 2xx responses per second. */
	rps: number;
	latency: LatencySummary;
	ok: number;
	non2xx: number;
	errors: number;
	seconds: number;
	statusCodes: Record<string, number>;
}

export interface LoadOptions {
	url: string;
	connections: number;
	seconds: number;
	requests?: Request[];
	method?: string;
	headers?: Record<string, string>;
	body?: string;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
	const latencies: number[] = [];
	const statusCodes: Record<string, number> = {};
	let ok = 0;
	let non2xx = 0;
	// autocannon takes an option given as undefined for a value: only pass what is set
	const instance = autocannon({
		url: opts.url,
		connections: opts.connections,
		duration: opts.seconds,
		timeout: 30,
		...(opts.requests ? { requests: opts.requests } : {}),
		...(opts.method ? { method: opts.method } : {}),
		...(opts.headers ? { headers: opts.headers } : {}),
		...(opts.body ? { body: opts.body } : {})
	});
	instance.on("response", (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
		statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
		if (statusCode >= 200 && statusCode < 300) {
			ok++;
			latencies.push(ms);
		} else {
			non2xx++;
		}
	});
	const result = await instance;
	const seconds = result.duration || opts.seconds;
	return { rps: ok / seconds, latency: summarize(latencies), ok, non2xx, errors: result.errors, seconds, statusCodes };
}
