import crypto from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, ListenOptions } from "node:net";
import type { Server } from "node:http";
import type { Context, Service, ServiceSchema } from "moleculer";
import ApiGateway, { type ApiSettingsSchema } from "moleculer-web";
import { checkAccess, isPublic, type ActionAccess } from "../identity/identity.access";
import jwt from "jsonwebtoken";
import { LRUCache } from "lru-cache";
import { deepFreeze, jsonOf } from "../../lib/cache";
import { ResponseCache } from "../../lib/response-cache";
import { TtlMap } from "../../lib/ttl-map";
import type { AppConfig } from "../../app/config";
import { addressKey, ClientAddresses } from "../../lib/client-address";
import { ServiceDatabase } from "../../lib/database";
import { TooManyRequestsError, UnauthenticatedError } from "../../lib/errors";
import { isWarmingUp, readiness } from "../../lib/health";
import { Pump } from "../../lib/pump";
import { RateLimiter } from "../../lib/rate-limit";
import type { AccessChangedEvent, AuthUser, CallerMeta, SessionsEndedEvent } from "../identity/identity.types";
import { gatewayMigrations } from "./gateway.migrations";
import { pages as shopPages } from "./gateway.pages";
import { apiReference } from "./gateway.reference";
import { PgRateStore } from "./gateway.rate-limits";
import { GATEWAY_METRICS, methodLabel } from "./gateway.metrics";
import { CACHE_METRICS, defineMetrics, metricsEnabled, statusClass, type MetricHandle } from "../../lib/metrics";

/**
 * The REST gateway: routes `/api/*` to published actions, resolves the Bearer token into
 * `ctx.meta.user`, enforces each action's declared access, and shapes every error the same way.
 * No business rules live here.
 */

type Req = IncomingMessage & {
	$action?: ActionAccess & { name?: string; cache?: boolean | { ttl?: number; keys?: string[] } };
	$params?: unknown;
	$ctx?: Context<unknown, CallerMeta & { $responseHeaders?: unknown; $location?: string }>;
	originalUrl?: string;
	/** The response cache's generation when the request arrived (set for requests whose answer may be kept). */
	$cacheGeneration?: number;
	/** The client's address (X-Forwarded-For believed only from TRUSTED_PROXIES). */
	$clientIp?: string;
	socket: { remoteAddress?: string };
};

interface GatewayVars {
	server: Server;
	responses: ResponseCache;
	/** Access tokens identity has resolved, so a client's next requests do not ask it again. */
	tokens: TtlMap<AuthUser>;
	routes: { opts: { autoAliases?: boolean } }[];
	clients: ClientAddresses;
	/** Per-client limits, every /api request and /api/auth/* (RATE_LIMIT_API, RATE_LIMIT_AUTH). */
	limits: { api?: RateLimiter; auth?: RateLimiter };
	/** The gateway's schema: the counters the rate limits of every gateway add up in. */
	db?: ServiceDatabase;
	rateSync?: Pump;
	/** Requests by route pattern (lib/metrics.ts); undefined with METRICS=off. */
	httpMetrics?: Record<keyof typeof GATEWAY_METRICS, MetricHandle>;
}
interface GatewayMethods {
	authenticate(ctx: Context<unknown, CallerMeta>, route: unknown, req: Req): Promise<AuthUser | null>;
	authorize(ctx: Context<unknown, CallerMeta>, route: unknown, req: Req): void;
	sendJson(res: ServerResponse, status: number, body: unknown): void;
	encodeResponse(req: Req, res: ServerResponse, data: unknown): Buffer | string;
	httpHandler(req: Req, res: ServerResponse, next?: unknown): Promise<unknown>;
	errorHandler(req: Req, res: ServerResponse, err: unknown): void;
	sendError(req: Req, res: ServerResponse, err: unknown): void;
	regenerateAutoAliases(route: unknown): void;
	writeCorsHeaders(route: unknown, req: Req, res: ServerResponse, isPreFlight: boolean): void;
	rateLimited(req: Req): number;
}
type GatewayThis = Service<ApiSettingsSchema> & GatewayVars & GatewayMethods;

/** Body-parser failures are the client's fault: map them to 4xx instead of 500. */
const BODY_ERRORS: Record<string, { code: number; type: string; message: string }> = {
	"entity.parse.failed": { code: 400, type: "INVALID_JSON", message: "The request body is not valid JSON" },
	"entity.too.large": { code: 413, type: "PAYLOAD_TOO_LARGE", message: "The request body is too large" },
	"encoding.unsupported": { code: 415, type: "UNSUPPORTED_ENCODING", message: "Unsupported content encoding" },
	"charset.unsupported": { code: 415, type: "UNSUPPORTED_CHARSET", message: "Unsupported charset" },
	"request.aborted": { code: 400, type: "REQUEST_ABORTED", message: "The request was aborted" },
	"request.size.invalid": { code: 400, type: "INVALID_BODY_SIZE", message: "The request body size does not match its Content-Length" }
};

/**
 * JSON bodies lose `__proto__` and `constructor` keys as they are parsed: no code further on can be tricked
 * into changing a prototype by merging a request body into an object.
 */
export function dropPrototypeKeys(key: string, value: unknown): unknown {
	return key === "__proto__" || key === "constructor" ? undefined : value;
}

/** What each response says about how to handle it: sniffing, framing, referrers, caching and, behind TLS, HSTS. */
export function securityHeaders(path: string, authorized: boolean, https: boolean): Record<string, string> {
	const headers: Record<string, string> = {
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options": "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"Referrer-Policy": "no-referrer"
	};
	// tokens and account data must never sit in a browser's or a proxy's cache
	if (authorized || path.startsWith("/api/auth/") || path === "/api/auth") headers["Cache-Control"] = "no-store";
	if (https) headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains";
	return headers;
}

/** Non-GET requests take their parameters from the body and the path only: secrets never ride in URLs. */
function bodyAndPathOnly(req: Req & { query?: unknown }, _res: ServerResponse, next: (err?: unknown) => void): void {
	if (req.method !== "GET" && req.method !== "HEAD") req.query = {};
	next();
}

export interface ErrorBody {
	name: string;
	message: string;
	code: number;
	type: string;
	data?: unknown;
}

/**
 * Validation problems name the field and what is wrong with it; the validator also attaches the value it
 * got (a password, say) and internal node and action names, which do not belong in a response.
 */
function publicData(type: string | undefined, data: unknown): unknown {
	if (type !== "VALIDATION_ERROR" || !Array.isArray(data)) return data;
	return data.map((p: { field?: string; message?: string; type?: string }) => ({ field: p.field, message: p.message, type: p.type }));
}

/** The one place errors become HTTP responses. Real faults answer a generic 500 and are logged. */
export function toErrorBody(err: unknown): ErrorBody {
	const e = err as { name?: string; message?: string; code?: unknown; status?: unknown; type?: string; data?: unknown };
	const body = e && typeof e.type === "string" ? BODY_ERRORS[e.type] : undefined;
	if (body) return { name: "BadRequestError", message: body.message, code: body.code, type: body.type };
	// Moleculer answers 404 when no instance of a service is running; for the client that is a passing outage.
	if (e?.type === "SERVICE_NOT_AVAILABLE") {
		return {
			name: "ServiceUnavailableError",
			message: "A service needed for this request is temporarily unavailable",
			code: 503,
			type: "SERVICE_UNAVAILABLE"
		};
	}
	// An action that exists but is not published: the same answer as an unknown route, without node names.
	if (e?.type === "SERVICE_NOT_FOUND") return { name: "NotFoundError", message: "Not found", code: 404, type: "NOT_FOUND" };
	// A compressed body that does not decompress (Content-Encoding: gzip over garbage): zlib's error, which
	// moleculer-web passes on with zlib's code (Z_DATA_ERROR, Z_BUF_ERROR, ...) in place of a status.
	if (typeof e?.code === "string" && /^Z_[A-Z_]+$/.test(e.code)) {
		return { name: "BadRequestError", message: "The request body could not be decompressed", code: 400, type: "INVALID_BODY" };
	}
	const code = typeof e?.code === "number" ? e.code : 500;
	if (code >= 400 && code < 500) {
		return { name: e.name ?? "ClientError", message: e.message ?? "Bad request", code, type: e.type ?? "BAD_REQUEST", data: publicData(e.type, e.data) };
	}
	if (code >= 501 && code < 600) {
		// Moleculer's own availability errors (503 unavailable, 504 timeout) and our 503s (ORDERS_BUSY) are safe
		// to pass on; of their data, only when to try again (sent as Retry-After too).
		const retryAfter = (e.data as { retryAfter?: unknown } | undefined)?.retryAfter;
		return {
			name: e.name ?? "ServerError",
			message: e.message ?? "Service unavailable",
			code,
			type: e.type ?? "SERVICE_UNAVAILABLE",
			...(typeof retryAfter === "number" ? { data: { retryAfter } } : {})
		};
	}
	return { name: "InternalServerError", message: "Internal server error", code: 500, type: "INTERNAL_ERROR" };
}

/**
 * A resolved access token is kept until it expires, and at most a minute: identity's check is a signature
 * and an expiry (stateless), so the answer cannot change before then, except when identity's JWT secret
 * changes, which the minute bounds.
 */
const MAX_KEEP_TOKEN_MS = 60_000;
const MAX_KEPT_TOKENS = 10_000;

export function keepTokenMs(token: string, now = Date.now()): number {
	const exp = (jwt.decode(token) as { exp?: unknown } | null)?.exp;
	return typeof exp === "number" ? Math.min(exp * 1000 - now, MAX_KEEP_TOKEN_MS) : 0;
}

/** Routes match paths case-sensitively: /api/Products is not /api/products (moleculer-web's types lack the option). */
const caseSensitive = { pathToRegexpOptions: { sensitive: true } };

/** How often a gateway reports its rate-limit counts to the others and learns theirs. */
export const RATE_SYNC_MS = 500;

/** Connections waiting to be accepted (node's default, 511, drops a burst of new ones: their SYNs wait 1 s, then 3 s). */
const LISTEN_BACKLOG = 4096;

/**
 * Idle keep-alive connections stay `seconds` (node closes them after 5 s; a client that reuses one just as it
 * closes gets a reset, and a shopper thinking longer than 5 s pays a new connection for every page), a
 * request's headers must arrive within a second more than that, and the listen backlog takes a burst of new
 * connections. moleculer-web listens with node's default backlog, so `listen` is given it here.
 */
export function keepConnections(server: Server, seconds: number): void {
	server.keepAliveTimeout = seconds * 1000;
	server.headersTimeout = (seconds + 1) * 1000;
	const listen = server.listen.bind(server) as (options: ListenOptions, callback?: () => void) => Server;
	server.listen = ((port: number, host: string, callback?: () => void) =>
		listen({ port, host, backlog: LISTEN_BACKLOG }, callback)) as unknown as Server["listen"];
}

/** Default lifetime of a kept response when the action's `cache` names no `ttl`. */
const DEFAULT_RESPONSE_TTL_SECONDS = 60;

/**
 * Whether an action's cached answers are the same for every caller: its cache keys name parameters only,
 * none of the call's meta (`#user...`), so the broker's cacher already hands one answer to everyone.
 */
function sameForEveryCaller(cache: boolean | { keys?: string[] }): boolean {
	return typeof cache !== "object" || !cache.keys?.some(key => key.startsWith("#"));
}

/**
 * How long the response being sent may be kept (lib/response-cache.ts), or undefined when it may not: only
 * a 200 to a GET of a public action that caches its answers, the same for every caller, with no headers of
 * its own. Whoever asked (anonymous or signed in), such an answer does not depend on them.
 */
function cacheableFor(req: Req, res: ServerResponse): number | undefined {
	const action = req.$action;
	if (req.$cacheGeneration === undefined || !action?.cache || !isPublic(action) || !sameForEveryCaller(action.cache)) return undefined;
	if (res.statusCode !== 200 || req.$ctx?.meta.$responseHeaders || req.$ctx?.meta.$location) return undefined;
	return typeof action.cache === "object" && action.cache.ttl ? action.cache.ttl : DEFAULT_RESPONSE_TTL_SECONDS;
}

/** `Authorization: Bearer <token>`: the token, or undefined for any other shape (authenticate answers 401 for it). */
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * A request id a client may choose (X-Request-Id): a UUID or 16 to 64 hex digits (a W3C trace id), since
 * it becomes the trace id, which tracing backends want in hex. Anything else is replaced by a new id.
 */
const CLIENT_REQUEST_ID = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,64})$/;

/** The caller's X-Request-Id (or X-Correlation-Id) when it is one we can use; else undefined (a new one is made). */
export function clientRequestId(headers: IncomingHttpHeaders): string | undefined {
	const raw = headers["x-request-id"] ?? headers["x-correlation-id"];
	const value = Array.isArray(raw) ? raw[0] : raw;
	return value !== undefined && CLIENT_REQUEST_ID.test(value) ? value : undefined;
}

/** A span name for an HTTP request without the ids in its path (they are tags): `GET /api/orders/:id`. */
export function requestSpanName(method: string | undefined, url: string | undefined): string {
	const path = (url ?? "").split("?")[0].replace(/\/[0-9a-fA-F-]{36}(?=\/|$)/g, "/:id");
	return `${method ?? "GET"} ${path}`;
}

/** A published route's pattern: `:param` matches one path segment. */
function routePattern(path: string): RegExp {
	const escaped = path
		.split("/")
		.map(part => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
		.join("/");
	return new RegExp(`^${escaped}/?$`);
}

export function createGatewayService(
	config: AppConfig,
	routes: readonly { method: string; path: string }[] = [],
	/** The OpenAPI document served at /api/openapi.json (app/services.ts `openApiFor`); without it, none. */
	openApi?: unknown
): ServiceSchema<ApiSettingsSchema, GatewayMethods, GatewayVars> {
	const g = config.gateway;
	const reference = openApi === undefined ? undefined : apiReference(openApi);
	// the storefront and the admin (web/); in development re-read on every request, so an edit shows on reload
	const pages = g.pages ? shopPages(undefined, config.env === "development") : undefined;
	const known = routes.map(r => ({ method: r.method, path: r.path, pattern: routePattern(r.path) }));
	/** The pattern a request is counted under: the alias that answered, else a published route it matches. */
	// Route labels of the paths seen lately (ids replaced, so a few hundred keys cover the shop): a cached
	// read, answered without moleculer-web, would otherwise test every route's pattern on every request.
	const routeLabels = new LRUCache<string, string>({ max: 1000 });
	const routeLabel = (req: Req, path: string): string => {
		// the alias moleculer-web matched (its typings lack fullPath)
		const alias = (req as { $alias?: { fullPath?: unknown } }).$alias?.fullPath;
		if (typeof alias === "string") return alias;
		if (path === "/health/live" || path === "/health/ready") return path;
		const page = pages?.label(path);
		if (page) return page;
		const key = requestSpanName(req.method, path);
		let label = routeLabels.get(key);
		if (label === undefined) {
			label = known.find(r => (r.method === "*" || r.method === req.method) && r.pattern.test(path))?.path ?? "unmatched";
			routeLabels.set(key, label);
		}
		return label;
	};
	/** True when some service publishes this route, running or not. */
	const isKnownRoute = (method: string | undefined, path: string) => known.some(r => (r.method === "*" || r.method === method) && r.pattern.test(path));
	const verbose = config.logLevel === "debug" || config.logLevel === "trace";
	const allowedOrigins = new Set(g.corsOrigins);
	// Only with CORS_ORIGINS: an origin is allowed when it is one of them, exactly (not a substring of one).
	const cors =
		allowedOrigins.size > 0
			? {
					origin: (origin: string) => allowedOrigins.has(origin),
					methods: ["GET", "POST", "PATCH", "PUT", "DELETE"],
					allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
					exposedHeaders: ["Location", "Retry-After", "Idempotent-Replayed", "X-Request-Id"],
					credentials: false,
					maxAge: 600
				}
			: undefined;
	return {
		name: "gateway",
		mixins: [ApiGateway],
		settings: {
			port: g.port,
			ip: g.host,
			// moleculer-web formats (and colours) the line before the logger drops it: only when it is shown
			logRequest: verbose ? "debug" : null,
			logResponse: verbose ? "debug" : null,
			log4XXResponses: false,
			// every route's alias table, on every (re)generation: LOG_LEVEL=debug shows it
			logRouteRegistration: "debug",
			routes: [
				{
					name: "health",
					path: "/health",
					...caseSensitive,
					authentication: false,
					authorization: false,
					mappingPolicy: "restrict",
					bodyParsers: false,
					aliases: {
						"GET live"(this: GatewayThis, _req: Req, res: ServerResponse) {
							this.sendJson(res, 200, { status: "ok" });
						},
						async "GET ready"(this: GatewayThis, _req: Req, res: ServerResponse) {
							const { ready, services } = await readiness(this.broker);
							this.sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", services });
						}
					}
				},
				// the API reference: public, the same for everyone, cacheable (gateway.reference.ts)
				...(reference
					? [
							{
								name: "reference",
								path: "/api",
								...caseSensitive,
								authentication: false,
								authorization: false,
								mappingPolicy: "restrict" as const,
								bodyParsers: false,
								aliases: {
									"GET openapi.json"(_req: Req, res: ServerResponse) {
										reference.document(_req, res);
									},
									"GET docs"(req: Req, res: ServerResponse) {
										reference.page(req, res);
									},
									"GET docs/:file"(this: GatewayThis, req: Req & { $params?: { file?: unknown } }, res: ServerResponse) {
										const file = req.$params?.file;
										if (typeof file !== "string" || !reference.file(req, res, file)) {
											this.sendJson(res, 404, { ...toErrorBody({ type: "SERVICE_NOT_FOUND" }), requestId: req.headers["x-request-id"] });
										}
									}
								}
							}
						]
					: []),
				{
					name: "api",
					path: "/api",
					autoAliases: true,
					mappingPolicy: "restrict",
					// /api/Products is not /api/products
					...caseSensitive,
					authentication: true,
					authorization: true,
					cors,
					bodyParsers: { json: { strict: true, limit: g.bodyLimit, reviver: dropPrototypeKeys }, urlencoded: false },
					use: [bodyAndPathOnly],
					// no route-wide timeout: each action's own (`timeout` on reads and on checkout), else REQUEST_TIMEOUT
					onBeforeCall(this: GatewayThis, ctx: Context<unknown, CallerMeta>, _route: unknown, req: Req) {
						ctx.meta.clientIp = req.$clientIp;
						// repeated headers arrive joined with ", ", which the order service refuses as a key
						const key = req.headers["idempotency-key"];
						if (key !== undefined) ctx.meta.idempotencyKey = Array.isArray(key) ? key.join(", ") : key;
					}
				}
			],
			onError(this: GatewayThis, req: Req, res: ServerResponse, err: unknown) {
				let body = toErrorBody(err);
				// A route that exists, whose service no instance of has been seen yet (starting, restarting, a node
				// still joining): a passing outage, not "no such thing", so clients try again instead of giving up.
				const unrouted = !req.$action || (err as { type?: string })?.type === "SERVICE_NOT_FOUND";
				if (body.code === 404 && unrouted && isKnownRoute(req.method, (req.originalUrl ?? req.url ?? "").split("?")[0])) {
					body = {
						name: "ServiceUnavailableError",
						message: "A service needed for this request is not available yet; try again shortly",
						code: 503,
						type: "SERVICE_UNAVAILABLE",
						data: { retryAfter: 1 }
					};
				}
				const retryAfter = (body.data as { retryAfter?: unknown } | undefined)?.retryAfter;
				// A fault is logged with its stack; an outage (503, 504) in one line. An answer that tells the client
				// when to try again (429, ORDERS_BUSY) is the shop working as designed: the service logs that itself.
				if (body.code === 500) this.logger.error(`${req.method} ${req.url} failed:`, err);
				else if (body.code > 500 && retryAfter === undefined) this.logger.warn(`${req.method} ${req.url}: ${body.code} ${body.type}: ${body.message}`);
				if (typeof retryAfter === "number") res.setHeader("Retry-After", String(retryAfter));
				const requestId = req.$ctx?.requestID ?? req.headers["x-request-id"];
				this.sendJson(res, body.code, requestId ? { ...body, requestId } : body);
			}
		},

		// moleculer-web's alias listing is not part of our API, and nothing reachable over the bus may add or
		// remove routes (addRoute would let any caller publish an unauthenticated route)
		actions: {
			listAliases: false,
			addRoute: false,
			removeRoute: false,
			// moleculer-web's request span, named by route rather than raw URL (ids and queries stay out of names)
			rest: {
				tracing: {
					spanName: (ctx: Context) => {
						const { req } = ctx.params as { req: Req };
						return requestSpanName(req.method, req.url);
					},
					tags: (ctx: Context) => {
						const { req } = ctx.params as { req: Req };
						return { http: { method: req.method, route: requestSpanName(req.method, req.url).split(" ")[1] } };
					}
				}
			}
		},

		events: {
			/** A service's cached reads are stale (the catalog changed): so are the responses made from them. */
			"*.cacheInvalidated"(this: GatewayThis) {
				this.responses.clear();
			},
			/** Invalidations sent while this node was cut off were missed. */
			"$transporter.connected"(this: GatewayThis) {
				this.responses.clear();
				this.tokens.clear();
			},
			/** Sessions ended (logout, a stolen refresh token, a password change): their kept tokens stop working now. */
			"identity.sessionsEnded"(this: GatewayThis, ctx: Context<SessionsEndedEvent>) {
				const { userId, sessionIds } = ctx.params;
				this.tokens.deleteWhere(
					(user: AuthUser) => user.id === userId && (!sessionIds || (user.sessionId !== undefined && sessionIds.includes(user.sessionId)))
				);
			},
			/** What identity says about some callers changed (a role, its permissions, a user's role or address): their kept answers go now. */
			"identity.accessChanged"(this: GatewayThis, ctx: Context<AccessChangedEvent>) {
				const { userIds } = ctx.params ?? {};
				if (!userIds) this.tokens.clear();
				else this.tokens.deleteWhere((user: AuthUser) => userIds.includes(user.id));
			},
			// moleculer-web regenerates routes 500 ms after services change; do it at once when this node has
			// started, so no request that arrives after start-up meets a 404 for a route that exists.
			"$broker.started"(this: GatewayThis) {
				for (const route of this.routes) if (route.opts.autoAliases) this.regenerateAutoAliases(route);
			}
		},

		methods: {
			/**
			 * Resolves `Authorization: Bearer <token>` into the caller; anonymous without the header. Identity's
			 * answer is kept until the token expires (at most a minute), so a client's requests after the first
			 * do not make a round trip to identity (over the transporter on a cluster).
			 */
			async authenticate(this: GatewayThis, ctx: Context<unknown, CallerMeta>, _route: unknown, req: Req): Promise<AuthUser | null> {
				const header = req.headers.authorization;
				if (!header) return null;
				const match = BEARER.exec(header);
				if (!match) throw new UnauthenticatedError("The Authorization header must be 'Bearer <access token>'", "INVALID_TOKEN");
				const token = match[1];
				const known = this.tokens.get(token);
				if (known) return known;
				const user = deepFreeze(await ctx.call<AuthUser, { token: string }>("identity.resolveToken", { token }));
				this.tokens.set(token, user, keepTokenMs(token));
				return user;
			},

			/** Enforces the access an action declares (`auth`, `permission`, `self`; services/identity/identity.access.ts); secure by default. */
			authorize(this: GatewayThis, ctx: Context<unknown, CallerMeta>, _route: unknown, req: Req): void {
				checkAccess(req.$action ?? {}, ctx.meta.user, req.$params);
			},

			/**
			 * moleculer-web's serialiser. A cached read answers the same frozen object every time (lib/cache.ts),
			 * so its JSON is made once and reused rather than made again on every request. A response that may
			 * be kept (`cacheableFor`) is kept here, as it is sent.
			 */
			encodeResponse(req: Req, res: ServerResponse, data: unknown): Buffer | string {
				const json = jsonOf(data);
				const ttl = cacheableFor(req, res);
				if (ttl !== undefined) {
					const body = typeof json === "string" ? Buffer.from(json, "utf8") : json;
					this.responses.set(req.originalUrl ?? req.url!, body, String(res.getHeader("Content-Type")), ttl, req.$cacheGeneration!);
					return body;
				}
				return json;
			},

			/**
			 * Every request: works out the client's address, sets the security headers and applies the rate limits;
			 * then answers a repeated anonymous read from the response cache, and sends everything else through
			 * moleculer-web.
			 */
			httpHandler(req: Req, res: ServerResponse, next?: unknown): Promise<unknown> {
				// Every request's id, which is also its trace id: the caller's X-Request-Id when usable, else a new
				// one. moleculer-web makes it the call's requestID; it is answered in the header and in error bodies.
				const requestId = clientRequestId(req.headers) ?? crypto.randomUUID();
				req.headers["x-request-id"] = requestId;
				delete req.headers["x-correlation-id"];
				res.setHeader("X-Request-Id", requestId);
				const m = this.httpMetrics;
				if (m) {
					const started = process.hrtime.bigint();
					res.once("finish", () => {
						const labels = {
							route: routeLabel(req, (req.url ?? "/").split("?")[0]),
							method: methodLabel(req.method),
							status: statusClass(res.statusCode)
						};
						m.requests.inc(labels);
						m.duration.observe(Number(process.hrtime.bigint() - started) / 1e9, labels);
					});
				}
				const peer = req.socket.remoteAddress;
				req.$clientIp = this.clients.resolve(peer, req.headers["x-forwarded-for"]);
				const path = (req.url ?? "/").split("?")[0];
				const https = this.clients.forwardedHttps(peer, req.headers["x-forwarded-proto"]);
				for (const [name, value] of Object.entries(securityHeaders(path, req.headers.authorization !== undefined, https))) res.setHeader(name, value);
				// a page calling its own origin needs no CORS (browsers send Origin on same-origin POSTs too)
				const origin = req.headers.origin;
				if (origin && req.headers.host && (origin === `http://${req.headers.host}` || origin === `https://${req.headers.host}`))
					delete req.headers.origin;
				if (pages && !path.startsWith("/api") && pages.serve(req, res, path)) return Promise.resolve();
				if (path.startsWith("/api/") || path === "/api") {
					// a development start still seeding the demo catalog: not a half-filled catalog, a short wait
					if (isWarmingUp(this.broker)) {
						res.setHeader("Retry-After", "1");
						this.sendJson(res, 503, {
							name: "ServiceUnavailableError",
							message: "The shop is starting; try again shortly",
							code: 503,
							type: "SERVICE_UNAVAILABLE",
							data: { retryAfter: 1 },
							requestId
						});
						return Promise.resolve();
					}
					const retryAfter = this.rateLimited(req);
					if (retryAfter > 0) {
						if (cors && req.headers.origin && allowedOrigins.has(req.headers.origin)) this.writeCorsHeaders({ cors }, req, res, false);
						res.setHeader("Retry-After", String(retryAfter));
						this.sendJson(res, 429, { ...toErrorBody(new TooManyRequestsError("Too many requests; slow down", retryAfter)), requestId });
						return Promise.resolve();
					}
				}
				// A kept response is an answer that is the same for every caller (`cacheableFor`): it answers an
				// anonymous read, and a signed-in one whose token this gateway has resolved and still keeps (the
				// check authenticate makes first; a logout or an access change drops the kept token at once). Any
				// other token goes through moleculer-web, which asks identity and answers 401 if it is not valid.
				if (req.method === "GET") {
					const authorization = req.headers.authorization;
					const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
					if (authorization === undefined || (token !== undefined && this.tokens.get(token) !== undefined)) {
						const hit = this.responses.get(req.url!);
						if (hit) {
							// the CORS headers moleculer-web would have written (a signed-in page on an allowed origin)
							if (cors && req.headers.origin && allowedOrigins.has(req.headers.origin)) this.writeCorsHeaders({ cors }, req, res, false);
							res.writeHead(200, { "Content-Type": hit.contentType, "Content-Length": hit.body.length });
							res.end(hit.body);
							return Promise.resolve();
						}
					}
					req.$cacheGeneration = this.responses.current;
				}
				return ApiGateway.methods!.httpHandler.call(this, req, res, next);
			},

			/** Counts the request against the client's limits; answers 0, or the seconds until it may come back. */
			rateLimited(this: GatewayThis, req: Req): number {
				const client = addressKey(req.$clientIp ?? "unknown");
				const auth = this.limits.auth && req.url!.startsWith("/api/auth/") ? this.limits.auth.take(client) : 0;
				if (auth > 0) return auth;
				return this.limits.api?.take(client) ?? 0;
			},

			/** moleculer-web's error path, without its own log line (with a stack) for every 5xx: `onError` logs. */
			errorHandler(this: GatewayThis, req: Req, res: ServerResponse, err: unknown): void {
				this.sendError(req, res, err);
			},

			sendJson(res: ServerResponse, status: number, body: unknown): void {
				if (res.headersSent) return;
				const payload = JSON.stringify(body);
				res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(payload) });
				res.end(payload);
			}
		},

		created(this: GatewayThis) {
			// moleculer-web made the server (its own `created` runs first)
			if (this.server) keepConnections(this.server, g.keepAliveSeconds);
			this.responses = new ResponseCache(config.cache.maxEntries, config.cache.maxBytes);
			// an access token (the key) may be 8 kB: 10,000 of them would be 80 MB, so bytes are bounded too
			this.tokens = new TtlMap(MAX_KEPT_TOKENS, 16 * 1024 * 1024);
			this.clients = new ClientAddresses(g.trustedProxies);
			if (metricsEnabled(this.broker)) {
				this.httpMetrics = defineMetrics(this.broker, GATEWAY_METRICS);
				const cache = defineMetrics(this.broker, CACHE_METRICS);
				this.responses.onLookup = hit => cache.lookups.inc({ cache: "responses", result: hit ? "hit" : "miss" });
				this.responses.onEvict = () => cache.evictions.inc({ cache: "responses" });
			}
			this.limits = {
				api: g.rateLimits.api && new RateLimiter("api", g.rateLimits.api),
				auth: g.rateLimits.auth && new RateLimiter("auth", g.rateLimits.auth)
			};
		},

		async started(this: GatewayThis) {
			const address = this.server.address() as AddressInfo | null;
			if (address) this.logger.info(`REST gateway listening on http://${g.host === "0.0.0.0" ? "127.0.0.1" : g.host}:${address.port}/api`);
			const limiters = Object.values(this.limits).filter((l): l is RateLimiter => l !== undefined);
			if (limiters.length === 0) return;
			// The gateways of a cluster add their counts up in PostgreSQL (the gateway's own schema); whenever it
			// does not answer, each goes on limiting on its own counts.
			const db = await ServiceDatabase.open({
				service: "gateway",
				config: config.database,
				migrations: gatewayMigrations,
				log: msg => this.logger.info(msg)
			});
			this.db = db;
			const store = new PgRateStore(db);
			let lastPurge = 0;
			let quietUntil = 0;
			this.rateSync = new Pump(
				async () => {
					await Promise.all(limiters.map(l => l.sync(store)));
					if (Date.now() - lastPurge > 60_000) {
						lastPurge = Date.now();
						await store.purge();
					}
				},
				RATE_SYNC_MS,
				err => {
					if (Date.now() < quietUntil) return;
					quietUntil = Date.now() + 60_000;
					this.logger.warn("Sharing the rate-limit counts failed; limiting on this node's counts until it works again:", (err as Error).message);
				}
			);
			this.rateSync.start();
		},

		async stopped(this: GatewayThis) {
			await this.rateSync?.stop();
			await this.db?.close();
			this.db = undefined;
		}
	};
}

/** The port the gateway actually listens on (useful with PORT=0). */
export function gatewayPort(svc: Service): number {
	return ((svc as GatewayThis).server.address() as AddressInfo).port;
}
