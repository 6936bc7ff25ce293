/** A small HTTP client for the e2e tests: real requests to the real gateway. */
export interface HttpResponse<T = any> {
	status: number;
	headers: Headers;
	body: T;
}

export interface RequestOptions {
	body?: unknown;
	/** Sent as-is (for malformed or oversized bodies). */
	rawBody?: string;
	token?: string;
	headers?: Record<string, string>;
}

export function httpClient(baseUrl: string) {
	return async function request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse<T>> {
		const headers: Record<string, string> = { ...opts.headers };
		let body: string | undefined;
		if (opts.rawBody !== undefined) {
			body = opts.rawBody;
			headers["content-type"] ??= "application/json";
		} else if (opts.body !== undefined) {
			body = JSON.stringify(opts.body);
			headers["content-type"] = "application/json";
		}
		if (opts.token) headers.authorization = `Bearer ${opts.token}`;
		const res = await fetch(baseUrl + path, { method, headers, body });
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : undefined;
		} catch {
			// not JSON: keep the text
		}
		return { status: res.status, headers: res.headers, body: parsed as T };
	};
}
