import crypto from "node:crypto";
import bcrypt from "bcrypt";
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { AppConfig } from "../../app/config";
import { Bulkhead } from "../../lib/bulkhead";
import { addressKey } from "../../lib/client-address";
import { NotFoundError, TooManyRequestsError, UnauthenticatedError } from "../../lib/errors";
import { checkPasswordBytes, newPasswordParam, personNameParam, phoneParam } from "./identity.params";
import { Pump } from "../../lib/pump";
import type { DbThis } from "../../lib/mixins/db.mixin";
import type { EventRoutes } from "../../lib/events";
import { ReliableEventsMixin, type ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import { accountActions, mailVerificationLink } from "./identity.account";
import { AccountRepository } from "./identity.account-repository";
import { EmailTakenError, InvalidCredentialsError, InvalidRefreshTokenError, InvalidTokenError } from "./identity.errors";
import { identityMigrations } from "./identity.migrations";
import { IdentityRepository } from "./identity.repository";
import { AccessRepository } from "./identity.access-repository";
import { identityAdminActions } from "./identity.admin";
import {
	hashRefreshToken,
	judgeRefreshToken,
	loginCounters,
	newRefreshToken,
	signAccessToken,
	verifyAccessToken,
	type LoginThrottleRules,
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
	SessionsEndedEvent,
	TokenPair,
	TokenParams,
	UserDto,
	UserWithPermissions
} from "./identity.types";
import { identityEvents } from "./identity.events";
import { defineMetrics, type MetricDef } from "../../lib/metrics";

/** Logins refused: a wrong e-mail or password (`invalid_credentials`), or too many failures (`throttled`, 429). */
const IDENTITY_METRICS = {
	loginFailures: {
		type: "counter",
		name: "momentum_login_failures_total",
		description: "Logins refused, by outcome (invalid_credentials, throttled)",
		labelNames: ["outcome"]
	}
} satisfies Record<string, MetricDef>;
import { ADMIN_ROLE, callerOf, CUSTOMER_ROLE, type IdentityEvents } from "./identity.types";
import { LOGIN_RESULT, ME, TOKEN_PAIR, USER_ENVELOPE } from "./identity.openapi";

interface IdentitySettings extends ServiceSettingSchema {
	rest: string;
	tokens: TokenSettings;
	bcryptRounds: number;
	loginThrottle: LoginThrottleRules;
	admin?: { email: string; password: string };
	purgeIntervalSeconds: number;
}

interface IdentityVars extends DbThis, ReliableEventsThis<IdentityEvents> {
	repo: IdentityRepository;
	/** Roles, permissions and the admin's view of users (identity.admin.ts). */
	access: AccessRepository;
	/** A hash compared against when the e-mail is unknown, so a miss costs as long as a hit. */
	dummyHash: string;
	/** Bounds the bcrypt work this node runs and queues (BCRYPT_MAX_IN_FLIGHT, BCRYPT_MAX_QUEUE). */
	bcrypt: Bulkhead;
	purge: Pump;
}
interface IdentityMethods {
	issueTokens(user: AuthUser | UserDto): Promise<TokenPair>;
	endSessions(ctx: Ctx<unknown>, event: SessionsEndedEvent): Promise<void>;
	ensureAdmin(): Promise<void>;
}
type IdentityThis = Service<IdentitySettings> & IdentityVars & IdentityMethods;

type Ctx<P> = Context<P, CallerMeta>;

const credentials = {
	email: { type: "email", normalize: true, max: 254 },
	password: { type: "string", min: 1, max: 1024 }
} as const;

export function createIdentityService(config: AppConfig, routes: EventRoutes): ServiceSchema<IdentitySettings, IdentityMethods, IdentityVars> {
	const c = config.identity;
	return {
		name: "identity",
		mixins: [
			ReliableEventsMixin({
				service: "identity",
				config: config.events,
				database: config.database,
				migrations: identityMigrations,
				produces: identityEvents,
				routes
			})
		],
		settings: {
			tokens: {
				jwtSecret: c.jwtSecret,
				jwtIssuer: c.jwtIssuer,
				jwtAudience: c.jwtAudience,
				accessTokenTtlSeconds: c.accessTokenTtlSeconds,
				refreshTokenTtlSeconds: c.refreshTokenTtlSeconds
			},
			bcryptRounds: c.bcryptRounds,
			loginThrottle: {
				maxFailures: c.loginMaxFailures,
				windowSeconds: c.loginWindowSeconds,
				addressMaxFailures: c.loginAddressMaxFailures,
				accountMaxFailures: c.loginAccountMaxFailures
			},
			admin: c.admin,
			purgeIntervalSeconds: c.purgeIntervalSeconds,
			// routes are /api/auth/..., not /api/identity/auth/...
			rest: "/",
			// never shown to other nodes in service discovery
			$secureSettings: ["tokens", "admin"]
		},

		actions: {
			...identityAdminActions(),

			/** Creates a customer account. Throws VALIDATION_ERROR (422), EMAIL_TAKEN (409). */
			register: {
				rest: "POST /auth/register",
				summary: "Create a customer account",
				responses: { 201: { description: "Created", schema: USER_ENVELOPE, headers: { Location: "/api/auth/me" } } },
				errors: { 409: ["EMAIL_TAKEN"] },
				visibility: "published",
				auth: "public",
				params: {
					$$strict: "remove",
					email: credentials.email,
					password: newPasswordParam,
					name: personNameParam,
					phone: { ...phoneParam, optional: true }
				},
				async handler(this: IdentityThis, ctx: Ctx<RegisterParams>): Promise<{ user: UserDto }> {
					const { email, password, name, phone } = ctx.params;
					checkPasswordBytes(password);
					const passwordHash = await this.bcrypt.run(() => bcrypt.hash(password, this.settings.bcryptRounds));
					// the account and its verification link commit together: the link is never lost
					const user = await this.db.transaction(async t => {
						const created = await this.repo.insertUser({ email, name, phone: phone ?? null, passwordHash, role: CUSTOMER_ROLE }, t);
						if (created) await mailVerificationLink(this, config, created, t);
						return created;
					});
					if (!user) throw new EmailTakenError(email);
					ctx.meta.$statusCode = 201;
					ctx.meta.$location = "/api/auth/me";
					return { user };
				}
			},

			/**
			 * Exchanges e-mail and password for a token pair. Throws INVALID_CREDENTIALS (401), TOO_MANY_REQUESTS
			 * (429, with Retry-After), SERVER_BUSY (503) when this node already checks as many passwords as it may.
			 * Every attempt is counted before the password is checked (per account and address, per address, and
			 * progressively per account from addresses it never signed in from), so no burst of guesses gets past
			 * the limits, and a guesser elsewhere never locks the owner out of their usual address.
			 */
			login: {
				rest: "POST /auth/login",
				summary: "Sign in: e-mail and password for a token pair",
				responses: { 200: { description: "A token pair and the user", schema: LOGIN_RESULT } },
				errors: { 401: ["INVALID_CREDENTIALS"] },
				visibility: "published",
				auth: "public",
				params: { $$strict: "remove", ...credentials },
				async handler(this: IdentityThis, ctx: Ctx<LoginParams>): Promise<LoginResult> {
					const { email, password } = ctx.params;
					const address = addressKey(ctx.meta.clientIp ?? "local");
					const found = await this.repo.findByEmail(email, address);
					const counters = loginCounters(email, address, found?.knownAddress === true, this.settings.loginThrottle);
					const retryAfter = await this.repo.takeLoginAttempt(counters);
					if (retryAfter > 0) {
						ctx.meta.$responseHeaders = { "Retry-After": String(retryAfter) };
						defineMetrics(this.broker, IDENTITY_METRICS).loginFailures.inc({ outcome: "throttled" });
						throw new TooManyRequestsError("Too many failed logins; try again later", retryAfter);
					}
					let ok: boolean;
					try {
						// the owner at an address they used before goes ahead of strangers
						ok = await this.bcrypt.run(() => bcrypt.compare(password, found?.passwordHash ?? this.dummyHash), found?.knownAddress === true);
					} catch (err) {
						// never checked: not a failure of the caller's
						await this.repo.returnLoginAttempt(counters, false);
						throw err;
					}
					if (!found || !ok) {
						defineMetrics(this.broker, IDENTITY_METRICS).loginFailures.inc({ outcome: "invalid_credentials" });
						throw new InvalidCredentialsError();
					}
					await Promise.all([this.repo.returnLoginAttempt(counters, true), this.repo.rememberAddress(found.user.id, address)]);
					const tokens = await this.issueTokens(found.user);
					return { ...tokens, user: found.user };
				}
			},

			/** Rotates a refresh token into a new pair. Throws INVALID_REFRESH_TOKEN (401); a reused token revokes its family. */
			refresh: {
				rest: "POST /auth/refresh",
				summary: "Rotate a refresh token into a new pair",
				responses: { 200: { description: "A new token pair", schema: TOKEN_PAIR } },
				errors: { 401: ["INVALID_REFRESH_TOKEN"] },
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
							return { error: "reused" as const, familyId: stored.familyId, userId: stored.userId };
						}
						if (verdict !== "valid") return { error: verdict };
						const user = await this.repo.findById(stored.userId, t);
						if (!user) return { error: "revoked" as const };
						const next = newRefreshToken();
						const expiresAt = new Date(Date.now() + this.settings.tokens.refreshTokenTtlSeconds * 1000);
						const nextId = await this.repo.insertRefreshToken({ userId: user.id, familyId: stored.familyId, hash: next.hash, expiresAt }, t);
						await this.repo.markRotated(stored.id, nextId, t);
						return { error: undefined, user, refreshToken: next.token, familyId: stored.familyId };
					});
					if (outcome.error !== undefined) {
						if (outcome.error === "reused") {
							this.logger.warn(`Refresh token reuse detected: revoked token family ${outcome.familyId}`);
							await this.endSessions(ctx, { userId: outcome.userId, sessionIds: [outcome.familyId] });
						}
						throw new InvalidRefreshTokenError(outcome.error);
					}
					return {
						accessToken: signAccessToken({ userId: outcome.user.id, sessionId: outcome.familyId }, this.settings.tokens),
						refreshToken: outcome.refreshToken,
						tokenType: "Bearer",
						expiresIn: this.settings.tokens.accessTokenTtlSeconds
					};
				}
			},

			/**
			 * Ends the session the refresh token belongs to (its whole family) and the session of the access token
			 * used to call it: their access tokens stop working at once, on every gateway. Needs a user; answers 204.
			 */
			logout: {
				rest: "POST /auth/logout",
				summary: "Sign out: end the session of a refresh token",
				responses: { 204: { description: "Signed out" } },
				visibility: "published",
				auth: "required",
				params: { $$strict: "remove", refreshToken: { type: "string", min: 1, max: 512 } },
				async handler(this: IdentityThis, ctx: Ctx<RefreshParams>): Promise<null> {
					const caller = callerOf(ctx);
					const ended = await this.db.transaction(async t => {
						const families = caller.sessionId ? [caller.sessionId] : [];
						const stored = await this.repo.lockRefreshToken(hashRefreshToken(ctx.params.refreshToken), t);
						// Someone else's or an unknown token: nothing of the caller's to end, and nothing to reveal.
						if (stored && stored.userId === caller.id && !families.includes(stored.familyId)) families.push(stored.familyId);
						for (const family of families) await this.repo.revokeFamily(family, t);
						return families;
					});
					if (ended.length > 0) await this.endSessions(ctx, { userId: caller.id, sessionIds: ended });
					ctx.meta.$statusCode = 204;
					return null;
				}
			},

			/** The signed-in user, with what their role lets them do. Throws UNAUTHENTICATED (401) when the account no longer exists. */
			me: {
				rest: "GET /auth/me",
				summary: "The signed-in user and their permissions",
				responses: { 200: { description: "You", schema: ME } },
				visibility: "published",
				auth: "required",
				async handler(this: IdentityThis, ctx: Ctx<Record<string, never>>): Promise<{ user: UserWithPermissions }> {
					const caller = ctx.meta.user;
					const user = caller && (await this.repo.findWithPermissions(caller.id));
					if (!user) throw new UnauthenticatedError("This account no longer exists");
					return { user };
				}
			},

			/**
			 * Who an access token belongs to, from current data: the user must still exist and the token's session
			 * must not have ended; the role and permissions are the user's now, whatever the token says. Throws INVALID_TOKEN
			 * (401). Used by the gateway and the gRPC adapter.
			 */
			resolveToken: {
				visibility: "public",
				params: { token: { type: "string", min: 1, max: 8192 } },
				async handler(this: IdentityThis, ctx: Ctx<TokenParams>): Promise<AuthUser> {
					const claims = verifyAccessToken(ctx.params.token, this.settings.tokens);
					const user = await this.repo.resolveSession(claims.userId, claims.sessionId);
					if (!user) throw new InvalidTokenError("revoked");
					return user;
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
			},

			// verifying addresses, resetting and changing passwords, sessions, profile changes (identity.account.ts)
			...accountActions(config)
		},

		methods: {
			/** A new session: a refresh token starting a family, and an access token naming it. */
			async issueTokens(this: IdentityThis, user: AuthUser | UserDto): Promise<TokenPair> {
				const refresh = newRefreshToken();
				const expiresAt = new Date(Date.now() + this.settings.tokens.refreshTokenTtlSeconds * 1000);
				const familyId = crypto.randomUUID();
				await this.repo.insertRefreshToken({ userId: user.id, familyId, hash: refresh.hash, expiresAt });
				return {
					accessToken: signAccessToken({ userId: user.id, sessionId: familyId }, this.settings.tokens),
					refreshToken: refresh.token,
					tokenType: "Bearer",
					expiresIn: this.settings.tokens.accessTokenTtlSeconds
				};
			},

			/**
			 * Tells every node that these sessions ended (broadcast): a gateway drops the answers it kept for their
			 * access tokens, so they stop working everywhere at once rather than when the kept answer runs out.
			 */
			async endSessions(this: IdentityThis, ctx: Ctx<unknown>, event: SessionsEndedEvent): Promise<void> {
				await ctx.broadcast("identity.sessionsEnded", event);
			},

			/** Makes sure the configured admin exists and holds the admin role. Safe when several instances start at once. */
			async ensureAdmin(this: IdentityThis): Promise<void> {
				const admin = this.settings.admin;
				if (!admin) return;
				const created = await this.repo.insertUser({
					email: admin.email,
					name: "Administrator",
					phone: null,
					passwordHash: await bcrypt.hash(admin.password, this.settings.bcryptRounds),
					role: ADMIN_ROLE
				});
				if (created) {
					// the operator vouches for the configured address
					await new AccountRepository(this.db).markVerified(created.id);
					this.logger.info(`Created the admin user ${admin.email}`);
					return;
				}
				const existing = await this.repo.findByEmail(admin.email);
				if (existing && existing.user.role !== ADMIN_ROLE) {
					await this.repo.setRoleByName(existing.user.id, ADMIN_ROLE);
					this.logger.info(`Gave the admin role to ${admin.email}`);
				}
			}
		},

		created(this: IdentityThis) {
			this.bcrypt = new Bulkhead(c.bcryptMaxInFlight, c.bcryptMaxQueue);
		},

		async started(this: IdentityThis) {
			this.repo = new IdentityRepository(this.db);
			this.access = new AccessRepository(this.db);
			await this.access.ensureBuiltins();
			this.dummyHash = await bcrypt.hash("not-a-real-password", this.settings.bcryptRounds);
			await this.ensureAdmin();
			// counters past their window and dead sessions go, so the tables do not grow with every guess and login
			this.purge = new Pump(
				async () => {
					const purged = await this.repo.purge(this.settings.loginThrottle.windowSeconds);
					if (purged.counters + purged.tokens + purged.addresses + purged.linkTokens > 0) {
						this.logger.info(
							`Purged ${purged.counters} login counters, ${purged.tokens} refresh tokens, ${purged.addresses} sign-in addresses, ${purged.linkTokens} mailed link tokens`
						);
					}
				},
				this.settings.purgeIntervalSeconds * 1000,
				err => this.logger.warn("Purging identity's expired rows failed; will try again:", err)
			);
			this.purge.start();
		},

		async stopped(this: IdentityThis) {
			await this.purge?.stop();
		}
	};
}
