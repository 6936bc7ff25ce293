import bcrypt from "bcrypt";
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { AppConfig } from "../../lib/config";
import { InvalidInputError, NotFoundError, TooManyRequestsError, UnauthenticatedError } from "../../lib/errors";
import type { DbThis } from "../../mixins/db.mixin";
import { ReliableEventsMixin, type ReliableEventsThis } from "../../mixins/reliable-events.mixin";
import { EmailTakenError, InvalidCredentialsError, InvalidRefreshTokenError } from "./identity.errors";
import { identityMigrations } from "./identity.migrations";
import { IdentityRepository } from "./identity.repository";
import {
	hashRefreshToken,
	judgeRefreshToken,
	loginRetryAfter,
	newRefreshToken,
	signAccessToken,
	verifyAccessToken,
	type TokenSettings
} from "./identity.tokens";
import type {
	AuthUser,
	CallerMeta,
	GetUserParams,
	LoginParams,
	LoginResult,
	RefreshParams,
	RegisterParams,
	Role,
	TokenPair,
	TokenParams,
	UserDto,
	UserRegisteredEvent
} from "./identity.types";

interface IdentitySettings extends ServiceSettingSchema {
	rest: string;
	tokens: TokenSettings;
	bcryptRounds: number;
	loginThrottle: { maxFailures: number; windowSeconds: number };
	admin?: { email: string; password: string };
}

interface IdentityVars extends DbThis, ReliableEventsThis {
	repo: IdentityRepository;
	/** A hash compared against when the e-mail is unknown, so a miss costs as long as a hit. */
	dummyHash: string;
}
interface IdentityMethods {
	issueTokens(user: AuthUser, familyId?: string): Promise<TokenPair>;
	ensureAdmin(): Promise<void>;
}
type IdentityThis = Service<IdentitySettings> & IdentityVars & IdentityMethods;

type Ctx<P> = Context<P, CallerMeta>;

/** bcrypt looks at the first 72 bytes only: a longer password would silently be truncated. */
const BCRYPT_MAX_BYTES = 72;

const credentials = {
	email: { type: "email", normalize: true, max: 254 },
	password: { type: "string", min: 1, max: 1024 }
} as const;

export function createIdentityService(config: AppConfig): ServiceSchema<IdentitySettings, IdentityMethods, IdentityVars> {
	const c = config.identity;
	return {
		name: "identity",
		mixins: [ReliableEventsMixin({ service: "identity", config: config.events, database: config.database, migrations: identityMigrations })],
		settings: {
			tokens: {
				jwtSecret: c.jwtSecret,
				jwtIssuer: c.jwtIssuer,
				jwtAudience: c.jwtAudience,
				accessTokenTtlSeconds: c.accessTokenTtlSeconds,
				refreshTokenTtlSeconds: c.refreshTokenTtlSeconds
			},
			bcryptRounds: c.bcryptRounds,
			loginThrottle: { maxFailures: c.loginMaxFailures, windowSeconds: c.loginWindowSeconds },
			admin: c.admin,
			// routes are /api/auth/..., not /api/identity/auth/...
			rest: "/",
			// never shown to other nodes in service discovery
			$secureSettings: ["tokens", "admin"]
		},

		actions: {
			/** Creates a customer account. Throws VALIDATION_ERROR (422), EMAIL_TAKEN (409). */
			register: {
				rest: "POST /auth/register",
				visibility: "published",
				auth: "public",
				params: {
					$$strict: "remove",
					email: credentials.email,
					password: { type: "string", min: 8, max: 1024 },
					name: { type: "string", trim: true, min: 1, max: 100 },
					phone: {
						type: "string",
						optional: true,
						pattern: /^\+[1-9]\d{6,14}$/,
						messages: { stringPattern: "The 'phone' field must be an E.164 number such as +5511987654321." }
					}
				},
				async handler(this: IdentityThis, ctx: Ctx<RegisterParams>): Promise<{ user: UserDto }> {
					const { email, password, name, phone } = ctx.params;
					if (Buffer.byteLength(password) > BCRYPT_MAX_BYTES) {
						throw new InvalidInputError([{ field: "password", message: `The 'password' field must be at most ${BCRYPT_MAX_BYTES} bytes.`, type: "stringMax" }]);
					}
					const passwordHash = await bcrypt.hash(password, this.settings.bcryptRounds);
					// the account and the fact that it exists commit together: the welcome is never lost
					const user = await this.db.transaction(async t => {
						const created = await this.repo.insertUser({ email, name, phone: phone ?? null, passwordHash, roles: ["customer"] }, t);
						if (!created) return undefined;
						await this.outbox.add<UserRegisteredEvent>(t, "identity.userRegistered", {
							userId: created.id,
							email: created.email,
							name: created.name,
							phone: created.phone,
							registeredAt: created.createdAt
						});
						return created;
					});
					if (!user) throw new EmailTakenError(email);
					ctx.meta.$statusCode = 201;
					ctx.meta.$location = "/api/auth/me";
					return { user };
				}
			},

			/** Exchanges e-mail and password for a token pair. Throws INVALID_CREDENTIALS (401), TOO_MANY_REQUESTS (429). */
			login: {
				rest: "POST /auth/login",
				visibility: "published",
				auth: "public",
				params: { $$strict: "remove", ...credentials },
				async handler(this: IdentityThis, ctx: Ctx<LoginParams>): Promise<LoginResult> {
					const { email, password } = ctx.params;
					const throttleKey = `${email}|${ctx.meta.clientIp ?? "-"}`;
					const retryAfter = loginRetryAfter(await this.repo.findLoginFailures(throttleKey), this.settings.loginThrottle);
					if (retryAfter > 0) {
						ctx.meta.$responseHeaders = { "Retry-After": String(retryAfter) };
						throw new TooManyRequestsError("Too many failed logins; try again later", retryAfter);
					}
					const found = await this.repo.findByEmail(email);
					const ok = await bcrypt.compare(password, found?.passwordHash ?? this.dummyHash);
					if (!found || !ok) {
						await this.repo.recordLoginFailure(throttleKey, this.settings.loginThrottle.windowSeconds);
						throw new InvalidCredentialsError();
					}
					await this.repo.clearLoginFailures(throttleKey);
					const tokens = await this.issueTokens(found.user);
					return { ...tokens, user: found.user };
				}
			},

			/** Rotates a refresh token into a new pair. Throws INVALID_REFRESH_TOKEN (401); a reused token revokes its family. */
			refresh: {
				rest: "POST /auth/refresh",
				visibility: "published",
				auth: "public",
				params: { $$strict: "remove", refreshToken: { type: "string", min: 1, max: 512 } },
				async handler(this: IdentityThis, ctx: Ctx<RefreshParams>): Promise<TokenPair> {
					const hash = hashRefreshToken(ctx.params.refreshToken);
					const outcome = await this.db.transaction(async t => {
						const stored = await this.repo.lockRefreshToken(hash, t);
						if (!stored) return { error: "unknown" as const };
						const verdict = judgeRefreshToken(stored);
						if (verdict === "reused") {
							await this.repo.revokeFamily(stored.familyId, t);
							return { error: "reused" as const, familyId: stored.familyId };
						}
						if (verdict !== "valid") return { error: verdict };
						const user = await this.repo.findById(stored.userId);
						if (!user) return { error: "revoked" as const };
						const next = newRefreshToken();
						const expiresAt = new Date(Date.now() + this.settings.tokens.refreshTokenTtlSeconds * 1000);
						const nextId = await this.repo.insertRefreshToken({ userId: user.id, familyId: stored.familyId, hash: next.hash, expiresAt }, t);
						await this.repo.markRotated(stored.id, nextId, t);
						return { error: undefined, user, refreshToken: next.token };
					});
					if (outcome.error !== undefined) {
						if (outcome.error === "reused") this.logger.warn(`Refresh token reuse detected: revoked token family ${outcome.familyId}`);
						throw new InvalidRefreshTokenError(outcome.error);
					}
					return {
						accessToken: signAccessToken(outcome.user, this.settings.tokens),
						refreshToken: outcome.refreshToken,
						tokenType: "Bearer",
						expiresIn: this.settings.tokens.accessTokenTtlSeconds
					};
				}
			},

			/** Ends the session the refresh token belongs to (its whole family). Needs a user; answers 204. */
			logout: {
				rest: "POST /auth/logout",
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", refreshToken: { type: "string", min: 1, max: 512 } },
				async handler(this: IdentityThis, ctx: Ctx<RefreshParams>): Promise<null> {
					const caller = ctx.meta.user;
					if (!caller) throw new UnauthenticatedError();
					await this.db.transaction(async t => {
						const stored = await this.repo.lockRefreshToken(hashRefreshToken(ctx.params.refreshToken), t);
						// Someone else's or an unknown token: nothing of the caller's to end, and nothing to reveal.
						if (stored && stored.userId === caller.id) await this.repo.revokeFamily(stored.familyId, t);
					});
					ctx.meta.$statusCode = 204;
					return null;
				}
			},

			/** The signed-in user. Throws UNAUTHENTICATED (401) when the account no longer exists. */
			me: {
				rest: "GET /auth/me",
				visibility: "published",
				auth: "required",
				async handler(this: IdentityThis, ctx: Ctx<Record<string, never>>): Promise<{ user: UserDto }> {
					const caller = ctx.meta.user;
					const user = caller && (await this.repo.findById(caller.id));
					if (!user) throw new UnauthenticatedError("This account no longer exists");
					return { user };
				}
			},

			/** Who an access token belongs to. Throws INVALID_TOKEN (401). Used by the gateway and the gRPC adapter. */
			resolveToken: {
				visibility: "public",
				params: { token: { type: "string", min: 1, max: 8192 } },
				handler(this: IdentityThis, ctx: Ctx<TokenParams>): AuthUser {
					return verifyAccessToken(ctx.params.token, this.settings.tokens);
				}
			},

			/** A user by id. Throws NOT_FOUND (404). */
			get: {
				visibility: "public",
				params: { id: { type: "uuid" } },
				async handler(this: IdentityThis, ctx: Ctx<GetUserParams>): Promise<UserDto> {
					const user = await this.repo.findById(ctx.params.id);
					if (!user) throw new NotFoundError("User", ctx.params.id);
					return user;
				}
			}
		},

		methods: {
			async issueTokens(this: IdentityThis, user: AuthUser, familyId?: string): Promise<TokenPair> {
				const refresh = newRefreshToken();
				const expiresAt = new Date(Date.now() + this.settings.tokens.refreshTokenTtlSeconds * 1000);
				await this.repo.insertRefreshToken({ userId: user.id, familyId, hash: refresh.hash, expiresAt });
				return {
					accessToken: signAccessToken(user, this.settings.tokens),
					refreshToken: refresh.token,
					tokenType: "Bearer",
					expiresIn: this.settings.tokens.accessTokenTtlSeconds
				};
			},

			/** Makes sure the configured admin exists and holds the admin role. Safe when several instances start at once. */
			async ensureAdmin(this: IdentityThis): Promise<void> {
				const admin = this.settings.admin;
				if (!admin) return;
				const roles: Role[] = ["customer", "admin"];
				const created = await this.repo.insertUser({
					email: admin.email,
					name: "Administrator",
					phone: null,
					passwordHash: await bcrypt.hash(admin.password, this.settings.bcryptRounds),
					roles
				});
				if (created) {
					this.logger.info(`Created the admin user ${admin.email}`);
					return;
				}
				const existing = await this.repo.findByEmail(admin.email);
				if (existing && !existing.user.roles.includes("admin")) {
					await this.repo.addRole(existing.user.id, "admin");
					this.logger.info(`Granted the admin role to ${admin.email}`);
				}
			}
		},

		async started(this: IdentityThis) {
			this.repo = new IdentityRepository(this.db);
			this.dummyHash = await bcrypt.hash("not-a-real-password", this.settings.bcryptRounds);
			await this.ensureAdmin();
		}
	};
}
