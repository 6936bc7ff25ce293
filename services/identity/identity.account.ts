import bcrypt from "bcrypt";
import type { ActionSchema, Context } from "moleculer";
import type { Transaction } from "sequelize";
import "./identity.access";
import type { Bulkhead } from "../../lib/bulkhead";
import { addressKey } from "../../lib/client-address";
import type { AppConfig } from "../../app/config";
import { NotFoundError, TooManyRequestsError, UnauthenticatedError } from "../../lib/errors";
import { uuidParam } from "../../lib/params";
import { checkPasswordBytes, newPasswordParam, personNameParam, phoneParam } from "./identity.params";
import type { DbThis } from "../../lib/mixins/db.mixin";
import type { ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import { AccountRepository, type AccountUser } from "./identity.account-repository";
import { hashLinkToken, judgeLinkToken, MAIL_LIMITS, mailRetryAfter, newLinkToken, sameEmail, type LinkPurpose } from "./identity.account-rules";
import {
	EmailAlreadyVerifiedError,
	EmailTakenError,
	InvalidCurrentPasswordError,
	InvalidResetTokenError,
	InvalidVerificationTokenError
} from "./identity.errors";
import type { IdentityRepository } from "./identity.repository";
import { loginCounters, type LoginThrottleRules } from "./identity.tokens";
import { callerOf } from "./identity.types";
import type {
	AccountDto,
	CallerMeta,
	ChangePasswordParams,
	IdentityEvents,
	ForgotPasswordParams,
	LinkTokenParams,
	ResetPasswordParams,
	SessionDto,
	SessionIdParams,
	SessionsEndedEvent,
	UpdateMeParams,
	AccessChangedEvent
} from "./identity.types";
import { SESSION_LIST, USER_ENVELOPE } from "./identity.openapi";

/**
 * The account lifecycle, as identity actions: verifying an e-mail address, resetting and changing the
 * password, one's sessions, and changing one's profile and address. Every link mailed carries a random token
 * stored only as its hash, works once, expires, and is mailed through a reliable event to notification.
 */

/** What these actions need of the identity service they are part of. */
export type AccountHost = DbThis &
	ReliableEventsThis<IdentityEvents> & {
		settings: { bcryptRounds: number; loginThrottle: LoginThrottleRules };
		repo: IdentityRepository;
		bcrypt: Bulkhead;
		endSessions(ctx: Ctx<unknown>, event: SessionsEndedEvent): Promise<void>;
	};

type Ctx<P> = Context<P, CallerMeta>;

/** Sessions one listing shows, most recently used first. */
const MAX_SESSIONS_LISTED = 100;

const linkTokenParam = { type: "string", min: 1, max: 512 } as const;

/** The same answer whoever asks: nobody learns from it whether an address has an account. */
const FORGOT_PASSWORD_ANSWER = Object.freeze({ message: "If an account uses this address, a link to reset its password is on its way." });

const EVENT_OF: Record<LinkPurpose, "identity.emailVerificationRequested" | "identity.passwordResetRequested"> = {
	verifyEmail: "identity.emailVerificationRequested",
	resetPassword: "identity.passwordResetRequested"
};

function tooMany(ctx: Ctx<unknown>, message: string, retryAfter: number): TooManyRequestsError {
	ctx.meta.$responseHeaders = { "Retry-After": String(retryAfter) };
	return new TooManyRequestsError(message, retryAfter);
}

/**
 * Mails a new link of `purpose` to `to` (in transaction `t`, with the user's row locked), unless the mail
 * limits say wait: then nothing is written and the answer is the seconds to wait (else 0). Every older link
 * of the purpose stops working. The token goes only into the event; the table keeps its hash.
 */
async function mailLink(host: AccountHost, purpose: LinkPurpose, to: { userId: string; email: string }, ttlSeconds: number, t: Transaction): Promise<number> {
	const accounts = new AccountRepository(host.db);
	const wait = mailRetryAfter(await accounts.recentLinkAges(to.userId, purpose, MAIL_LIMITS.windowSeconds, MAIL_LIMITS.maxPerWindow, t));
	if (wait > 0) return wait;
	const { token, hash } = newLinkToken();
	const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
	const tokenId = await accounts.insertLinkToken({ userId: to.userId, purpose, email: to.email, hash, expiresAt }, t);
	await host.outbox.add(t, EVENT_OF[purpose], {
		userId: to.userId,
		email: to.email,
		tokenId,
		linkToken: token,
		expiresAt: expiresAt.toISOString()
	});
	return 0;
}

/** Mails a new account its verification link, in the transaction that creates it (so the link is never lost). */
export async function mailVerificationLink(host: AccountHost, config: AppConfig, user: { id: string; email: string }, t: Transaction): Promise<void> {
	await mailLink(host, "verifyEmail", { userId: user.id, email: user.email }, config.identity.emailVerificationTtlSeconds, t);
}

/** The account as its owner sees it after a change. */
async function accountOf(host: AccountHost, userId: string): Promise<AccountDto> {
	const [user, pendingEmail] = await Promise.all([host.repo.findById(userId), new AccountRepository(host.db).pendingEmail(userId)]);
	if (!user) throw new UnauthenticatedError("This account no longer exists");
	return { ...user, pendingEmail };
}

async function lockCaller(accounts: AccountRepository, userId: string, t: Transaction): Promise<AccountUser> {
	const user = await accounts.lockUser(userId, t);
	if (!user) throw new UnauthenticatedError("This account no longer exists");
	return user;
}

/** Identity's account actions, spread into its `actions`. */
export function accountActions(config: AppConfig): Record<string, ActionSchema<AccountHost>> {
	const c = config.identity;
	return {
		/**
		 * Verifies an address with the token of the link mailed to it: the account's own, or the new one a change
		 * waits on (the account then switches to it). Throws INVALID_VERIFICATION_TOKEN (400) for an unknown,
		 * used, replaced or expired token, EMAIL_TAKEN (409) when another account took the new address meanwhile.
		 */
		verifyEmail: {
			rest: "POST /auth/verify-email",
			responses: {
				200: {
					description: "The address is verified (and is now the account's, for a change of address)",
					schema: {
						type: "object",
						required: ["email", "emailVerified"],
						properties: { email: { type: "string", format: "email" }, emailVerified: { const: true } }
					}
				}
			},
			errors: { 400: ["INVALID_VERIFICATION_TOKEN"], 409: ["EMAIL_TAKEN"] },
			visibility: "published",
			auth: "public",
			params: { $$strict: "remove", token: linkTokenParam },
			async handler(this: AccountHost, ctx: Ctx<LinkTokenParams>): Promise<{ email: string; emailVerified: true }> {
				const accounts = new AccountRepository(this.db);
				const hash = hashLinkToken(ctx.params.token);
				const outcome = await this.db.transaction(async t => {
					const found = await accounts.findLinkToken(hash, "verifyEmail", t);
					if (!found) throw new InvalidVerificationTokenError("unknown");
					// the user's row first, then the link: the order every change of an account takes its locks in
					const user = await accounts.lockUser(found.userId, t);
					const link = await accounts.findLinkToken(hash, "verifyEmail", t, true);
					if (!user || !link) throw new InvalidVerificationTokenError("unknown");
					const verdict = judgeLinkToken(link);
					if (verdict !== "valid") throw new InvalidVerificationTokenError(verdict);
					const change = !sameEmail(link.email, user.email);
					if (change) {
						if ((await accounts.changeEmail(user.id, link.email, t)) === "taken") throw new EmailTakenError(link.email);
						// a reset link mailed to the old address no longer belongs to the account's address
						await accounts.useLinkTokens(user.id, "resetPassword", t);
					}
					const verified = change || (await accounts.markVerified(user.id, t));
					await accounts.useLinkTokens(user.id, "verifyEmail", t);
					if (verified) {
						await this.outbox.add(t, "identity.emailVerified", {
							userId: user.id,
							email: link.email,
							name: user.name,
							phone: user.phone,
							previousEmail: change ? user.email : null,
							verifiedAt: new Date().toISOString()
						});
					}
					return { userId: user.id, email: link.email, verified };
				});
				// gateways drop the access tokens they resolved before: the address (and its being verified) changed
				if (outcome.verified) await ctx.broadcast<AccessChangedEvent>("identity.accessChanged", { userIds: [outcome.userId] });
				return { email: outcome.email, emailVerified: true };
			}
		},

		/**
		 * Mails a new verification link (older ones stop working): to the address a change waits on, else to the
		 * account's unverified address. Answers 202 `{ email }`. Throws EMAIL_ALREADY_VERIFIED (409) when there is
		 * nothing to verify, TOO_MANY_REQUESTS (429, Retry-After) past one link a minute or five an hour.
		 */
		resendVerification: {
			rest: "POST /auth/resend-verification",
			responses: {
				202: {
					description: "A new link is on its way to the address",
					schema: { type: "object", required: ["email"], properties: { email: { type: "string", format: "email" } } }
				}
			},
			errors: { 409: ["EMAIL_ALREADY_VERIFIED"] },
			visibility: "published",
			auth: "required",
			params: { $$strict: "remove" },
			async handler(this: AccountHost, ctx: Ctx<Record<string, never>>): Promise<{ email: string }> {
				const accounts = new AccountRepository(this.db);
				const me = callerOf(ctx);
				const outcome = await this.db.transaction(async t => {
					const user = await lockCaller(accounts, me.id, t);
					const email = (await accounts.pendingEmail(user.id, t)) ?? (user.emailVerified ? undefined : user.email);
					if (!email) throw new EmailAlreadyVerifiedError();
					return { email, retryAfter: await mailLink(this, "verifyEmail", { userId: user.id, email }, c.emailVerificationTtlSeconds, t) };
				});
				if (outcome.retryAfter > 0) throw tooMany(ctx, "A verification link was mailed a moment ago; try again later", outcome.retryAfter);
				ctx.meta.$statusCode = 202;
				return { email: outcome.email };
			}
		},

		/**
		 * Mails a password reset link to the account with this address, if there is one and the mail limits
		 * allow. Always answers 202 with the same body, so nobody learns whether an address has an account.
		 */
		forgotPassword: {
			rest: "POST /auth/forgot-password",
			responses: {
				202: {
					description: "The same answer whether or not an account uses the address",
					schema: { type: "object", required: ["message"], properties: { message: { type: "string" } } }
				}
			},
			visibility: "published",
			auth: "public",
			params: { $$strict: "remove", email: { type: "email", normalize: true, max: 254 } },
			async handler(this: AccountHost, ctx: Ctx<ForgotPasswordParams>): Promise<typeof FORGOT_PASSWORD_ANSWER> {
				const accounts = new AccountRepository(this.db);
				const found = await accounts.findByEmail(ctx.params.email);
				if (found) {
					await this.db.transaction(async t => {
						const user = await accounts.lockUser(found.id, t);
						// past the limits nothing more is mailed, and the answer says nothing of it
						if (user) await mailLink(this, "resetPassword", { userId: user.id, email: user.email }, c.passwordResetTtlSeconds, t);
					});
				}
				ctx.meta.$statusCode = 202;
				return FORGOT_PASSWORD_ANSWER;
			}
		},

		/**
		 * Sets a new password with the token of a reset link, which then stops working with every other reset
		 * link of the account; ends every session of the account (on every gateway at once) and forgets its
		 * failed logins. The link proves the address, so an unverified one becomes verified. Answers 204.
		 * Throws INVALID_RESET_TOKEN (400), VALIDATION_ERROR (422), SERVER_BUSY (503).
		 */
		resetPassword: {
			rest: "POST /auth/reset-password",
			summary: "Set a new password with a mailed reset link",
			responses: { 204: { description: "Changed; every session of the account ended" } },
			visibility: "published",
			auth: "public",
			params: { $$strict: "remove", token: linkTokenParam, password: newPasswordParam },
			async handler(this: AccountHost, ctx: Ctx<ResetPasswordParams>): Promise<null> {
				const { token, password } = ctx.params;
				checkPasswordBytes(password, "password");
				const accounts = new AccountRepository(this.db);
				const hash = hashLinkToken(token);
				// a bad link costs no bcrypt work
				const found = await accounts.findLinkToken(hash, "resetPassword");
				if (!found) throw new InvalidResetTokenError("unknown");
				const verdict = judgeLinkToken(found);
				if (verdict !== "valid") throw new InvalidResetTokenError(verdict);
				const passwordHash = await this.bcrypt.run(() => bcrypt.hash(password, this.settings.bcryptRounds));
				const userId = await this.db.transaction(async t => {
					const user = await accounts.lockUser(found.userId, t);
					const link = await accounts.findLinkToken(hash, "resetPassword", t, true);
					if (!user || !link) throw new InvalidResetTokenError("unknown");
					// a twin request may have used it meanwhile
					const now = judgeLinkToken(link);
					if (now !== "valid") throw new InvalidResetTokenError(now);
					// mailed to an address that is no longer the account's
					if (!sameEmail(link.email, user.email)) throw new InvalidResetTokenError("used");
					await accounts.setPasswordHash(user.id, passwordHash, t);
					await accounts.useLinkTokens(user.id, "resetPassword", t);
					await this.repo.revokeAllSessions(user.id, t);
					await accounts.clearLoginCounters(user.email, t);
					if (await accounts.markVerified(user.id, t)) {
						await this.outbox.add(t, "identity.emailVerified", {
							userId: user.id,
							email: user.email,
							name: user.name,
							phone: user.phone,
							previousEmail: null,
							verifiedAt: new Date().toISOString()
						});
					}
					return user.id;
				});
				// every session ended: their access tokens stop at every gateway now, not when they expire
				await this.endSessions(ctx, { userId });
				ctx.meta.$statusCode = 204;
				return null;
			}
		},

		/**
		 * Changes the caller's password, given the current one, and ends every other session of theirs; the
		 * caller's own stays. Answers 204. Throws INVALID_CURRENT_PASSWORD (403), TOO_MANY_REQUESTS (429; wrong
		 * passwords count as failed logins), VALIDATION_ERROR (422), SERVER_BUSY (503).
		 */
		changePassword: {
			rest: "POST /auth/change-password",
			errors: { 403: ["INVALID_CURRENT_PASSWORD"] },
			summary: "Change your password",
			responses: { 204: { description: "Changed" } },
			visibility: "published",
			auth: "required",
			params: { $$strict: "remove", currentPassword: { type: "string", min: 1, max: 1024 }, newPassword: newPasswordParam },
			async handler(this: AccountHost, ctx: Ctx<ChangePasswordParams>): Promise<null> {
				const me = callerOf(ctx);
				const { currentPassword, newPassword } = ctx.params;
				checkPasswordBytes(newPassword, "newPassword");
				const accounts = new AccountRepository(this.db);
				const address = addressKey(ctx.meta.clientIp ?? "local");
				const found = await accounts.credentialsOf(me.id, address);
				if (!found) throw new UnauthenticatedError("This account no longer exists");
				// a stolen access token must not become a way round the login throttle
				const counters = loginCounters(found.email, address, found.knownAddress, this.settings.loginThrottle);
				const retryAfter = await this.repo.takeLoginAttempt(counters);
				if (retryAfter > 0) throw tooMany(ctx, "Too many failed password checks; try again later", retryAfter);
				let ok: boolean;
				try {
					ok = await this.bcrypt.run(() => bcrypt.compare(currentPassword, found.passwordHash), found.knownAddress);
				} catch (err) {
					await this.repo.returnLoginAttempt(counters, false);
					throw err;
				}
				if (!ok) throw new InvalidCurrentPasswordError();
				await this.repo.returnLoginAttempt(counters, true);
				const passwordHash = await this.bcrypt.run(() => bcrypt.hash(newPassword, this.settings.bcryptRounds), found.knownAddress);
				const ended = await this.db.transaction(async t => {
					await accounts.setPasswordHash(me.id, passwordHash, t);
					// a reset link asked for before no longer undoes the change
					await accounts.useLinkTokens(me.id, "resetPassword", t);
					return accounts.revokeOtherSessions(me.id, me.sessionId, t);
				});
				if (ended.length > 0) await this.endSessions(ctx, { userId: me.id, sessionIds: ended });
				ctx.meta.$statusCode = 204;
				return null;
			}
		},

		/** The caller's live sessions, most recently used first (at most 100), the current one marked. */
		listSessions: {
			rest: "GET /auth/sessions",
			summary: "List your live sessions",
			responses: { 200: { description: "Your sessions, most recently used first", schema: SESSION_LIST } },
			visibility: "published",
			auth: "required",
			async handler(this: AccountHost, ctx: Ctx<Record<string, never>>): Promise<{ items: SessionDto[] }> {
				const me = callerOf(ctx);
				const sessions = await new AccountRepository(this.db).listSessions(me.id, MAX_SESSIONS_LISTED);
				return { items: sessions.map(s => ({ ...s, current: s.id === me.sessionId })) };
			}
		},

		/**
		 * Ends one of the caller's sessions: its refresh token stops working, and its access tokens at once on
		 * every gateway. Answers 204. Throws NOT_FOUND (404) for a session that is not the caller's or not live.
		 */
		endSession: {
			rest: "DELETE /auth/sessions/:id",
			summary: "End one of your sessions",
			responses: { 204: { description: "Ended" } },
			errors: { 404: ["NOT_FOUND"] },
			visibility: "published",
			auth: "required",
			params: { $$strict: "remove", id: uuidParam },
			async handler(this: AccountHost, ctx: Ctx<SessionIdParams>): Promise<null> {
				const me = callerOf(ctx);
				const ended = await new AccountRepository(this.db).revokeSession(me.id, ctx.params.id);
				if (!ended) throw new NotFoundError("Session", ctx.params.id);
				await this.endSessions(ctx, { userId: me.id, sessionIds: [ctx.params.id] });
				ctx.meta.$statusCode = 204;
				return null;
			}
		},

		/**
		 * Changes the caller's name and phone (`phone: null` removes it) at once. A new e-mail address is not
		 * taken at once: a verification link is mailed to it and the account switches when it is opened (the
		 * current address keeps working meanwhile; asking for the current address calls a waiting change off).
		 * Answers the user with `pendingEmail`. Throws EMAIL_TAKEN (409), TOO_MANY_REQUESTS (429, Retry-After:
		 * the verification mail limits; nothing is changed then), VALIDATION_ERROR (422).
		 */
		updateMe: {
			rest: "PATCH /auth/me",
			responses: { 200: { description: "The account as changed, with `pendingEmail` while a new address waits for its link", schema: USER_ENVELOPE } },
			errors: { 409: ["EMAIL_TAKEN"] },
			visibility: "published",
			// every role that may change its own account holds it (customer does)
			permission: "profile.edit",
			params: {
				$$strict: "remove",
				name: { ...personNameParam, optional: true },
				phone: { ...phoneParam, optional: true, nullable: true },
				email: { type: "email", normalize: true, max: 254, optional: true }
			},
			async handler(this: AccountHost, ctx: Ctx<UpdateMeParams>): Promise<{ user: AccountDto }> {
				const me = callerOf(ctx);
				const { name, phone, email } = ctx.params;
				const accounts = new AccountRepository(this.db);
				await this.db.transaction(async t => {
					const user = await lockCaller(accounts, me.id, t);
					await accounts.updateProfile(user.id, { name, phone }, t);
					if (email === undefined) return;
					if (sameEmail(email, user.email)) {
						await accounts.cancelEmailChange(user.id, t);
						return;
					}
					if (await accounts.emailTaken(email, user.id, t)) throw new EmailTakenError(email);
					const wait = await mailLink(this, "verifyEmail", { userId: user.id, email }, c.emailVerificationTtlSeconds, t);
					// thrown inside: the name and phone are not changed either
					if (wait > 0) throw tooMany(ctx, "A verification link was mailed a moment ago; try again later", wait);
				});
				return { user: await accountOf(this, me.id) };
			}
		}
	};
}
