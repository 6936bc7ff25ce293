import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import { InvalidTokenError } from "./identity.errors";

/** Pure token rules: no I/O, the clock comes in as an argument. */

export interface TokenSettings {
	jwtSecret: string;
	jwtIssuer: string;
	jwtAudience: string;
	accessTokenTtlSeconds: number;
	refreshTokenTtlSeconds: number;
}

const ALGORITHM = "HS256" as const;

/**
 * What an access token says: who (`sub`) and which session (`sid`, the refresh-token family it was issued
 * with). Nothing about what the caller may do: roles are read from identity's current data every time a
 * token is resolved, so a token cannot carry more rights than its user holds now.
 */
export interface AccessClaims {
	userId: string;
	sessionId: string;
}

/** A token whose `iat` is further ahead than this is refused (clocks of identity's nodes may differ a little). */
export const MAX_CLOCK_SKEW_SECONDS = 30;

export function signAccessToken(claims: AccessClaims, s: TokenSettings, now: Date = new Date()): string {
	const iat = Math.floor(now.getTime() / 1000);
	return jwt.sign({ sid: claims.sessionId, iat, exp: iat + s.accessTokenTtlSeconds }, s.jwtSecret, {
		algorithm: ALGORITHM,
		issuer: s.jwtIssuer,
		audience: s.jwtAudience,
		subject: claims.userId,
		jwtid: crypto.randomUUID()
	});
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The claims of a valid, current access token; throws `InvalidTokenError` for anything else: a bad signature,
 * issuer, audience or algorithm, no `exp`, an `iat` in the future, or claims that are not ours.
 */
export function verifyAccessToken(token: string, s: TokenSettings, now: Date = new Date()): AccessClaims {
	const nowSeconds = Math.floor(now.getTime() / 1000);
	let claims: jwt.JwtPayload;
	try {
		const decoded = jwt.verify(token, s.jwtSecret, {
			algorithms: [ALGORITHM],
			issuer: s.jwtIssuer,
			audience: s.jwtAudience,
			clockTimestamp: nowSeconds
		});
		if (typeof decoded === "string") throw new InvalidTokenError("malformed");
		claims = decoded;
	} catch (err) {
		if (err instanceof InvalidTokenError) throw err;
		if (err instanceof jwt.TokenExpiredError) throw new InvalidTokenError("expired");
		throw new InvalidTokenError("invalid");
	}
	// jsonwebtoken accepts a token without exp (it never expires) and does not look at iat
	if (typeof claims.exp !== "number" || typeof claims.iat !== "number") throw new InvalidTokenError("malformed");
	if (claims.iat > nowSeconds + MAX_CLOCK_SKEW_SECONDS) throw new InvalidTokenError("invalid");
	if (typeof claims.sub !== "string" || !UUID.test(claims.sub) || typeof claims.sid !== "string" || !UUID.test(claims.sid)) {
		throw new InvalidTokenError("malformed");
	}
	return { userId: claims.sub, sessionId: claims.sid };
}

/** A new opaque refresh token and the hash we store in its place. */
export function newRefreshToken(): { token: string; hash: string } {
	const token = crypto.randomBytes(32).toString("base64url");
	return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
	return crypto.createHash("sha256").update(token).digest("hex");
}

export interface StoredRefreshToken {
	expiresAt: Date;
	revokedAt: Date | null;
	replacedBy: string | null;
}

/**
 * What presenting a stored refresh token means. A token already rotated (replaced) is a reuse: someone
 * holds a copy, so the whole family must be revoked.
 */
export function judgeRefreshToken(t: StoredRefreshToken, now: Date = new Date()): "valid" | "reused" | "revoked" | "expired" {
	if (t.replacedBy) return "reused";
	if (t.revokedAt) return "revoked";
	if (t.expiresAt.getTime() <= now.getTime()) return "expired";
	return "valid";
}

/**
 * One counter a login attempt is taken from before the password is checked. At most `max` attempts per
 * window; a `progressive` counter then lets one more through each time a delay has passed, doubling with
 * every attempt (capped at the window), so it slows a guesser down without ever shutting the door.
 */
export interface LoginCounter {
	key: string;
	max: number;
	windowSeconds: number;
	progressive?: boolean;
}

export interface LoginThrottleRules {
	/** Per account and client address (LOGIN_MAX_FAILURES). */
	maxFailures: number;
	windowSeconds: number;
	/** Per client address across accounts (LOGIN_ADDRESS_MAX_FAILURES). */
	addressMaxFailures: number;
	/** Per account across addresses, progressive; not for addresses the account signed in from before (LOGIN_ACCOUNT_MAX_FAILURES). */
	accountMaxFailures: number;
}

/** The counters one login attempt takes, in a fixed order (they are locked in it). */
export function loginCounters(email: string, address: string, knownAddress: boolean, r: LoginThrottleRules): LoginCounter[] {
	const account = email.toLowerCase();
	const counters: LoginCounter[] = [
		{ key: `account-address:${account}|${address}`, max: r.maxFailures, windowSeconds: r.windowSeconds },
		{ key: `address:${address}`, max: r.addressMaxFailures, windowSeconds: r.windowSeconds }
	];
	if (!knownAddress) counters.push({ key: `account:${account}`, max: r.accountMaxFailures, windowSeconds: r.windowSeconds, progressive: true });
	return counters.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** The keys of the counters that belong to one account: its own, and the prefix of its per-address ones. */
export function accountCounterKeys(email: string): { account: string; accountAddressPrefix: string } {
	const account = email.toLowerCase();
	return { account: `account:${account}`, accountAddressPrefix: `account-address:${account}|` };
}

/** Seconds a progressive counter makes the next attempt wait once `failures` exceed `max`. */
export function progressiveDelaySeconds(failures: number, max: number, windowSeconds: number): number {
	if (failures < max) return 0;
	return Math.min(windowSeconds, 2 ** Math.min(30, failures - max + 1));
}
