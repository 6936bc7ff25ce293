import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { AppConfig } from "../../lib/config";
import { projectRoot } from "../../lib/paths";
import { ForbiddenError, UnauthenticatedError } from "../../lib/errors";
import type { AuthUser, CallerMeta, LoginResult, TokenPair, UserDto } from "./identity.types";

/**
 * Serves `proto/identity.proto` over gRPC by calling the identity actions, so the contract has one
 * implementation. Runs wherever identity runs; starts and stops with the broker.
 */

interface GrpcUser {
	id: string;
	email: string;
	name: string;
	roles: string[];
	phone: string;
	created_at: string;
}

interface GrpcVars {
	server?: grpc.Server;
	/** The port actually bound (IDENTITY_GRPC_PORT=0 picks a free one). */
	port: number;
}
type GrpcThis = Service & GrpcVars;

const STATUS_BY_HTTP: Record<number, grpc.status> = {
	400: grpc.status.INVALID_ARGUMENT,
	401: grpc.status.UNAUTHENTICATED,
	403: grpc.status.PERMISSION_DENIED,
	404: grpc.status.NOT_FOUND,
	409: grpc.status.ALREADY_EXISTS,
	422: grpc.status.INVALID_ARGUMENT,
	429: grpc.status.RESOURCE_EXHAUSTED,
	503: grpc.status.UNAVAILABLE,
	504: grpc.status.DEADLINE_EXCEEDED
};

/** Client mistakes keep their message and type; anything else is INTERNAL without details. */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
	const e = err as { code?: unknown; message?: string; type?: string; data?: unknown };
	if (e?.type === "SERVICE_NOT_AVAILABLE") return { code: grpc.status.UNAVAILABLE, details: "Identity is temporarily unavailable" };
	const code = typeof e?.code === "number" ? STATUS_BY_HTTP[e.code] : undefined;
	if (code === undefined) return { code: grpc.status.INTERNAL, details: "Internal error" };
	const metadata = new grpc.Metadata();
	if (e.type) metadata.set("error-type", e.type);
	// name the fields at fault, as the REST answer does
	const problems = e.type === "VALIDATION_ERROR" && Array.isArray(e.data) ? e.data.map((p: { message?: string }) => p.message).filter(Boolean) : [];
	return { code, details: problems.length > 0 ? problems.join(" ") : (e.message ?? ""), metadata };
}

function toGrpcUser(u: UserDto): GrpcUser {
	return { id: u.id, email: u.email, name: u.name, roles: u.roles, phone: u.phone ?? "", created_at: u.createdAt };
}

function toTokenResponse(t: TokenPair, user?: UserDto) {
	return {
		access_token: t.accessToken,
		refresh_token: t.refreshToken,
		token_type: t.tokenType,
		expires_in: t.expiresIn,
		user: user && toGrpcUser(user)
	};
}

/** The caller's access token from `authorization: Bearer <token>` metadata, if any. */
export function bearerToken(metadata: grpc.Metadata): string | undefined {
	const [value] = metadata.get("authorization");
	const match = typeof value === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
	return match?.[1];
}

/** The client's address from a grpc-js peer string (`ipv4:10.0.0.1:5000`, `ipv6:[::1]:5000`). */
export function peerAddress(peer: string): string {
	const m = /^ipv[46]:(?:\[([^\]]+)\]|([^:]+)):\d+$/.exec(peer) ?? /^\[?([^\]]+)\]?:\d+$/.exec(peer);
	return m ? (m[1] ?? m[2]) : peer;
}

export function loadIdentityProto(): grpc.GrpcObject {
	const definition = protoLoader.loadSync(path.join(projectRoot(), "proto", "identity.proto"), {
		keepCase: true,
		longs: String,
		enums: String,
		defaults: true,
		oneofs: true
	});
	return grpc.loadPackageDefinition(definition);
}

export function createIdentityGrpcService(config: AppConfig): ServiceSchema<ServiceSettingSchema, Record<string, never>, GrpcVars> {
	const { grpcPort, grpcHost, grpcTls } = config.identity;
	return {
		name: "identity-grpc",
		dependencies: ["identity"],

		async started(this: GrpcThis) {
			const proto = loadIdentityProto() as unknown as {
				momentum: { identity: { v1: { IdentityService: grpc.ServiceClientConstructor } } };
			};
			const call = <T>(action: string, params: object, meta: CallerMeta = {}) => this.broker.call<T, object>(action, params, { meta });

			/** The caller of an RPC that needs one: `authorization: Bearer <access token>` metadata, resolved by identity. */
			const caller = async (metadata: grpc.Metadata): Promise<AuthUser> => {
				const token = bearerToken(metadata);
				if (!token) throw new UnauthenticatedError("This call needs 'authorization: Bearer <access token>' metadata");
				return call<AuthUser>("identity.resolveToken", { token });
			};

			/** Wraps an async handler: its answer or its error goes back as gRPC status. */
			const unary =
				<Req, Res>(fn: (req: Req, peer: string, metadata: grpc.Metadata) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
				(call, callback) => {
					fn(call.request, peerAddress(call.getPeer()), call.metadata).then(
						res => callback(null, res),
						err => {
							const status = toGrpcError(err);
							if (status.code === grpc.status.INTERNAL) this.logger.error(`gRPC ${call.getPath()} failed:`, err);
							callback(status, null);
						}
					);
				};
			const optional = (s: string) => (s === "" ? undefined : s);

			const server = new grpc.Server();
			server.addService(proto.momentum.identity.v1.IdentityService.service, {
				Register: unary<{ email: string; password: string; name: string; phone: string }, object>(async req => {
					const { user } = await call<{ user: UserDto }>("identity.register", {
						email: req.email,
						password: req.password,
						name: req.name,
						phone: optional(req.phone)
					});
					return { user: toGrpcUser(user) };
				}),
				Login: unary<{ email: string; password: string }, object>(async (req, peer) => {
					// throttled like a login over HTTP, by the caller's address
					const res = await call<LoginResult>("identity.login", { email: req.email, password: req.password }, { clientIp: peer });
					return toTokenResponse(res, res.user);
				}),
				RefreshToken: unary<{ refresh_token: string }, object>(async req =>
					toTokenResponse(await call<TokenPair>("identity.refresh", { refreshToken: req.refresh_token }))
				),
				ValidateToken: unary<{ token: string }, object>(async req => {
					let caller: AuthUser;
					try {
						caller = await call<AuthUser>("identity.resolveToken", { token: req.token });
					} catch (err) {
						if ((err as { code?: number }).code === 401) return { valid: false };
						throw err;
					}
					try {
						const user = await call<UserDto>("identity.get", { id: caller.id });
						return { valid: true, user: toGrpcUser(user) };
					} catch (err) {
						// a well-signed token for an account that no longer exists
						if ((err as { code?: number }).code === 404) return { valid: false };
						throw err;
					}
				}),
				/** One's own user; an admin may ask for anyone. */
				GetUser: unary<{ id: string }, object>(async (req, _peer, metadata) => {
					const me = await caller(metadata);
					if (req.id !== me.id && !me.roles.includes("admin")) throw new ForbiddenError("You may only read your own user");
					return { user: toGrpcUser(await call<UserDto>("identity.get", { id: req.id })) };
				})
			});

			const credentials = grpcTls
				? grpc.ServerCredentials.createSsl(null, [{ cert_chain: fs.readFileSync(grpcTls.certFile), private_key: fs.readFileSync(grpcTls.keyFile) }], false)
				: grpc.ServerCredentials.createInsecure();
			this.port = await new Promise<number>((resolve, reject) =>
				server.bindAsync(`${grpcHost}:${grpcPort}`, credentials, (err, port) => (err ? reject(err) : resolve(port)))
			);
			this.server = server;
			this.logger.info(`Identity gRPC listening on ${grpcHost}:${this.port}${grpcTls ? " (TLS)" : " (plaintext; IDENTITY_GRPC_TLS_CERT and _KEY turn on TLS)"}`);
		},

		async stopped(this: GrpcThis) {
			const server = this.server;
			if (!server) return;
			this.server = undefined;
			// finish the calls in flight, then give up on stragglers
			await new Promise<void>(resolve => {
				const force = setTimeout(() => {
					server.forceShutdown();
					resolve();
				}, 5000);
				server.tryShutdown(() => {
					clearTimeout(force);
					resolve();
				});
			});
		}
	};
}
