/** The part of autocannon's programmatic API the benchmark uses (the package ships no types). */
declare module "autocannon" {
	import type { EventEmitter } from "node:events";
	export interface Request {
		method?: string;
		path?: string;
		headers?: Record<string, string>;
		body?: string | Buffer;
		setupRequest?: (req: Request, context: Record<string, unknown>) => Request;
	}
	export interface Options {
		url: string;
		connections?: number;
		duration?: number;
		amount?: number;
		timeout?: number;
		method?: string;
		headers?: Record<string, string>;
		body?: string | Buffer;
		requests?: Request[];
		overallRate?: number;
	}
	export interface Histogram {
		average: number;
		p50: number;
		p99: number;
		max: number;
	}
	export interface Result {
		duration: number;
		errors: number;
		timeouts: number;
		non2xx: number;
		requests: Histogram & { total: number; sent: number };
		latency: Histogram;
		statusCodeStats: Record<string, { count: number }>;
	}
	export interface Instance extends EventEmitter, PromiseLike<Result> {
		stop(): void;
	}
	function autocannon(opts: Options): Instance;
	export default autocannon;
}
