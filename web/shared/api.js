// @ts-check
/**
 * The pages' one way to Momentum's REST API: the same calls any client makes (README "HTTP API"), to this
 * origin's /api, JSON in and out. Every failure becomes an ApiError whose `message` is meant for a person.
 *
 * Tokens, and why (README "Storefront and admin"):
 * - the access token lives in memory only (a variable of this module): nothing on disk, gone with the tab;
 * - the refresh token lives in localStorage, so a reload or a second tab stays signed in. The API rotates it
 *   on every use and revokes its whole family when a used one comes back, so a stolen copy works at most
 *   once and then signs everyone out of that session; the pages' strict Content-Security-Policy (scripts from
 *   this origin only, no inline script) is what keeps other code from reading it;
 * - tabs share that one token, so refreshes are serialized across tabs (Web Locks) and each uses the latest
 *   stored token: two tabs never spend the same one (which the API would take for theft).
 * The API uses no cookies, so there is no CSRF to defend against.
 */

const REFRESH_KEY = "momentum.refreshToken";
/** Refresh this long before the access token expires, rather than fail a call and retry. */
const EARLY_MS = 30_000;

/** A failed call: `status` (0 when the API could not be reached), the API's `type`, and words for a person. */
export class ApiError extends Error {
	/**
	 * @param {number} status
	 * @param {{ type?: string, message?: string, data?: unknown, requestId?: string }} body
	 * @param {number} [retryAfter] seconds, from Retry-After
	 */
	constructor(status, body, retryAfter) {
		super(describe(status, body, retryAfter));
		this.name = "ApiError";
		this.status = status;
		this.type = body.type ?? "UNKNOWN";
		this.data = body.data;
		this.requestId = body.requestId;
		this.retryAfter = retryAfter;
	}

	/** For VALIDATION_ERROR: the message of each field that was wrong, by field name. */
	get fields() {
		/** @type {Record<string, string>} */
		const out = {};
		if (this.type === "VALIDATION_ERROR" && Array.isArray(this.data)) {
			for (const p of this.data) if (p && typeof p.field === "string") out[p.field] = String(p.message ?? "is not valid");
		}
		return out;
	}
}

/**
 * Words for a person. The API's messages are written for people already; these cover what has no message of
 * its own (the network, a busy or starting shop) and what reads better said another way.
 * @param {number} status
 * @param {{ type?: string, message?: string, data?: unknown }} body
 * @param {number} [retryAfter]
 */
function describe(status, body, retryAfter) {
	const wait = retryAfter ? ` Try again in ${retryAfter} second${retryAfter === 1 ? "" : "s"}.` : " Try again in a moment.";
	switch (body.type) {
		case "NETWORK":
			return "The shop cannot be reached. Check your connection and try again.";
		case "TOO_MANY_REQUESTS":
			return `Too many requests from here.${wait}`;
		case "SERVICE_UNAVAILABLE":
		case "SERVICE_NOT_AVAILABLE":
		case "DATABASE_UNAVAILABLE":
			return `This part of the shop is unavailable right now.${wait}`;
		case "REQUEST_TIMEOUT":
			return "The shop took too long to answer. Try again.";
		case "INVALID_TOKEN":
		case "INVALID_REFRESH_TOKEN":
		case "UNAUTHENTICATED":
			return "Please sign in (again) to continue.";
		case "FORBIDDEN":
			return "Your account is not allowed to do this.";
		case "VALIDATION_ERROR":
			if (Array.isArray(body.data) && body.data.length > 0)
				return body.data.map(p => String(p?.message ?? `${p?.field} is not valid`)).join(" ");
	}
	if (body.message) return body.message;
	if (status >= 500) return "Something went wrong on our side. Try again in a moment.";
	return "That did not work. Check what you entered and try again.";
}

let accessToken = /** @type {string | undefined} */ (undefined);
let accessExpiresAt = 0;
/** The refresh in flight in this tab, shared by every call that needs it. */
let refreshing = /** @type {Promise<boolean> | undefined} */ (undefined);
/** @type {Set<() => void>} */
const signedOutListeners = new Set();

function storedRefreshToken() {
	try {
		return localStorage.getItem(REFRESH_KEY) ?? undefined;
	} catch {
		return undefined;
	}
}

/** @param {string | undefined} token */
function storeRefreshToken(token) {
	try {
		if (token) localStorage.setItem(REFRESH_KEY, token);
		else localStorage.removeItem(REFRESH_KEY);
	} catch {
		// storage refused (private mode): the session lasts as long as the page
	}
}

/** @param {{ accessToken: string, refreshToken: string, expiresIn: number }} pair */
export function useTokens(pair) {
	accessToken = pair.accessToken;
	accessExpiresAt = Date.now() + pair.expiresIn * 1000;
	storeRefreshToken(pair.refreshToken);
}

/** Forgets both tokens (this tab and the stored one). */
export function forgetTokens() {
	accessToken = undefined;
	accessExpiresAt = 0;
	storeRefreshToken(undefined);
}

/** True when this tab holds an access token or could get one. */
export function hasSession() {
	return accessToken !== undefined || storedRefreshToken() !== undefined;
}

/** Called when the session ends without the person asking (refresh refused): pages show the sign-in. */
export function onSignedOut(/** @type {() => void} */ fn) {
	signedOutListeners.add(fn);
	return () => signedOutListeners.delete(fn);
}

/** Swaps the stored refresh token for a new pair; false when there is none or the API refused it. */
function refresh() {
	if (!refreshing) {
		const run = async () => {
			const token = storedRefreshToken();
			if (!token) return false;
			const res = await send("POST", "/auth/refresh", { refreshToken: token }, undefined, undefined);
			if (res.ok) {
				useTokens(await res.json());
				return true;
			}
			// another tab may have rotated it meanwhile: then the stored one differs, and is worth one more try
			if (res.status === 401 && storedRefreshToken() === token) {
				forgetTokens();
				for (const fn of signedOutListeners) fn();
			}
			return false;
		};
		const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
		/** @type {Promise<boolean>} */
		const done = locks ? /** @type {Promise<boolean>} */ (/** @type {unknown} */ (locks.request(REFRESH_KEY, run))) : run();
		refreshing = done.finally(() => {
			refreshing = undefined;
		});
	}
	return refreshing;
}

/**
 * @param {string} method
 * @param {string} path under /api
 * @param {unknown} body
 * @param {string | undefined} token
 * @param {string | undefined} idempotencyKey
 */
function send(method, path, body, token, idempotencyKey) {
	/** @type {Record<string, string>} */
	const headers = { Accept: "application/json" };
	if (body !== undefined) headers["Content-Type"] = "application/json";
	if (token) headers.Authorization = `Bearer ${token}`;
	if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
	return fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
}

/**
 * Calls the API. `query` values that are undefined, null or "" are left out. Signed in, the call carries the
 * access token, refreshed first when it is about to expire, and retried once after a refresh when the API
 * answers 401 to it.
 * @template T
 * @param {string} method
 * @param {string} path under /api, e.g. "/products"
 * @param {{ body?: unknown, query?: Record<string, unknown>, idempotencyKey?: string, anonymous?: boolean }} [opts]
 * @returns {Promise<T>}
 */
export async function api(method, path, opts = {}) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
	const url = q.size > 0 ? `${path}?${q}` : path;
	const signed = !opts.anonymous && hasSession();
	if (signed && (!accessToken || Date.now() > accessExpiresAt - EARLY_MS)) await refresh().catch(() => false);
	/** @type {Response} */
	let res;
	try {
		res = await send(method, url, opts.body, opts.anonymous ? undefined : accessToken, opts.idempotencyKey);
		if (res.status === 401 && signed && (await refresh().catch(() => false))) res = await send(method, url, opts.body, accessToken, opts.idempotencyKey);
	} catch {
		throw new ApiError(0, { type: "NETWORK" });
	}
	if (res.status === 204) return /** @type {T} */ (undefined);
	const text = await res.text();
	let json;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = undefined;
	}
	if (!res.ok) {
		const retry = Number(res.headers.get("Retry-After"));
		throw new ApiError(res.status, json && typeof json === "object" ? json : {}, Number.isFinite(retry) && retry > 0 ? retry : undefined);
	}
	return json;
}

/** A new Idempotency-Key for one intended action (an order placed once however often it is sent). */
export function newIdempotencyKey() {
	return crypto.randomUUID();
}

/**
 * Signs in: keeps the token pair and answers the user.
 * @param {string} email
 * @param {string} password
 */
export async function login(email, password) {
	const result = await api("POST", "/auth/login", { body: { email, password }, anonymous: true });
	useTokens(result);
	return result.user;
}

/** Signs out: ends the session on the server (best effort) and forgets the tokens here. */
export async function logout() {
	const token = storedRefreshToken();
	if (token) await api("POST", "/auth/logout", { body: { refreshToken: token } }).catch(() => undefined);
	forgetTokens();
}

/**
 * The signed-in user with their permissions (GET /auth/me), or null when no one is signed in.
 * @returns {Promise<null | { id: string, email: string, name: string, phone: string | null, role: string, emailVerified: boolean, permissions: string[] }>}
 */
export async function currentUser() {
	if (!hasSession()) return null;
	try {
		const { user } = await api("GET", "/auth/me");
		return user;
	} catch (err) {
		if (err instanceof ApiError && err.status === 401) {
			forgetTokens();
			return null;
		}
		throw err;
	}
}
