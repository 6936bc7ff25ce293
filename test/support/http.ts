import { pathTemplate, validateAgainstOpenApi, type OpenApiDoc } from "./openapi";

/** A small HTTP client for the e2e tests: real requests to the real gateway. */

const documents = new Map<string, Promise<OpenApiDoc | undefined>>();
function documentOf(baseUrl: string): Promise<OpenApiDoc | undefined> {
	let doc = documents.get(baseUrl);
	if (!doc) {
		doc = fetch(`${baseUrl}/api/openapi.json`).then(
			r => (r.ok ? (r.json() as Promise<OpenApiDoc>) : undefined),
			() => undefined
		);
		documents.set(baseUrl, doc);
	}
	return doc;
}
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
		// Every answer of a documented route is held to the shop's OpenAPI document: a route that drifts from its
		// description fails the test that met it. Paths no route has (404 probes) are not routes to check.
		const bare = path.split("?")[0];
		if (bare.startsWith("/api/") && bare !== "/api/openapi.json" && !bare.startsWith("/api/docs")) {
			const doc = await documentOf(baseUrl);
			const template = doc && pathTemplate(doc, bare);
			if (doc && template && doc.paths[template][method.toLowerCase()]) validateAgainstOpenApi(doc, method, path, res.status, parsed);
		}
		return { status: res.status, headers: res.headers, body: parsed as T };
	};
}
