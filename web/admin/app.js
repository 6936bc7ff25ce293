// @ts-check
/**
 * Momentum's admin at /admin: staff screens over the public REST API. Each screen, and its link, shows only
 * to a user whose role holds its permission (GET /auth/me); the API checks every call anyway. Routing is the
 * History API's: every path under /admin answers this page (services/gateway/gateway.pages.ts).
 */
import { ApiError, currentUser, login, logout, onSignedOut } from "../shared/api.js";
import { announce, h, onSubmit, render } from "../shared/ui.js";
import { productForm, productsView, stockDetailView, stockView } from "./catalog.js";
import { orderView, ordersView, paymentsView } from "./orders.js";
import { permissionView, permissionsView, roleView, rolesView, userView, usersView } from "./access.js";
import { deadLettersView } from "./operations.js";
import { can, describeError, field, nav, session } from "./kit.js";

/** @typedef {import("./kit.js").View} View @typedef {import("./kit.js").RouteContext} RouteContext */

/** The screens in the navigation: who may see each, and a line for the overview. */
const SCREENS = [
	{ path: "/admin/products", label: "Products", needs: ["product.store", "product.update", "product.delete"], about: "Add, change and archive products." },
	{ path: "/admin/stock", label: "Stock", needs: ["inventory.view", "inventory.update"], about: "Stock levels, adjustments and each product's ledger." },
	{ path: "/admin/orders", label: "Orders", needs: ["order.view"], about: "Every order, its saga across the services, cancellations." },
	{ path: "/admin/payments", label: "Payments", needs: ["payment.view"], about: "Every charge, declined and refunded ones too." },
	{ path: "/admin/users", label: "Users", needs: ["user.view"], about: "Accounts: create, change their role, delete." },
	{ path: "/admin/roles", label: "Roles", needs: ["role.view"], about: "Roles and the permissions each holds." },
	{ path: "/admin/permissions", label: "Permissions", needs: ["permission.view"], about: "The permissions roles can hold." },
	{ path: "/admin/dead-letters", label: "Dead letters", needs: ["deadletter.view"], about: "Events a service could not handle, to replay." }
];
/** Every permission that opens some screen: a user holding none of them has no access to the admin. */
const STAFF = SCREENS.flatMap(s => s.needs);

/**
 * Routes: a pattern, the permissions it needs (any of them), and the view.
 * @type {{ pattern: RegExp, needs: string[], view: (ctx: RouteContext) => Promise<View> | View }[]}
 */
const ROUTES = [
	{ pattern: /^\/admin$/, needs: [], view: overview },
	{ pattern: /^\/admin\/products$/, needs: SCREENS[0].needs, view: productsView },
	{ pattern: /^\/admin\/products\/new$/, needs: ["product.store"], view: ctx => productForm(ctx, undefined) },
	{ pattern: /^\/admin\/products\/([0-9a-f-]{36})$/, needs: SCREENS[0].needs, view: ctx => productForm(ctx, ctx.params[0]) },
	{ pattern: /^\/admin\/stock$/, needs: SCREENS[1].needs, view: stockView },
	{ pattern: /^\/admin\/stock\/([0-9a-f-]{36})$/, needs: SCREENS[1].needs, view: stockDetailView },
	{ pattern: /^\/admin\/orders$/, needs: ["order.view"], view: ordersView },
	{ pattern: /^\/admin\/orders\/([0-9a-f-]{36})$/, needs: ["order.view"], view: orderView },
	{ pattern: /^\/admin\/payments$/, needs: ["payment.view"], view: paymentsView },
	{ pattern: /^\/admin\/users$/, needs: ["user.view"], view: usersView },
	{ pattern: /^\/admin\/users\/(new|[0-9a-f-]{36})$/, needs: ["user.view", "user.store"], view: userView },
	{ pattern: /^\/admin\/roles$/, needs: ["role.view"], view: rolesView },
	{ pattern: /^\/admin\/roles\/(new|[0-9a-f-]{36})$/, needs: ["role.view", "role.store"], view: roleView },
	{ pattern: /^\/admin\/permissions$/, needs: ["permission.view"], view: permissionsView },
	{ pattern: /^\/admin\/permissions\/(\d+)$/, needs: ["permission.view"], view: permissionView },
	{ pattern: /^\/admin\/dead-letters$/, needs: ["deadletter.view"], view: deadLettersView }
];

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const header = /** @type {HTMLElement} */ (document.getElementById("header"));
/** Bumped on every render: a slow screen that lost the race to a newer one is dropped. */
let renderSeq = 0;

function markReady() {
	document.documentElement.dataset.ready = "true";
}

/** @returns {View} */
function overview() {
	const screens = SCREENS.filter(s => can(...s.needs));
	return {
		title: "Admin",
		content: [
			h("p", null, `Signed in as ${session.user?.name} (${session.user?.role}).`),
			h(
				"ul",
				{ class: "overview" },
				screens.map(s => h("li", null, h("a", { href: s.path }, s.label), h("span", { class: "muted" }, ` ${s.about}`)))
			)
		]
	};
}

/** @param {string} title @param {string} text @returns {View} */
function message(title, text) {
	return { title, content: [h("p", null, text), h("p", null, h("a", { href: "/admin" }, "Back to the admin's overview"))] };
}

/**
 * Renders the screen the address names.
 * @param {{ focus?: boolean, flash?: string }} [opts] focus: move focus to its heading (every navigation)
 */
async function show(opts = {}) {
	const seq = ++renderSeq;
	const path = location.pathname.replace(/\/+$/, "") || "/admin";
	const query = new URLSearchParams(location.search);
	const route = ROUTES.map(r => ({ r, m: r.pattern.exec(path) })).find(x => x.m);
	main.setAttribute("aria-busy", "true");
	/** @type {View} */
	let view;
	try {
		if (!route) view = message("Page not found", "There is no admin screen at this address.");
		else if (route.r.needs.length > 0 && !can(...route.r.needs)) view = message("Not available", "Your account is not allowed to use this screen.");
		else view = await route.r.view({ params: route.m ? route.m.slice(1) : [], query });
	} catch (err) {
		view = {
			title: err instanceof ApiError && err.status === 404 ? "Not found" : "Could not load this screen",
			content: [h("p", { class: "notice-error", role: "alert" }, describeError(err)), h("p", null, h("a", { href: "/admin" }, "Back to the overview"))]
		};
	}
	if (seq !== renderSeq) return;
	const heading = h("h1", { tabindex: "-1", id: "view-title" }, view.title);
	render(main, heading, h("div", { id: "view-alert" }, opts.flash ? h("p", { class: "notice-ok", role: "status" }, opts.flash) : null), view.content);
	main.removeAttribute("aria-busy");
	document.title = `${view.title} · Momentum admin`;
	for (const a of header.querySelectorAll("nav a")) {
		const href = a.getAttribute("href") ?? "";
		if (path === href || path.startsWith(`${href}/`)) a.setAttribute("aria-current", "page");
		else a.removeAttribute("aria-current");
	}
	if (opts.focus) heading.focus();
	if (opts.flash) announce(opts.flash);
	markReady();
}

nav.go = (path, flash) => {
	history.pushState(null, "", path);
	closeMenu();
	void show({ focus: true, flash });
};
nav.reload = flash => void show({ focus: true, flash });

function closeMenu() {
	const toggle = header.querySelector(".nav-toggle");
	toggle?.setAttribute("aria-expanded", "false");
	header.querySelector("#nav")?.classList.remove("open");
}

/** The header of a signed-in staff member: the screens they may use, who they are, signing out. */
function staffHeader() {
	const links = SCREENS.filter(s => can(...s.needs));
	const toggle = h(
		"button",
		{
			type: "button",
			class: "nav-toggle secondary",
			"aria-expanded": "false",
			"aria-controls": "nav",
			onclick: () => {
				const open = toggle.getAttribute("aria-expanded") !== "true";
				toggle.setAttribute("aria-expanded", String(open));
				header.querySelector("#nav")?.classList.toggle("open", open);
			}
		},
		"Menu"
	);
	render(
		header,
		h(
			"div",
			{ class: "bar container" },
			h("a", { href: "/admin", class: "brand" }, "Momentum admin"),
			toggle,
			h(
				"nav",
				{ id: "nav", "aria-label": "Admin" },
				h(
					"ul",
					null,
					links.map(s => h("li", null, h("a", { href: s.path }, s.label)))
				),
				h(
					"div",
					{ class: "who" },
					h("span", { class: "muted" }, session.user?.email),
					h("button", { type: "button", class: "secondary small", onclick: signOut }, "Sign out")
				)
			)
		)
	);
}

/** @param {string} [text] */
function plainHeader(text) {
	render(
		header,
		h("div", { class: "bar container" }, h("a", { href: "/admin", class: "brand" }, "Momentum admin"), text ? h("span", { class: "muted" }, text) : null)
	);
}

async function signOut() {
	await logout();
	session.user = null;
	announce("Signed out.");
	signIn();
}

/** The sign-in form, for a visitor (the address they asked for stays, and shows once they are in). */
function signIn(notice) {
	session.user = null;
	plainHeader();
	const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
	const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
	const form = /** @type {HTMLFormElement} */ (
		h("form", { class: "narrow", novalidate: true }, field("E-mail", email), field("Password", password), h("button", { type: "submit" }, "Sign in"))
	);
	onSubmit(form, async values => {
		await login(values.email, values.password);
		await start(true);
	});
	const heading = h("h1", { tabindex: "-1" }, "Sign in to the admin");
	render(
		main,
		heading,
		notice ? h("p", { class: "notice", role: "status" }, notice) : null,
		h("p", { class: "muted" }, "Staff accounts only. Shopping? ", h("a", { href: "/" }, "Go to the storefront"), "."),
		form
	);
	document.title = "Sign in · Momentum admin";
	markReady();
}

/** A signed-in account with no staff permission: no screens at all, a way back to the shop. */
function noAccess() {
	plainHeader();
	const heading = h("h1", { tabindex: "-1" }, "No access to the admin");
	render(
		main,
		heading,
		h("p", null, `This account (${session.user?.email}) has no access to the admin.`),
		h(
			"p",
			null,
			h("a", { href: "/" }, "Go to the storefront"),
			" or ",
			h("button", { type: "button", class: "link", onclick: signOut }, "sign in with another account"),
			"."
		)
	);
	document.title = "No access · Momentum admin";
	markReady();
}

/** @param {boolean} [focus] */
async function start(focus = false) {
	/** @type {Awaited<ReturnType<typeof currentUser>>} */
	let user;
	try {
		user = await currentUser();
	} catch (err) {
		plainHeader();
		render(
			main,
			h("h1", { tabindex: "-1" }, "The admin cannot start"),
			h("p", { class: "notice-error", role: "alert" }, describeError(err)),
			h("p", null, h("a", { href: location.pathname }, "Try again"))
		);
		markReady();
		return;
	}
	if (!user) return signIn();
	session.user = user;
	if (!user.permissions.some(p => STAFF.includes(p))) return noAccess();
	staffHeader();
	await show({ focus });
}

// Links inside the admin change the screen without reloading the page.
document.addEventListener("click", event => {
	if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
	const a = event.target instanceof Element ? event.target.closest("a[href]") : null;
	if (!(a instanceof HTMLAnchorElement) || a.target || a.origin !== location.origin) return;
	if (!/^\/admin(?:\/|$)/.test(a.pathname)) return;
	if (!session.user) return;
	event.preventDefault();
	if (a.pathname + a.search === location.pathname + location.search) return void show({ focus: true });
	nav.go(a.pathname + a.search);
});
window.addEventListener("popstate", () => {
	closeMenu();
	if (session.user) void show({ focus: true });
});
onSignedOut(() => signIn("Your session ended. Please sign in again."));
void start();
