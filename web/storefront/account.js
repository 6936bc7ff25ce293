// @ts-check
/**
 * The person's account: sign in, register, the pages the mailed links open (verify the e-mail address, reset
 * the password), forgot password, the account page (name and phone, password, verification) and the
 * notifications sent to them.
 */
import { api, currentUser, forgetTokens, login } from "../shared/api.js";
import { announce, dateTime, h } from "../shared/ui.js";
import { field, flash, navigate, pager, refreshCartCount, renderHeader, requireUser, session, submitForm } from "./core.js";
import { verifyNotice } from "./shop.js";

/** @typedef {import("./core.js").ViewContext} ViewContext */

/** Where to go after signing in: a path of this site (never another origin), else the shop. @param {URLSearchParams} query */
function nextPath(query) {
	const next = query.get("next") ?? "";
	return /^\/(?![/\\])/.test(next) && !next.startsWith("/login") ? next : "/";
}

/** @param {string} tag @param {Record<string, unknown>} props @param {...unknown} children */
const form = (tag, props, ...children) => /** @type {HTMLFormElement} */ (h(tag, { novalidate: true, ...props }, ...children));

/** `/login`. @param {ViewContext} ctx */
export function loginView(ctx) {
	const next = nextPath(ctx.query);
	if (session.user) queueMicrotask(() => navigate(next, { replace: true }));
	const f = form(
		"form",
		{ class: "narrow" },
		field("E-mail", { name: "email", type: "email", autocomplete: "username", required: true, value: ctx.query.get("email") ?? "" }),
		field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }),
		h("button", { type: "submit" }, "Sign in")
	);
	submitForm(f, async v => {
		await login(v.email, v.password);
		session.user = await currentUser();
		void refreshCartCount();
		announce(`Signed in as ${session.user?.name ?? v.email}.`);
		navigate(next, { replace: true });
	});
	const nextQuery = next === "/" ? "" : `?next=${encodeURIComponent(next)}`;
	return h(
		"div",
		{ class: "auth" },
		h("h1", null, "Sign in"),
		f,
		h("p", null, h("a", { href: "/forgot-password" }, "Forgot your password?")),
		h("p", null, "New here? ", h("a", { href: `/register${nextQuery}` }, "Create an account"))
	);
}

/** `/register`. @param {ViewContext} ctx */
export function registerView(ctx) {
	const next = nextPath(ctx.query);
	const f = form(
		"form",
		{ class: "narrow" },
		field("Name", { name: "name", autocomplete: "name", required: true, maxlength: 100 }),
		field("E-mail", { name: "email", type: "email", autocomplete: "email", required: true }),
		field("Password", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }, "At least 8 characters."),
		field(
			"Mobile phone (optional)",
			{ name: "phone", type: "tel", autocomplete: "tel", placeholder: "+5511912345678" },
			"With the country code, for order texts."
		),
		h("button", { type: "submit" }, "Create account")
	);
	submitForm(f, async v => {
		/** @type {Record<string, string>} */
		const body = { name: v.name, email: v.email, password: v.password };
		if (v.phone) body.phone = v.phone.replace(/[\s().-]/g, "");
		await api("POST", "/auth/register", { body, anonymous: true });
		await login(v.email, v.password);
		session.user = await currentUser();
		renderHeader();
		flash(`Welcome, ${v.name}! We sent a link to ${v.email}: open it to verify your address before your first order.`);
		navigate(next, { replace: true });
	});
	return h(
		"div",
		{ class: "auth" },
		h("h1", null, "Create an account"),
		f,
		h("p", null, "Have an account? ", h("a", { href: `/login${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}` }, "Sign in"))
	);
}

/** `/verify-email?token=…`: the mailed link proves the address. @param {ViewContext} ctx */
export async function verifyEmailView(ctx) {
	const token = ctx.query.get("token");
	if (!token) {
		return [
			h("h1", null, "Verify your e-mail address"),
			h("p", null, "Open the link in the e-mail we sent you. It brings you back here."),
			session.user && !session.user.emailVerified ? verifyNotice(session.user.email) : null
		];
	}
	// the token is spent once used: keep it out of the history
	history.replaceState(null, "", "/verify-email");
	try {
		/** @type {{ email: string }} */
		const result = await api("POST", "/auth/verify-email", { body: { token }, anonymous: true });
		if (session.user) session.user = await currentUser().catch(() => session.user);
		return [
			h("h1", null, "Your e-mail address is verified"),
			h("p", { class: "notice-ok" }, `Thank you: ${result.email} is verified. You can place orders now.`),
			h(
				"p",
				{ class: "row" },
				h("a", { href: "/products", class: "button" }, "Go shopping"),
				session.user ? h("a", { href: "/cart", class: "button secondary" }, "Your cart") : null
			)
		];
	} catch (err) {
		return [
			h("h1", null, "This link did not work"),
			h("p", { class: "form-error", role: "alert" }, err instanceof Error ? err.message : String(err)),
			session.user && !session.user.emailVerified
				? verifyNotice(session.user.email)
				: h("p", null, h("a", { href: "/login?next=%2Faccount" }, "Sign in"), " to ask for a new link.")
		];
	}
}

/** `/forgot-password`. @param {ViewContext} _ctx */
export function forgotPasswordView(_ctx) {
	const done = h("div", { role: "status" });
	const f = form(
		"form",
		{ class: "narrow" },
		field("E-mail", { name: "email", type: "email", autocomplete: "email", required: true, value: session.user?.email ?? "" }),
		h("button", { type: "submit" }, "Send me a link")
	);
	submitForm(f, async v => {
		/** @type {{ message: string }} */
		const answer = await api("POST", "/auth/forgot-password", { body: { email: v.email }, anonymous: true });
		done.replaceChildren(h("p", { class: "notice-ok" }, answer.message || `If ${v.email} has an account, we sent it a link to choose a new password.`));
	});
	return h(
		"div",
		{ class: "auth" },
		h("h1", null, "Forgot your password?"),
		h("p", null, "Enter your e-mail address and we will send you a link to choose a new password."),
		f,
		done,
		h("p", null, h("a", { href: "/login" }, "Back to sign in"))
	);
}

/** `/reset-password?token=…`: a new password with the mailed link. @param {ViewContext} ctx */
export function resetPasswordView(ctx) {
	const token = ctx.query.get("token");
	if (!token) {
		return [
			h("h1", null, "Choose a new password"),
			h("p", null, "Open the link in the e-mail we sent you, or ", h("a", { href: "/forgot-password" }, "ask for a new one"), ".")
		];
	}
	history.replaceState(null, "", "/reset-password");
	const f = form(
		"form",
		{ class: "narrow" },
		field("New password", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }, "At least 8 characters."),
		field("New password again", { name: "confirm", type: "password", autocomplete: "new-password", required: true }),
		h("button", { type: "submit" }, "Set the new password")
	);
	submitForm(f, async v => {
		if (v.password !== v.confirm)
			throw Object.assign(new Error("The two passwords are not the same."), { fields: { confirm: "Type the same password twice." } });
		await api("POST", "/auth/reset-password", { body: { token, password: v.password }, anonymous: true });
		// every session of the account ended with the reset, this one too
		if (session.user) {
			forgetTokens();
			session.user = null;
		}
		flash("Your password is changed. Sign in with the new one.");
		navigate("/login", { replace: true });
	});
	return h("div", { class: "auth" }, h("h1", null, "Choose a new password"), f, h("p", null, h("a", { href: "/forgot-password" }, "Ask for a new link")));
}

/** `/account`. @param {ViewContext} _ctx */
export async function accountView(_ctx) {
	if (!requireUser()) return [];
	const user = await currentUser();
	if (!user) return [];
	session.user = user;
	const profileDone = h("div", { role: "status" });
	const profile = form(
		"form",
		{},
		field("Name", { name: "name", autocomplete: "name", required: true, maxlength: 100, value: user.name }),
		field(
			"Mobile phone",
			{ name: "phone", type: "tel", autocomplete: "tel", value: user.phone ?? "" },
			"With the country code, e.g. +5511912345678. Leave it empty for no texts."
		),
		h("button", { type: "submit" }, "Save")
	);
	submitForm(profile, async v => {
		profileDone.replaceChildren();
		const body = { name: v.name, phone: v.phone ? v.phone.replace(/[\s().-]/g, "") : null };
		/** @type {{ user: import("./core.js").User }} */
		const saved = await api("PATCH", "/auth/me", { body });
		session.user = { ...user, ...saved.user };
		renderHeader();
		profileDone.replaceChildren(h("p", { class: "notice-ok" }, "Saved."));
	});
	const passwordDone = h("div", { role: "status" });
	const password = form(
		"form",
		{},
		field("Current password", { name: "currentPassword", type: "password", autocomplete: "current-password", required: true }),
		field("New password", { name: "newPassword", type: "password", autocomplete: "new-password", required: true, minlength: 8 }, "At least 8 characters."),
		h("button", { type: "submit" }, "Change password")
	);
	submitForm(password, async v => {
		passwordDone.replaceChildren();
		await api("POST", "/auth/change-password", { body: { currentPassword: v.currentPassword, newPassword: v.newPassword } });
		password.reset();
		passwordDone.replaceChildren(h("p", { class: "notice-ok" }, "Your password is changed. Your other sessions were signed out."));
	});
	return [
		h("h1", null, "Your account"),
		h(
			"div",
			{ class: "account-grid" },
			h(
				"section",
				{ class: "panel", "aria-labelledby": "acct-email" },
				h("h2", { id: "acct-email" }, "E-mail address"),
				h(
					"p",
					null,
					user.email,
					" ",
					user.emailVerified ? h("span", { class: "badge CONFIRMED" }, "Verified") : h("span", { class: "badge PENDING" }, "Not verified")
				),
				user.emailVerified ? null : verifyNotice(user.email),
				h("p", null, h("a", { href: "/orders" }, "Your orders"), " · ", h("a", { href: "/notifications" }, "Messages we sent you"))
			),
			h("section", { class: "panel", "aria-labelledby": "acct-profile" }, h("h2", { id: "acct-profile" }, "Your details"), profile, profileDone),
			h("section", { class: "panel", "aria-labelledby": "acct-password" }, h("h2", { id: "acct-password" }, "Password"), password, passwordDone)
		)
	];
}

const TEMPLATE_WORDS = /** @type {Record<string, string>} */ ({
	welcome: "Welcome",
	orderConfirmed: "Order confirmed",
	orderCancelled: "Order cancelled",
	paymentRefunded: "Payment refunded",
	verifyEmail: "Verify your e-mail",
	resetPassword: "Password reset"
});
const NOTIFICATION_STATUS = /** @type {Record<string, string>} */ ({ SENT: "Sent", PENDING: "Sending", FAILED: "Not delivered", SKIPPED: "Skipped" });

/** `/notifications`: what the shop sent the person. @param {ViewContext} ctx */
export async function notificationsView(ctx) {
	const user = requireUser();
	if (!user) return [];
	const page = Math.max(1, Number.parseInt(ctx.query.get("page") ?? "1", 10) || 1);
	/** @type {{ items: { id: string, channel: string, template: string, recipient: string | null, subject: string | null, status: string, createdAt: string, sentAt: string | null }[], total: number, page: number, pageSize: number }} */
	const listing = await api("GET", "/notifications", { query: { userId: user.id, page, pageSize: 20 } });
	return [
		h("h1", null, "Messages we sent you"),
		listing.items.length === 0
			? h("p", { class: "notice" }, "No messages yet.")
			: h(
					"ul",
					{ class: "messages" },
					listing.items.map(n =>
						h(
							"li",
							{ class: "message" },
							h("p", { class: "message-subject" }, n.subject ?? TEMPLATE_WORDS[n.template] ?? n.template),
							h(
								"p",
								{ class: "muted" },
								n.channel === "sms" ? "Text message" : "E-mail",
								n.recipient ? ` to ${n.recipient}` : "",
								" · ",
								h("time", { datetime: n.sentAt ?? n.createdAt }, dateTime(n.sentAt ?? n.createdAt)),
								" · ",
								h("span", { class: `badge ${n.status}` }, NOTIFICATION_STATUS[n.status] ?? n.status)
							)
						)
					)
				),
		pager(listing, ctx.query, "/notifications")
	];
}
