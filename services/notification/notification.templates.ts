import type { LinkData, OrderData, TemplateData, TemplateName, WelcomeData } from "./notification.types";

/** Pure: what each notification says. Every value that comes from a user is escaped in HTML. */

export interface EmailContent {
	subject: string;
	text: string;
	html: string;
}

export interface SmsContent {
	body: string;
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
	return value.replace(/[&<>"']/g, c => HTML_ESCAPES[c]);
}

const LOCALES: Record<string, string> = { BRL: "pt-BR", USD: "en-US", EUR: "de-DE", GBP: "en-GB" };

/**
 * Integer minor units as money in the currency (`formatMoney(123456, "BRL")` is "R$ 1.234,56").
 * The amount goes to Intl as an exact decimal string: no float ever carries money.
 */
/** One formatter per currency (making one is the costly part of formatting; a shop has a handful of currencies). */
const formats = new Map<string, Intl.NumberFormat>();
function currencyFormat(currency: string): Intl.NumberFormat {
	let format = formats.get(currency);
	if (!format) {
		// an unknown code throws here, before anything is kept
		format = new Intl.NumberFormat(LOCALES[currency] ?? "en-US", { style: "currency", currency });
		if (formats.size < 200) formats.set(currency, format);
	}
	return format;
}

export function formatMoney(cents: number, currency: string): string {
	if (!Number.isSafeInteger(cents)) throw new RangeError(`Money must be an integer number of minor units (got ${cents})`);
	const format = currencyFormat(currency);
	const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
	const abs = String(Math.abs(cents)).padStart(digits + 1, "0");
	const decimal = digits === 0 ? abs : `${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
	// ES2023 Intl formats a decimal string exactly
	return format.format(`${cents < 0 ? "-" : ""}${decimal}` as Intl.StringNumericLiteral);
}

const CANCEL_REASONS: Record<string, string> = {
	out_of_stock: "some items were out of stock",
	payment_declined: "the payment was declined",
	customer_request: "you asked us to cancel it",
	timeout: "it could not be completed in time"
};

/** The human reason for a cancellation; an unknown code is shown as it is. */
export function describeCancelReason(reason: string | undefined): string | undefined {
	if (!reason) return undefined;
	return CANCEL_REASONS[reason] ?? reason;
}

function page(title: string, body: string): string {
	return `<!doctype html><html><body style="font-family: sans-serif"><h1>${title}</h1>${body}<p>The Momentum team</p></body></html>`;
}

export function welcomeEmail(d: WelcomeData): EmailContent {
	return {
		subject: "Welcome to Momentum",
		text: `Hi ${d.name},\n\nWelcome to Momentum! Your account is ready.\n\nThe Momentum team\n`,
		html: page("Welcome to Momentum", `<p>Hi ${escapeHtml(d.name)},</p><p>Welcome to Momentum! Your account is ready.</p>`)
	};
}

/**
 * What a link's token reads as in a stored notification: the body is rendered with this in its place, and the
 * token only goes in when the message is sent (`reveal`).
 */
export const LINK_TOKEN_MASK = "[hidden]";

/** The text to send: the stored text with the link token back in place of its mask. */
export function reveal(text: string, linkToken: string | null | undefined): string {
	return linkToken ? text.split(LINK_TOKEN_MASK).join(linkToken) : text;
}

function linkOf(d: LinkData): string {
	// a token is base64url and the mask is ours: neither needs encoding
	return `${d.url}?token=${d.linkToken}`;
}

/** "2025-03-01 14:30 UTC": when a link stops working, the same for every reader. */
export function formatExpiry(iso: string): string {
	return `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Says nothing the user chose (not even the address): only the shop's own words and the link. */
export function verifyEmailEmail(d: LinkData): EmailContent {
	const link = linkOf(d);
	const until = formatExpiry(d.expiresAt);
	const ignore = "If you did not ask for a Momentum account or a change of address, ignore this message: nothing changes.";
	return {
		subject: "Confirm your e-mail address",
		text: `Hello,\n\nPlease confirm that this e-mail address is yours by opening this link:\n\n${link}\n\nThe link works once, until ${until}. ${ignore}\n\nThe Momentum team\n`,
		html: page(
			"Confirm your e-mail address",
			`<p>Hello,</p><p>Please confirm that this e-mail address is yours:</p><p><a href="${escapeHtml(link)}">Confirm my e-mail address</a></p>` +
				`<p>Or copy this link into your browser: ${escapeHtml(link)}</p><p>The link works once, until ${escapeHtml(until)}. ${escapeHtml(ignore)}</p>`
		)
	};
}

export function resetPasswordEmail(d: LinkData): EmailContent {
	const link = linkOf(d);
	const until = formatExpiry(d.expiresAt);
	const asked = "Someone, we hope you, asked to reset the password of the Momentum account that uses this e-mail address.";
	const ignore = "If it was not you, ignore this message: your password stays as it is.";
	return {
		subject: "Reset your Momentum password",
		text: `Hello,\n\n${asked} To choose a new password, open this link:\n\n${link}\n\nThe link works once, until ${until}. ${ignore}\n\nThe Momentum team\n`,
		html: page(
			"Reset your password",
			`<p>Hello,</p><p>${escapeHtml(asked)}</p><p><a href="${escapeHtml(link)}">Choose a new password</a></p>` +
				`<p>Or copy this link into your browser: ${escapeHtml(link)}</p><p>The link works once, until ${escapeHtml(until)}. ${escapeHtml(ignore)}</p>`
		)
	};
}

function itemLines(d: OrderData): string[] {
	return d.items.map(i => `${i.quantity} x ${i.name}: ${formatMoney(i.lineTotalCents, d.currency)}`);
}

function itemTable(d: OrderData): string {
	const rows = d.items
		.map(
			i =>
				`<tr><td>${escapeHtml(String(i.quantity))} x ${escapeHtml(i.name)}</td><td style="text-align: right">${escapeHtml(formatMoney(i.lineTotalCents, d.currency))}</td></tr>`
		)
		.join("");
	const total = `<tr><th style="text-align: left">Total</th><th style="text-align: right">${escapeHtml(formatMoney(d.totalCents, d.currency))}</th></tr>`;
	return `<table>${rows}${total}</table>`;
}

export function orderConfirmedEmail(d: OrderData): EmailContent {
	const total = formatMoney(d.totalCents, d.currency);
	return {
		subject: `Your order ${d.orderId} is confirmed`,
		text: [`Hi ${d.name},`, "", `Your order ${d.orderId} is confirmed.`, "", ...itemLines(d), "", `Total: ${total}`, "", "The Momentum team", ""].join(
			"\n"
		),
		html: page(
			"Order confirmed",
			`<p>Hi ${escapeHtml(d.name)},</p><p>Your order <strong>${escapeHtml(d.orderId)}</strong> is confirmed.</p>${itemTable(d)}`
		)
	};
}

export function paymentRefundedEmail(d: OrderData): EmailContent {
	const total = formatMoney(d.totalCents, d.currency);
	return {
		subject: `Your payment for order ${d.orderId} was refunded`,
		text: [`Hi ${d.name},`, "", `We have refunded ${total} for your cancelled order ${d.orderId}.`, "", ...itemLines(d), "", "The Momentum team", ""].join(
			"\n"
		),
		html: page(
			"Payment refunded",
			`<p>Hi ${escapeHtml(d.name)},</p><p>We have refunded <strong>${escapeHtml(total)}</strong> for your cancelled order <strong>${escapeHtml(d.orderId)}</strong>.</p>${itemTable(d)}`
		)
	};
}

/** What the customer's money did, for each way an order can end up cancelled. */
type PaymentOutcome = "notCharged" | "refunded" | "refundIfTaken";

/**
 * A declined payment or an order cancelled before payment was asked for took nothing; a confirmed order
 * was paid and payment refunds it; in between (stock held, payment asked) a charge may or may not have
 * happened, and payment refunds it if it did. Without a `previousStatus` it hedges the same way.
 */
export function paymentOutcome(d: Pick<OrderData, "cancelReason" | "previousStatus">): PaymentOutcome {
	if (d.cancelReason === "payment_declined" || d.previousStatus === "PENDING") return "notCharged";
	if (d.previousStatus === "CONFIRMED") return "refunded";
	return "refundIfTaken";
}

const PAYMENT_SENTENCES: Record<PaymentOutcome, { email: string; sms: string }> = {
	notCharged: { email: "You have not been charged for it.", sms: "You have not been charged." },
	refunded: { email: "Your payment will be refunded.", sms: "Your payment will be refunded." },
	refundIfTaken: { email: "If any payment was taken for it, it will be refunded.", sms: "Any payment taken will be refunded." }
};

export function orderCancelledEmail(d: OrderData): EmailContent {
	const total = formatMoney(d.totalCents, d.currency);
	const reason = describeCancelReason(d.cancelReason);
	const because = reason ? ` because ${reason}` : "";
	const payment = PAYMENT_SENTENCES[paymentOutcome(d)].email;
	return {
		subject: `Your order ${d.orderId} was cancelled`,
		text: [
			`Hi ${d.name},`,
			"",
			`Your order ${d.orderId} was cancelled${because}. ${payment}`,
			"",
			...itemLines(d),
			"",
			`Total: ${total}`,
			"",
			"The Momentum team",
			""
		].join("\n"),
		html: page(
			"Order cancelled",
			`<p>Hi ${escapeHtml(d.name)},</p><p>Your order <strong>${escapeHtml(d.orderId)}</strong> was cancelled${escapeHtml(because)}. ${escapeHtml(payment)}</p>${itemTable(d)}`
		)
	};
}

/** No name: a phone number is never verified, so a text goes to it without anything the user typed. */
export function welcomeSms(_d: WelcomeData): SmsContent {
	return { body: "Momentum: welcome! Your account is ready." };
}

export function orderConfirmedSms(d: OrderData): SmsContent {
	return { body: `Momentum: your order ${d.orderId} is confirmed. Total ${formatMoney(d.totalCents, d.currency)}.` };
}

export function orderCancelledSms(d: OrderData): SmsContent {
	const reason = describeCancelReason(d.cancelReason);
	const payment = PAYMENT_SENTENCES[paymentOutcome(d)].sms;
	return { body: `Momentum: your order ${d.orderId} was cancelled${reason ? ` because ${reason}` : ""}. ${payment}` };
}

export function paymentRefundedSms(d: OrderData): SmsContent {
	return { body: `Momentum: we have refunded ${formatMoney(d.totalCents, d.currency)} for your cancelled order ${d.orderId}.` };
}

/** A template without `sms` goes by e-mail only (links that prove an address go to that address). */
type Renderers = { [T in TemplateName]: { email: (d: TemplateData[T]) => EmailContent; sms?: (d: TemplateData[T]) => SmsContent } };

const RENDERERS: Renderers = {
	welcome: { email: welcomeEmail, sms: welcomeSms },
	orderConfirmed: { email: orderConfirmedEmail, sms: orderConfirmedSms },
	orderCancelled: { email: orderCancelledEmail, sms: orderCancelledSms },
	paymentRefunded: { email: paymentRefundedEmail, sms: paymentRefundedSms },
	verifyEmail: { email: verifyEmailEmail },
	resetPassword: { email: resetPasswordEmail }
};

/** The messages of a template: the e-mail, and the SMS unless the template goes by e-mail only. */
export function render<T extends TemplateName>(template: T, data: TemplateData[T]): { email: EmailContent; sms?: SmsContent } {
	const r = RENDERERS[template];
	return { email: r.email(data), sms: r.sms?.(data) };
}
