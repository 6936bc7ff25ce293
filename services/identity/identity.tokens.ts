import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import { InvalidTokenError } from "./identity.errors";
import { ROLES, type AuthUser, type Role } from "./identity.types";

/** Pure token rules: no I/O, the clock comes in as an argument. */

export interface TokenSettings {
	jwtSecret: string;
	jwtIssuer: string;
	jwtAudience: string;
	accessTokenTtlSeconds: number;
	refreshTokenTtlSeconds: number;
}

const ALGORITHM = "HS256" as const;

export function signAccessToken(user: AuthUser, s: TokenSettings, now: Date = new Date()): string {
	const iat = Math.floor(now.getTime() / 1000);
	return jwt.sign({ email: user.email, roles: user.roles, iat, exp: iat + s.accessTokenTtlSeconds }, s.jwtSecret, {
		algorithm: ALGORITHM,
		issuer: s.jwtIssuer,
		audience: s.jwtAudience,
		subject: user.id,
		jwtid: crypto.randomUUID()
	});
}

/** The caller an access token names; throws `InvalidTokenError` for anything but a valid, current token. */
export function verifyAccessToken(token: string, s: TokenSettings, now: Date = new Date()): AuthUser {
	let claims: jwt.JwtPayload;
	try {
		const decoded = jwt.verify(token, s.jwtSecret, {
			algorithms: [ALGORITHM],
			issuer: s.jwtIssuer,
			audience: s.jwtAudience,
			clockTimestamp: Math.floor(now.getTime() / 1000)
		});
		if (typeof decoded === "string") throw new InvalidTokenError("malformed");
		claims = decoded;
	} catch (err) {
		if (err instanceof InvalidTokenError) throw err;
		if (err instanceof jwt.TokenExpiredError) throw new InvalidTokenError("expired");
		throw new InvalidTokenError("invalid");
	}
	const roles = claims.roles;
	if (
		typeof claims.sub !== "string" ||
		typeof claims.email !== "string" ||
		!Array.isArray(roles) ||
		!roles.every(r => (ROLES as readonly string[]).includes(r))
	) {
		throw new InvalidTokenError("malformed");
	}
	return { id: claims.sub, email: claims.email, roles: roles as Role[] };
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

export interface LoginThrottle {
	maxFailures: number;
	windowSeconds: number;
}

export interface FailureRecord {
	failures: number;
	windowStartedAt: Date;
}

/** Seconds the caller must wait before trying again, or 0 when a login attempt may proceed. */
export function loginRetryAfter(record: FailureRecord | undefined, rule: LoginThrottle, now: Date = new Date()): number {
	if (!record || record.failures < rule.maxFailures) return 0;
	const windowEnds = record.windowStartedAt.getTime() + rule.windowSeconds * 1000;
	const remaining = Math.ceil((windowEnds - now.getTime()) / 1000);
	return remaining > 0 ? remaining : 0;
}
