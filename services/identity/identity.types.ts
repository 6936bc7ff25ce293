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
}

/** Who is calling: what the gateway puts in `ctx.meta.user` from a valid access token. */
export interface AuthUser {
	id: string;
	email: string;
	/** Read from identity's current data when the token is resolved, never from the token. */
	roles: Role[];
	/** The session (refresh-token family) the access token belongs to; logout ends it. */
	sessionId?: string;
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

/** `identity.userRegistered`: a new account exists (the welcome e-mail hangs on it). */
export interface UserRegisteredEvent {
	userId: string;
	email: string;
	name: string;
	phone: string | null;
	registeredAt: string;
}
