import type { Channel, NotificationStatus, TemplateName } from "./notification.types";

/** Pure rules of delivery: keys, retries, backoff. */

/** Longest wait between two attempts, whatever the base. */
export const MAX_BACKOFF_SECONDS = 3600;
/** Longest error text kept on a record. */
export const MAX_ERROR_LENGTH = 500;

/** One record per fact and channel: the same fact never notifies twice on the same channel. */
export function recordKey(dedupeKey: string, channel: Channel): string {
	return `${dedupeKey}:${channel}`;
}

/** Seconds to wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base... capped. */
export function backoffSeconds(attempts: number, baseSeconds: number): number {
	if (baseSeconds <= 0) return 0;
	const exponent = Math.max(0, attempts - 1);
	// past 2^12 x base every realistic base is over the cap already
	return Math.min(MAX_BACKOFF_SECONDS, baseSeconds * 2 ** Math.min(exponent, 12));
}

export type AttemptOutcome =
	| { status: Extract<NotificationStatus, "SENT">; attempts: number }
	| { status: Extract<NotificationStatus, "PENDING">; attempts: number; error: string; retryInSeconds: number }
	| { status: Extract<NotificationStatus, "FAILED">; attempts: number; error: string };

/** What a delivery attempt leaves behind: SENT, PENDING until the next try, or FAILED once attempts run out. */
export function afterAttempt(previousAttempts: number, error: string | undefined, policy: { maxAttempts: number; retryBaseSeconds: number }): AttemptOutcome {
	const attempts = previousAttempts + 1;
	if (error === undefined) return { status: "SENT", attempts };
	const reason = error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
	if (attempts >= policy.maxAttempts) return { status: "FAILED", attempts, error: reason };
	return { status: "PENDING", attempts, error: reason, retryInSeconds: backoffSeconds(attempts, policy.retryBaseSeconds) };
}

/** Why an e-mail is not sent at all, or undefined when it can be. */
export function emailSkipReason(mailConfigured: boolean): string | undefined {
	return mailConfigured ? undefined : "E-mail is not configured (SMTP_URL)";
}

/** Why an SMS is not sent at all, or undefined when it can be. */
export function smsSkipReason(phone: string | null | undefined, smsConfigured: boolean): string | undefined {
	if (!phone) return "The user has no phone number";
	if (!smsConfigured) return "SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM)";
	return undefined;
}

const ORDER_FIELDS = ["orderId", "items", "totalCents", "currency"] as const;

/** The fields an order template needs that `data` lacks (the parameter schema makes them optional for `welcome`). */
export function missingOrderFields(data: object): string[] {
	const d = data as Record<string, unknown>;
	return ORDER_FIELDS.filter(f => d[f] === undefined || d[f] === null);
}

const LINK_FIELDS = ["url", "linkToken", "expiresAt"] as const;

/** The fields `template` needs that `data` lacks (the parameter schema makes each optional, as no template needs them all). */
export function missingTemplateFields(template: TemplateName, data: object): string[] {
	const d = data as Record<string, unknown>;
	const absent = (fields: readonly string[]) => fields.filter(f => d[f] === undefined || d[f] === null);
	switch (template) {
		case "welcome":
			return absent(["name"]);
		case "verifyEmail":
		case "resetPassword":
			return absent(LINK_FIELDS);
		default:
			return [...absent(["name"]), ...missingOrderFields(data)];
	}
}
