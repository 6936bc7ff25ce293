// @ts-check
/**
 * The storefront's frame: who is signed in, the header, the History API router, and the small helpers every
 * view shares. Views are functions that answer the nodes of the page; the router puts them in `<main>`,
 * names the tab after their heading and (after a navigation) moves focus to it.
 */
import { ApiError, api, currentUser, hasSession, logout } from "../shared/api.js";
import { announce, h, money, onSubmit, render } from "../shared/ui.js";

/**
 * @typedef {{ id: string, email: string, name: string, phone: string | null, role: string, emailVerified: boolean, permissions?: string[] }} User
 * @typedef {{ productId: string, sku: string, name: string, quantity: number, unitPriceCents: number, lineTotalCents: number, available: number }} CartLine
 * @typedef {{ items: CartLine[], totalCents: number, currency: string }} Cart
 * @typedef {{ id: string, sku: string, name: string, description: string, priceCents: number, currency: string, category: string, imageUrl: string | null, active: boolean }} Product
 * @typedef {{ productId: string, sku: string, name: string, quantity: number, unitPriceCents: number, lineTotalCents: number }} OrderLine
 * @typedef {{ name: string, line1: string, line2?: string, city: string, region?: string, postalCode: string, country: string }} Address
 * @typedef {"PENDING" | "STOCK_RESERVED" | "CONFIRMED" | "CANCELLED"} OrderStatus
 * @typedef {{ id: string, status: OrderStatus, cancelReason: string | null, items: OrderLine[], totalCents: number, currency: string,
 *   shippingAddress: Address | null, paymentStatus: string | null, history: { status: OrderStatus, at: string, reason?: string }[], createdAt: string }} Order
 * @typedef {{ params: string[], query: URLSearchParams, path: string, signal: AbortSignal }} ViewContext
 * @typedef {(ctx: ViewContext) => Promise<unknown> | unknown} View
 */

/** What the whole page knows: the signed-in user (null: no one) and how many items their cart holds. */
export const session = {
	/** @type {User | null} */
	user: null,
	/** @type {number | null} */
	cartCount: null
};

/** @param {Cart | null} cart */
export function setCart(cart) {
	session.cartCount = cart ? cart.items.reduce((n, l) => n + l.quantity, 0) : null;
	renderHeader();
}

/** Loads the cart's size for the header (signed in only); failures leave the header without a count. */
export async function refreshCartCount() {
	if (!session.user) return setCart(null);
	try {
		setCart(await api("GET", "/cart"));
	} catch {
		setCart(null);
	}
}

/** A message shown at the top of the next view (e.g. "You are signed out"). */
let flashMessage = /** @type {{ text: string, kind: "ok" | "info" } | null} */ (null);
/** @param {string} text @param {"ok" | "info"} [kind] */
export function flash(text, kind = "ok") {
	flashMessage = { text, kind };
}

// ---------------------------------------------------------------------------------------------- the header

/** @param {string} href @param {string} text @param {Record<string, unknown>} [props] */
function navLink(href, text, props = {}) {
	const current = location.pathname === href || (href !== "/" && location.pathname.startsWith(href + "/"));
	return h("a", { href, "aria-current": current ? "page" : undefined, ...props }, text);
}

export function renderHeader() {
	const header = document.getElementById("header");
	if (!header) return;
	const user = session.user;
	const count = session.cartCount;
	render(
		header,
		h(
			"div",
			{ class: "container masthead" },
			h("a", { href: "/", class: "brand" }, h("img", { src: "/assets/shared/favicon.svg", alt: "", width: 28, height: 28 }), "Momentum"),
			h(
				"nav",
				{ "aria-label": "Shop" },
				h(
					"ul",
					{ class: "nav-list" },
					h("li", null, navLink("/products", "Products")),
					h(
						"li",
						null,
						navLink("/cart", "Cart", { class: "cart-link" }),
						count ? h("span", { class: "cart-count", "aria-label": `${count} item${count === 1 ? "" : "s"}` }, String(count)) : null
					),
					user ? h("li", null, navLink("/orders", "Orders")) : null,
					user ? h("li", null, navLink("/account", "Account")) : null,
					user
						? h("li", null, h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"))
						: h("li", null, navLink("/login", "Sign in")),
					user ? null : h("li", null, navLink("/register", "Register"))
				)
			)
		)
	);
}

async function signOut() {
	await logout();
	session.user = null;
	setCart(null);
	flash("You are signed out.");
	navigate("/");
}

// ---------------------------------------------------------------------------------------------- the router

/** @type {{ pattern: RegExp, view: () => Promise<View> }[]} */
const routes = [];
/**
 * Adds a route: `pattern` matches the path; its groups are the view's `params`. `load` answers the view
 * (a dynamic import for the views not needed on the first page).
 * @param {RegExp} pattern
 * @param {() => Promise<View>} load
 */
export function route(pattern, load) {
	routes.push({ pattern, view: load });
}

/** @param {string} path */
function findRoute(path) {
	for (const r of routes) {
		const m = r.pattern.exec(path);
		if (m) return { route: r, params: m.slice(1).map(decodeURIComponent) };
	}
	return undefined;
}

let current = /** @type {AbortController | null} */ (null);
let firstView = true;

/**
 * Goes to `url` (a path with its query) without reloading: a new history entry, or the current one replaced.
 * @param {string} url
 * @param {{ replace?: boolean }} [opts]
 */
export function navigate(url, opts = {}) {
	if (opts.replace) history.replaceState(null, "", url);
	else history.pushState(null, "", url);
	void show();
}

/** Sends the person to sign in, and back here afterwards. */
export function signInFirst(message = "Please sign in to continue.") {
	flash(message, "info");
	navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
}

/** Renders the view of the current address. */
async function show() {
	current?.abort();
	const controller = new AbortController();
	current = controller;
	const main = /** @type {HTMLElement} */ (document.getElementById("main"));
	const path = location.pathname.replace(/\/+$/, "") || "/";
	const found = findRoute(path);
	const message = flashMessage;
	flashMessage = null;
	renderHeader();
	main.setAttribute("aria-busy", "true");
	/** @type {unknown} */
	let content;
	try {
		if (!found) content = notFound("There is no page at this address.");
		else {
			const view = await found.route.view();
			content = await view({ params: found.params, query: new URLSearchParams(location.search), path, signal: controller.signal });
		}
	} catch (err) {
		if (err instanceof ApiError && err.status === 401) return signInFirst("Your session ended. Please sign in again.");
		content = errorView(err);
	}
	if (controller.signal.aborted) return;
	main.removeAttribute("aria-busy");
	render(main, message ? h("p", { class: message.kind === "ok" ? "notice-ok flash" : "notice flash", role: "status" }, message.text) : null, content);
	const heading = main.querySelector("h1");
	document.title = heading ? `${heading.textContent} · Momentum` : "Momentum";
	if (!firstView) {
		window.scrollTo(0, 0);
		if (heading) {
			heading.setAttribute("tabindex", "-1");
			heading.focus();
		}
	}
	if (firstView) {
		// for bench/pages.ts: navigation start to the first view, in the browser's own clock
		performance.mark("momentum:ready");
		document.documentElement.dataset.ready = "true";
	}
	firstView = false;
}

/** @param {string} text */
export function notFound(text) {
	return [h("h1", null, "Not found"), h("p", null, text), h("p", null, h("a", { href: "/products" }, "Browse the products"))];
}

/** A view that failed: the API's words, and a way on. @param {unknown} err */
export function errorView(err) {
	if (err instanceof ApiError && err.status === 404) return notFound(err.message);
	return [
		h("h1", null, "Something went wrong"),
		h("p", { class: "form-error", role: "alert" }, err instanceof Error ? err.message : String(err)),
		h("p", null, h("a", { href: location.pathname + location.search }, "Try again"), " or ", h("a", { href: "/" }, "go to the shop"), ".")
	];
}

/** Follows same-origin links to the storefront's own routes without reloading. @param {MouseEvent} event */
function onClick(event) {
	if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
	const a = event.target instanceof Element ? event.target.closest("a[href]") : null;
	if (!(a instanceof HTMLAnchorElement) || a.target || a.hasAttribute("download") || a.origin !== location.origin) return;
	const path = a.pathname.replace(/\/+$/, "") || "/";
	if (!findRoute(path)) return;
	// a link within this page (the skip link): the browser's own
	if (a.pathname === location.pathname && a.search === location.search && a.hash) return;
	event.preventDefault();
	navigate(a.pathname + a.search);
}

/** Starts the storefront: the session (when there is one), then the first view. */
export async function start() {
	document.addEventListener("click", onClick);
	addEventListener("popstate", () => void show());
	renderHeader();
	if (hasSession()) {
		try {
			session.user = await currentUser();
		} catch {
			session.user = null;
		}
		if (session.user) void refreshCartCount();
	}
	await show();
}

/** The session ended without the person asking (its refresh token was refused): to the sign-in, and back. */
export function sessionEnded() {
	if (!session.user) return;
	session.user = null;
	setCart(null);
	announce("Your session ended. Please sign in again.");
	signInFirst("Your session ended. Please sign in again.");
}

// ---------------------------------------------------------------------------------------------- helpers

/** The view needs someone signed in: answers the user, or sends the person to sign in and answers null. */
export function requireUser() {
	if (session.user) return session.user;
	queueMicrotask(() => signInFirst());
	return null;
}

/** @param {number} cents @param {string} currency */
export const price = (cents, currency) => money(cents, currency);

/** Words for an order's status. */
export const STATUS_WORDS = /** @type {Record<OrderStatus, string>} */ ({
	PENDING: "Placed",
	STOCK_RESERVED: "Stock reserved",
	CONFIRMED: "Confirmed",
	CANCELLED: "Cancelled"
});

/** Words for why an order was cancelled. */
export const CANCEL_WORDS = /** @type {Record<string, string>} */ ({
	out_of_stock: "Some items were out of stock.",
	payment_declined: "The payment was declined by the card issuer.",
	customer_request: "You cancelled it.",
	timeout: "It could not be completed in time."
});

/** A status badge. @param {OrderStatus} status */
export function statusBadge(status) {
	return h("span", { class: `badge ${status}` }, STATUS_WORDS[status] ?? status);
}

/**
 * Previous/next links for a listing page, keeping the rest of the query.
 * @param {{ page: number, pageSize: number, total: number }} listing
 * @param {URLSearchParams} query
 * @param {string} path
 */
export function pager(listing, query, path) {
	const pages = Math.max(1, Math.ceil(listing.total / listing.pageSize));
	if (pages <= 1) return null;
	/** @param {number} n */
	const to = n => {
		const q = new URLSearchParams(query);
		if (n === 1) q.delete("page");
		else q.set("page", String(n));
		const s = q.toString();
		return s ? `${path}?${s}` : path;
	};
	return h(
		"nav",
		{ class: "pager", "aria-label": "Pages" },
		listing.page > 1 ? h("a", { href: to(listing.page - 1), rel: "prev" }, "← Previous") : h("span", { class: "muted" }, "← Previous"),
		h("span", null, `Page ${listing.page} of ${pages}`),
		listing.page < pages ? h("a", { href: to(listing.page + 1), rel: "next" }, "Next →") : h("span", { class: "muted" }, "Next →")
	);
}

/**
 * A labelled input in its `.field`: `field("Name", { name: "name", required: true })`.
 * @param {string} label
 * @param {Record<string, unknown>} props of the input (`name` is required; `id` defaults to it)
 * @param {string} [hint] shown under the label and tied to the input
 */
export function field(label, props, hint) {
	const id = String(props.id ?? `f-${props.name}`);
	const hintId = hint ? `${id}-hint` : undefined;
	const tag = props.tag === "select" ? "select" : "input";
	const { tag: _tag, options, ...rest } = props;
	const input = h(tag, { id, "aria-describedby": hintId, ...rest }, /** @type {unknown[]} */ (options ?? []));
	return h("div", { class: "field" }, h("label", { for: id }, label), hint ? h("p", { class: "hint", id: hintId }, hint) : null, input);
}

/** A short order number for people: the first block of its id. @param {string} id */
export const orderNumber = id => id.slice(0, 8).toUpperCase();

/**
 * `onSubmit` with the API's validation problems said in the form's own words: a field the API names by its
 * path (`shippingAddress.line1`) is found by its last part, and named in the messages by its label.
 * @param {HTMLFormElement} form
 * @param {(values: Record<string, string>) => Promise<void>} action
 */
export function submitForm(form, action) {
	onSubmit(form, async values => {
		try {
			await action(values);
		} catch (err) {
			throw inFormWords(form, err);
		}
	});
}

/** @param {HTMLFormElement} form @param {unknown} err */
function inFormWords(form, err) {
	if (!(err instanceof ApiError) || err.type !== "VALIDATION_ERROR") return err;
	/** @param {string} path */
	const labelOf = path => {
		const input = form.elements.namedItem(path.split(".").pop() ?? path);
		const label = input instanceof HTMLElement && input.id ? form.querySelector(`label[for="${input.id}"]`) : null;
		return label?.textContent?.trim() || path;
	};
	/** @param {string} text */
	const words = text => text.replace(/'([^']+)' field/g, (_m, path) => `“${labelOf(path)}” field`);
	/** @type {Record<string, string>} */
	const fields = {};
	for (const [path, message] of Object.entries(err.fields)) fields[path.split(".").pop() ?? path] = words(message);
	return Object.assign(new Error(words(err.message)), { fields });
}
