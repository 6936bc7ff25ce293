import http from "node:http";

/** A small keep-alive JSON client for the set-up steps and the checkout load (lighter than fetch). */

export interface Reply<T = any> {
	status: number;
	body: T;
	headers: http.IncomingHttpHeaders;
	/** Milliseconds from sending the request to the end of the response. */
	ms: number;
}

export class HttpError extends Error {
	constructor(
		message: string,
		readonly status: number,
		readonly body: unknown
	) {
		super(message);
	}
}

export function client(baseUrl: string, maxSockets = 256) {
	const url = new URL(baseUrl);
	const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
	function request<T = any>(
		method: string,
		path: string,
		opts: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}
	): Promise<Reply<T>> {
		const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
		const headers: Record<string, string | number> = { accept: "application/json", ...(opts.headers ?? {}) };
		if (payload) {
			headers["content-type"] = "application/json";
			headers["content-length"] = payload.length;
		}
		if (opts.token) headers.authorization = `Bearer ${opts.token}`;
		const started = performance.now();
		const attempt = (retry: boolean): Promise<Reply<T>> =>
			new Promise((resolve, reject) => {
				const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent }, res => {
					const chunks: Buffer[] = [];
					res.on("data", c => chunks.push(c));
					res.on("end", () => {
						const text = Buffer.concat(chunks).toString();
						let body: unknown = text;
						try {
							body = text ? JSON.parse(text) : undefined;
						} catch {
							// not JSON: keep the text
						}
						resolve({ status: res.statusCode ?? 0, body: body as T, headers: res.headers, ms: performance.now() - started });
					});
					res.on("error", reject);
				});
				req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
				req.on("error", err => {
					// A kept-alive socket the server closed for idleness just as it was reused: the request never reached
					// the server, so it goes once more on a new socket (node's documented pattern, `req.reusedSocket`).
					if (retry && req.reusedSocket && (err as NodeJS.ErrnoException).code === "ECONNRESET") resolve(attempt(false));
					else reject(err);
				});
				req.end(payload);
			});
		return attempt(true);
	}
	/** The same request, but a status other than `expected` throws. */
	async function expect<T = any>(expected: number, method: string, path: string, opts: Parameters<typeof request>[2] = {}): Promise<Reply<T>> {
		const reply = await request<T>(method, path, opts);
		if (reply.status !== expected)
			throw new HttpError(`${method} ${path}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`, reply.status, reply.body);
		return reply;
	}
	return { request, expect, close: () => agent.destroy(), baseUrl };
}

export type Client = ReturnType<typeof client>;
