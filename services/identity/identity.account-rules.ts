import crypto from "node:crypto";

/** Pure rules of the links identity mails (verify an address, reset a password): no I/O, the clock comes in. */

export const LINK_PURPOSES = ["verifyEmail", "resetPassword"] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

/** A new link token (256 random bits, URL-safe) and the hash stored in its place; the token itself is never kept. */
export function newLinkToken(): { token: string; hash: string } {
	const token = crypto.randomBytes(32).toString("base64url");
	return { token, hash: hashLinkToken(token) };
}

/** SHA-256 of the token: tokens are looked up by it, so no token is ever compared character by character. */
export function hashLinkToken(token: string): string {
	return crypto.createHash("sha256").update(token).digest("hex");
}

export interface StoredLinkToken {
	expiresAt: Date;
	usedAt: Date | null;
}

/** Whether a stored link still works: each works once, and not after it expires or a newer one was mailed. */
export function judgeLinkToken(t: StoredLinkToken, now: Date = new Date()): "valid" | "used" | "expired" {
	if (t.usedAt) return "used";
	if (t.expiresAt.getTime() <= now.getTime()) return "expired";
	return "valid";
}

/** How often links of one purpose may be mailed to one account. */
export interface MailLimits {
	/** Seconds between two links. */
	minIntervalSeconds: number;
	/** Links within `windowSeconds`. */
	maxPerWindow: number;
	windowSeconds: number;
}

/** One a minute and five an hour: enough for a lost mail, too few to flood someone's mailbox. */
export const MAIL_LIMITS: MailLimits = { minIntervalSeconds: 60, maxPerWindow: 5, windowSeconds: 3600 };

/**
 * Seconds until another link may be mailed, given the ages in seconds (newest first) of the links mailed
 * within the window; 0 when one may go now.
 */
export function mailRetryAfter(agesNewestFirst: readonly number[], l: MailLimits = MAIL_LIMITS): number {
	let wait = 0;
	if (agesNewestFirst.length > 0) wait = Math.max(wait, l.minIntervalSeconds - agesNewestFirst[0]);
	if (agesNewestFirst.length >= l.maxPerWindow) wait = Math.max(wait, l.windowSeconds - agesNewestFirst[l.maxPerWindow - 1]);
	return wait > 0 ? Math.max(1, Math.ceil(wait)) : 0;
}

/** E-mail addresses are one account's whatever their case (the unique index is on lower(email)). */
export function sameEmail(a: string, b: string): boolean {
	return a.toLowerCase() === b.toLowerCase();
}
