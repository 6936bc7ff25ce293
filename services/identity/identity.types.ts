/** The public contract of the identity domain: what other services and clients may rely on. */

export const ROLES = ["customer", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** A user as every client sees it: never the password or its hash. */
export interface UserDto {
	id: string;
	email: string;
	name: string;
	phone: string | null;
	roles: Role[];
	createdAt: string;
	/** The owner proved the address is theirs (the link mailed to it was opened). */
	emailVerified: boolean;
}

/** Who is calling: what the gateway puts in `ctx.meta.user` from a valid access token. */
export interface AuthUser {
	id: string;
	email: string;
	/** Read from identity's current data when the token is resolved, never from the token. */
	roles: Role[];
	/** The session (refresh-token family) the access token belongs to; logout ends it. */
	sessionId?: string;
	/** The e-mail address is verified, read from identity's current data when the token is resolved. */
	emailVerified?: boolean;
}

/** Metadata the entry points (gateway, gRPC adapter) pass along with a call. */
export interface CallerMeta {
	user?: AuthUser | null;
	/** The client's address (behind TRUSTED_PROXIES, from X-Forwarded-For), for throttling failed logins. */
	clientIp?: string;
	/** The request's Idempotency-Key header, where a client sent one (the gateway passes it on). */
	idempotencyKey?: string;
	$statusCode?: number;
	/** The Location header of a 201 (moleculer-web warns on every 201 without one). */
	$location?: string;
	$responseHeaders?: Record<string, string>;
}

export interface TokenPair {
	accessToken: string;
	refreshToken: string;
	tokenType: "Bearer";
	/** Seconds until the access token expires. */
	expiresIn: number;
}

export interface LoginResult extends TokenPair {
	user: UserDto;
}

export interface RegisterParams {
	email: string;
	password: string;
	name: string;
	phone?: string;
}

export interface LoginParams {
	email: string;
	password: string;
}

export interface RefreshParams {
	refreshToken: string;
}

export interface TokenParams {
	token: string;
}

export interface GetUserParams {
	id: string;
}

/** `identity.sessionsEnded` (broadcast): access tokens of these sessions, or of every session of the user, stop working. */
export interface SessionsEndedEvent {
	userId: string;
	/** Omitted: all of the user's sessions. */
	sessionIds?: string[];
}

/**
 * `identity.userChanged` (broadcast): what identity says about this user changed (the e-mail address or
 * whether it is verified); whoever keeps resolved access tokens of theirs drops them.
 */
export interface UserChangedEvent {
	userId: string;
}

/**
 * `identity.emailVerificationRequested`: mail a link that verifies `email` (an account's address, or the
 * new address it asked to change to). Holds nothing the user chose but the address itself.
 * `linkToken` is a secret (lib/events.ts SECRET_FIELDS): it travels to notification and is never shown.
 */
export interface EmailVerificationRequestedEvent {
	userId: string;
	email: string;
	/** The token's row: names the fact, for deduplication, without revealing the token. */
	tokenId: string;
	linkToken: string;
	expiresAt: string;
}

/** `identity.passwordResetRequested`: mail a link that sets a new password. `linkToken` is a secret. */
export interface PasswordResetRequestedEvent {
	userId: string;
	email: string;
	tokenId: string;
	linkToken: string;
	expiresAt: string;
}

/** `identity.emailVerified`: the address is the user's (the welcome e-mail hangs on it). */
export interface EmailVerifiedEvent {
	userId: string;
	email: string;
	name: string;
	phone: string | null;
	/** The address this one replaced, when the user changed it; null for a first verification. */
	previousEmail: string | null;
	verifiedAt: string;
}

export interface LinkTokenParams {
	token: string;
}

export interface ForgotPasswordParams {
	email: string;
}

export interface ResetPasswordParams {
	token: string;
	password: string;
}

export interface ChangePasswordParams {
	currentPassword: string;
	newPassword: string;
}

export interface SessionIdParams {
	id: string;
}

export interface UpdateMeParams {
	name?: string;
	/** null removes the phone number. */
	phone?: string | null;
	email?: string;
}

/** A user as they see themselves after a change: with the address waiting for verification, if any. */
export interface AccountDto extends UserDto {
	pendingEmail: string | null;
}

/** A signed-in session of one's own: a refresh-token family still alive. */
export interface SessionDto {
	/** The family id: what `DELETE /api/auth/sessions/:id` takes. */
	id: string;
	createdAt: string;
	/** When the session last signed in or refreshed its tokens. */
	lastUsedAt: string;
	expiresAt: string;
	/** The session of the access token this was asked with. */
	current: boolean;
}
