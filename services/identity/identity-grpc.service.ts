import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { AppConfig } from "../../app/config";
import { projectRoot } from "../../lib/paths";
import { UnauthenticatedError } from "../../lib/errors";
import { checkAccess, declaredAccess } from "./identity.access";
import { FAILED_PRECONDITION_TYPES } from "./identity.errors";
import type { AuthUser, CallerMeta, LoginResult, PermissionDto, RoleDto, TokenPair, UserDto, UserWithPermissions } from "./identity.types";

/**
 * Serves two contracts over gRPC on one port, both by calling the identity actions, so each has one
 * implementation: Momentum's own (`proto/identity.proto`, package momentum.identity.v1) and the Go identity
 * service's it replaces (`proto/shared-identity.proto`, package shared). Access is checked as the REST
 * gateway checks it: the permission the action declares (services/identity/identity.access.ts), for the caller the
 * `authorization: Bearer` metadata names. Runs wherever identity runs; starts and stops with the broker.
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
	// "already exists", unless the type says the state forbids it (FAILED_PRECONDITION_TYPES)
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
	let code = typeof e?.code === "number" ? STATUS_BY_HTTP[e.code] : undefined;
	if (code === grpc.status.ALREADY_EXISTS && e.type && FAILED_PRECONDITION_TYPES.has(e.type)) code = grpc.status.FAILED_PRECONDITION;
	if (code === undefined) return { code: grpc.status.INTERNAL, details: "Internal error" };
	const metadata = new grpc.Metadata();
	if (e.type) metadata.set("error-type", e.type);
	// name the fields at fault, as the REST answer does
	const problems = e.type === "VALIDATION_ERROR" && Array.isArray(e.data) ? e.data.map((p: { message?: string }) => p.message).filter(Boolean) : [];
	return { code, details: problems.length > 0 ? problems.join(" ") : (e.message ?? ""), metadata };
}

function toGrpcUser(u: UserDto): GrpcUser {
	// one role per user now: the list holds it
	return { id: u.id, email: u.email, name: u.name, roles: [u.role], phone: u.phone ?? "", created_at: u.createdAt };
}

/** The Go service's time format: "YYYY-MM-DD HH:MM:SS" in UTC. */
export function goTime(iso: string): string {
	return new Date(iso).toISOString().slice(0, 19).replace("T", " ");
}

const goUser = (u: UserDto) => ({ id: u.id, name: u.name, email: u.email, role: u.role, created_at: goTime(u.createdAt) });
const goPermission = (p: PermissionDto) => ({ id: p.id, name: p.name });
const goRole = (r: RoleDto) => ({ id: r.id, name: r.name, permissions: r.permissions.map(goPermission) });

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

/**
 * The Go service's contract. Without defaults, a field the client did not set is absent, so an `optional`
 * field left out (UpdateUser's name, say) is told apart from one set to "".
 */
export function loadSharedIdentityProto(): grpc.GrpcObject {
	const definition = protoLoader.loadSync(path.join(projectRoot(), "proto", "shared-identity.proto"), {
		keepCase: true,
		longs: String,
		enums: String,
		defaults: false,
		oneofs: false
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
			const shared = (loadSharedIdentityProto() as unknown as { shared: { IdentityService: grpc.ServiceClientConstructor } }).shared;
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

			/**
			 * Calls `action` for the caller the metadata names, if the action's declared access lets them (the
			 * same check as the REST gateway's): UNAUTHENTICATED or PERMISSION_DENIED otherwise.
			 */
			const guarded = async <T>(metadata: grpc.Metadata, action: string, params: object): Promise<T> => {
				const user = await caller(metadata);
				checkAccess(declaredAccess(this.broker.registry, action), user, params);
				return call<T>(action, params, { user });
			};
			type Req<T> = Partial<T>;
			const ids = (list: string[] | undefined) => list ?? [];
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
				/** One's own user (`profile.view`); anyone's with `user.view`. */
				GetUser: unary<{ id: string }, object>(async (req, _peer, metadata) => {
					const { user } = await guarded<{ user: UserWithPermissions }>(metadata, "identity.getUser", { id: req.id });
					return { user: toGrpcUser(user) };
				})
			});

			// the Go identity service's contract (proto/shared-identity.proto): every field as it had them
			server.addService(shared.IdentityService.service, {
				GetUsers: unary<object, object>(async (_req, _peer, metadata) => {
					const { items } = await guarded<{ items: UserDto[] }>(metadata, "identity.allUsers", {});
					return { users: items.map(goUser) };
				}),
				GetUser: unary<Req<{ id: string }>, object>(async (req, _peer, metadata) => {
					const { user } = await guarded<{ user: UserWithPermissions }>(metadata, "identity.getUser", { id: req.id ?? "" });
					return {
						name: user.name,
						email: user.email,
						role: user.role,
						created_at: goTime(user.createdAt),
						role_id: user.roleId,
						permissions: user.permissions
					};
				}),
				StoreUser: unary<Req<{ name: string; email: string; password: string; role_id: string }>, object>(async (req, _peer, metadata) => {
					const { user } = await guarded<{ user: UserDto }>(metadata, "identity.createUser", {
						name: req.name ?? "",
						email: req.email ?? "",
						password: req.password ?? "",
						roleId: optional(req.role_id ?? "")
					});
					return { user: goUser(user) };
				}),
				UpdateUser: unary<Req<{ id: string; name: string; email: string; role_id: string }>, object>(async (req, _peer, metadata) => {
					const { user } = await guarded<{ user: UserDto }>(metadata, "identity.updateUser", {
						id: req.id ?? "",
						name: req.name,
						email: req.email,
						roleId: req.role_id
					});
					return { user: goUser(user) };
				}),
				DeleteUser: unary<Req<{ id: string }>, object>(async (req, _peer, metadata) => {
					await guarded(metadata, "identity.deleteUser", { id: req.id ?? "" });
					return { success: true };
				}),
				GetRoles: unary<object, object>(async (_req, _peer, metadata) => {
					const { items } = await guarded<{ items: RoleDto[] }>(metadata, "identity.listRoles", {});
					return { roles: items.map(goRole) };
				}),
				GetRole: unary<Req<{ id: string }>, object>(async (req, _peer, metadata) => {
					const { role } = await guarded<{ role: RoleDto }>(metadata, "identity.getRole", { id: req.id ?? "" });
					return { role: goRole(role), permissions: role.permissions.map(goPermission) };
				}),
				StoreRole: unary<Req<{ name: string; permission_ids: string[] }>, object>(async (req, _peer, metadata) => {
					const { role } = await guarded<{ role: RoleDto }>(metadata, "identity.createRole", {
						name: req.name ?? "",
						permissionIds: ids(req.permission_ids)
					});
					return { role: goRole(role) };
				}),
				UpdateRole: unary<Req<{ id: string; name: string; permission_ids: string[] }>, object>(async (req, _peer, metadata) => {
					// proto3 cannot tell an empty list from none: empty leaves the permissions as they are
					const permissionIds = ids(req.permission_ids).length > 0 ? req.permission_ids : undefined;
					const { role } = await guarded<{ role: RoleDto }>(metadata, "identity.updateRole", { id: req.id ?? "", name: req.name, permissionIds });
					return { role: goRole(role) };
				}),
				DeleteRole: unary<Req<{ id: string }>, object>(async (req, _peer, metadata) => {
					await guarded(metadata, "identity.deleteRole", { id: req.id ?? "" });
					return { success: true };
				}),
				GetPermissions: unary<object, object>(async (_req, _peer, metadata) => {
					const { items } = await guarded<{ items: PermissionDto[] }>(metadata, "identity.listPermissions", {});
					return { permissions: items.map(goPermission) };
				}),
				GetPermission: unary<Req<{ id: string }>, object>(async (req, _peer, metadata) => {
					const { permission } = await guarded<{ permission: PermissionDto }>(metadata, "identity.getPermission", { id: req.id ?? "0" });
					return { permission: goPermission(permission) };
				}),
				StorePermission: unary<Req<{ name: string }>, object>(async (req, _peer, metadata) => {
					const { permission } = await guarded<{ permission: PermissionDto }>(metadata, "identity.createPermission", { name: req.name ?? "" });
					return { permission: goPermission(permission) };
				}),
				UpdatePermission: unary<Req<{ id: string; name: string }>, object>(async (req, _peer, metadata) => {
					const { permission } = await guarded<{ permission: PermissionDto }>(metadata, "identity.updatePermission", {
						id: req.id ?? "0",
						name: req.name
					});
					return { permission: goPermission(permission) };
				}),
				DeletePermission: unary<Req<{ id: string }>, object>(async (req, _peer, metadata) => {
					await guarded(metadata, "identity.deletePermission", { id: req.id ?? "0" });
					return { success: true };
				})
			});

			const credentials = grpcTls
				? grpc.ServerCredentials.createSsl(
						null,
						[{ cert_chain: fs.readFileSync(grpcTls.certFile), private_key: fs.readFileSync(grpcTls.keyFile) }],
						false
					)
				: grpc.ServerCredentials.createInsecure();
			this.port = await new Promise<number>((resolve, reject) =>
				server.bindAsync(`${grpcHost}:${grpcPort}`, credentials, (err, port) => (err ? reject(err) : resolve(port)))
			);
			this.server = server;
			this.logger.info(
				`Identity gRPC listening on ${grpcHost}:${this.port}${grpcTls ? " (TLS)" : " (plaintext; IDENTITY_GRPC_TLS_CERT and _KEY turn on TLS)"}`
			);
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
