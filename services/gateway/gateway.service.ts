import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { Context, Service, ServiceSchema } from "moleculer";
import ApiGateway, { type ApiSettingsSchema } from "moleculer-web";
import "../../lib/action-access";
import jwt from "jsonwebtoken";
import { deepFreeze, jsonOf } from "../../lib/cache";
import { ResponseCache } from "../../lib/response-cache";
import { TtlMap } from "../../lib/ttl-map";
import type { AppConfig } from "../../lib/config";
import { ForbiddenError, UnauthenticatedError } from "../../lib/errors";
import { readiness } from "../../lib/health";
import type { AuthUser, CallerMeta } from "../identity/identity.types";

/**
 * The REST gateway: routes `/api/*` to published actions, resolves the Bearer token into
 * `ctx.meta.user`, enforces each action's declared access, and shapes every error the same way.
 * No business rules live here.
 */

type Req = IncomingMessage & {
	$action?: { auth?: "public" | "required"; roles?: string[]; name?: string; cache?: boolean | { ttl?: number } };
	$ctx?: Context<unknown, CallerMeta & { $responseHeaders?: unknown; $location?: string }>;
	originalUrl?: string;
	/** The response cache's generation when the request arrived (set for requests whose answer may be kept). */
	$cacheGeneration?: number;
	socket: { remoteAddress?: string };
};

interface GatewayVars {
	server: Server;
	responses: ResponseCache;
	/** Access tokens identity has resolved, so a client's next requests do not ask it again. */
	tokens: TtlMap<AuthUser>;
	routes: { opts: { autoAliases?: boolean } }[];
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
		return { name: "ServiceUnavailableError", message: "A service needed for this request is temporarily unavailable", code: 503, type: "SERVICE_UNAVAILABLE" };
	}
	// An action that exists but is not published: the same answer as an unknown route, without node names.
	if (e?.type === "SERVICE_NOT_FOUND") return { name: "NotFoundError", message: "Not found", code: 404, type: "NOT_FOUND" };
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

/** Default lifetime of a kept response when the action's `cache` names no `ttl`. */
const DEFAULT_RESPONSE_TTL_SECONDS = 60;

/**
 * How long the response being sent may be kept (lib/response-cache.ts), or undefined when it may not: only
 * a 200 to an anonymous GET of a public action that caches its answers, with no headers of its own.
 */
function cacheableFor(req: Req, res: ServerResponse): number | undefined {
	const action = req.$action;
	if (req.$cacheGeneration === undefined || !action?.cache || action.auth !== "public" || action.roles?.length) return undefined;
	if (res.statusCode !== 200 || req.$ctx?.meta.$responseHeaders || req.$ctx?.meta.$location) return undefined;
	return typeof action.cache === "object" && action.cache.ttl ? action.cache.ttl : DEFAULT_RESPONSE_TTL_SECONDS;
}

export function createGatewayService(config: AppConfig): ServiceSchema<ApiSettingsSchema, GatewayMethods, GatewayVars> {
	const g = config.gateway;
	const verbose = config.logLevel === "debug" || config.logLevel === "trace";
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
			routes: [
				{
					name: "health",
					path: "/health",
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
				{
					name: "api",
					path: "/api",
					autoAliases: true,
					mappingPolicy: "restrict",
					authentication: true,
					authorization: true,
					bodyParsers: { json: { strict: true, limit: g.bodyLimit }, urlencoded: false },
					callOptions: { timeout: 30_000 },
					onBeforeCall(this: GatewayThis, ctx: Context<unknown, CallerMeta>, _route: unknown, req: Req) {
						ctx.meta.clientIp = req.socket.remoteAddress;
						// repeated headers arrive joined with ", ", which the order service refuses as a key
						const key = req.headers["idempotency-key"];
						if (key !== undefined) ctx.meta.idempotencyKey = Array.isArray(key) ? key.join(", ") : key;
					}
				}
			],
			onError(this: GatewayThis, req: Req, res: ServerResponse, err: unknown) {
				const body = toErrorBody(err);
				const retryAfter = (body.data as { retryAfter?: unknown } | undefined)?.retryAfter;
				// A fault is logged with its stack; an outage (503, 504) in one line. An answer that tells the client
				// when to try again (429, ORDERS_BUSY) is the shop working as designed: the service logs that itself.
				if (body.code === 500) this.logger.error(`${req.method} ${req.url} failed:`, err);
				else if (body.code > 500 && retryAfter === undefined) this.logger.warn(`${req.method} ${req.url}: ${body.code} ${body.type}: ${body.message}`);
				if (typeof retryAfter === "number") res.setHeader("Retry-After", String(retryAfter));
				this.sendJson(res, body.code, body);
			}
		},

		// moleculer-web's alias listing is not part of our API
		actions: { listAliases: false },

		events: {
			/** A service's cached reads are stale (the catalog changed): so are the responses made from them. */
			"*.cacheInvalidated"(this: GatewayThis) {
				this.responses.clear();
			},
			/** Invalidations sent while this node was cut off were missed. */
			"$transporter.connected"(this: GatewayThis) {
				this.responses.clear();
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
				const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
				if (!match) throw new UnauthenticatedError("The Authorization header must be 'Bearer <access token>'", "INVALID_TOKEN");
				const token = match[1];
				const known = this.tokens.get(token);
				if (known) return known;
				const user = deepFreeze(await ctx.call<AuthUser, { token: string }>("identity.resolveToken", { token }));
				this.tokens.set(token, user, keepTokenMs(token));
				return user;
			},

			/** Enforces the access an action declares (`auth`, `roles`); secure by default. */
			authorize(this: GatewayThis, ctx: Context<unknown, CallerMeta>, _route: unknown, req: Req): void {
				const action = req.$action ?? {};
				if (action.auth === "public" && !action.roles) return;
				const user = ctx.meta.user;
				if (!user) throw new UnauthenticatedError();
				if (action.roles?.length && !action.roles.some(r => (user.roles as string[]).includes(r))) {
					throw new ForbiddenError("This needs one of the roles: " + action.roles.join(", "), { roles: action.roles });
				}
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

			/** Answers a repeated anonymous read from the response cache; everything else goes through moleculer-web. */
			httpHandler(req: Req, res: ServerResponse, next?: unknown): Promise<unknown> {
				if (req.method === "GET" && req.headers.authorization === undefined) {
					const hit = this.responses.get(req.url!);
					if (hit) {
						res.writeHead(200, { "Content-Type": hit.contentType, "Content-Length": hit.body.length });
						res.end(hit.body);
						return Promise.resolve();
					}
					req.$cacheGeneration = this.responses.current;
				}
				return ApiGateway.methods!.httpHandler.call(this, req, res, next);
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
			this.responses = new ResponseCache(config.cache.maxEntries, config.cache.maxBytes);
			// an access token (the key) may be 8 kB: 10,000 of them would be 80 MB, so bytes are bounded too
			this.tokens = new TtlMap(MAX_KEPT_TOKENS, 16 * 1024 * 1024);
		},

		started(this: GatewayThis) {
			const address = this.server.address() as AddressInfo | null;
			if (address) this.logger.info(`REST gateway listening on http://${g.host === "0.0.0.0" ? "127.0.0.1" : g.host}:${address.port}/api`);
		}
	};
}

/** The port the gateway actually listens on (useful with PORT=0). */
export function gatewayPort(svc: Service): number {
	return ((svc as GatewayThis).server.address() as AddressInfo).port;
}
