// @ts-check
/**
 * Buying: the cart (quantities, totals, lines no longer available), checkout (a shipping address, the
 * simulated test cards, one Idempotency-Key per intended order), an order followed live through its saga,
 * the order history.
 */
import { ApiError, api, newIdempotencyKey } from "../shared/api.js";
import { announce, dateTime, h, render } from "../shared/ui.js";
import {
	CANCEL_WORDS,
	STATUS_WORDS,
	field,
	flash,
	navigate,
	orderNumber,
	pager,
	price,
	requireUser,
	session,
	setCart,
	signInFirst,
	statusBadge,
	submitForm
} from "./core.js";

/**
 * @typedef {import("./core.js").Cart} Cart @typedef {import("./core.js").CartLine} CartLine
 * @typedef {import("./core.js").Order} Order @typedef {import("./core.js").ViewContext} ViewContext
 */

/** What a line lacks, in words, or null when it can be bought as it is. @param {CartLine} line */
function shortage(line) {
	if (line.available >= line.quantity) return null;
	return line.available <= 0 ? "No longer available: remove it to check out." : `Only ${line.available} available: lower the quantity to check out.`;
}

/** A 401 in the middle of an action: to the sign-in, and back. @param {unknown} err */
function signedOutBy(err) {
	if (err instanceof ApiError && err.status === 401) {
		signInFirst("Your session ended. Please sign in again.");
		return true;
	}
	return false;
}

// ---------------------------------------------------------------------------------------------- the cart

/** `/cart`. @param {ViewContext} _ctx */
export async function cartView(_ctx) {
	if (!requireUser()) return [];
	const container = h("div", { class: "cart" });
	const status = h("div", { class: "cart-status", role: "alert" });
	/** @param {Cart} cart @param {string} [focusId] */
	const draw = (cart, focusId) => {
		setCart(cart);
		render(container, cartContent(cart, change));
		if (focusId) /** @type {HTMLElement | null} */ (document.getElementById(focusId) ?? container.querySelector("h2, a"))?.focus();
	};
	/**
	 * Sets a line's quantity (0 removes it) or empties the cart, then shows the cart the API answers.
	 * @param {string | null} productId null: the whole cart
	 * @param {number} quantity
	 * @param {string} [focusId] what keeps the focus afterwards
	 */
	const change = async (productId, quantity, focusId) => {
		status.replaceChildren();
		container.setAttribute("aria-busy", "true");
		try {
			/** @type {Cart} */
			const cart =
				productId === null
					? await api("DELETE", "/cart")
					: quantity === 0
						? await api("DELETE", `/cart/items/${productId}`)
						: await api("PATCH", `/cart/items/${productId}`, { body: { quantity } });
			draw(cart, focusId);
			announce(cart.items.length === 0 ? "Your cart is empty." : `Cart updated. Total ${price(cart.totalCents, cart.currency)}.`);
		} catch (err) {
			if (signedOutBy(err)) return;
			status.replaceChildren(h("p", { class: "form-error" }, err instanceof Error ? err.message : String(err)));
		} finally {
			container.removeAttribute("aria-busy");
		}
	};
	draw(await api("GET", "/cart"));
	return [h("h1", null, "Your cart"), status, container];
}

/**
 * @param {Cart} cart
 * @param {(productId: string | null, quantity: number, focusId?: string) => Promise<void>} change
 */
function cartContent(cart, change) {
	if (cart.items.length === 0) {
		return h("div", { class: "notice empty" }, h("p", null, "Your cart is empty."), h("p", null, h("a", { href: "/products" }, "Browse the products")));
	}
	const blocked = cart.items.some(shortage);
	return h(
		"div",
		{ class: "cart-layout" },
		h(
			"ul",
			{ class: "cart-lines", "aria-label": "Items in your cart" },
			cart.items.map(line => {
				const qtyId = `qty-${line.productId}`;
				const problem = shortage(line);
				const input = /** @type {HTMLInputElement} */ (
					h("input", {
						id: qtyId,
						name: "quantity",
						type: "number",
						min: 0,
						max: 99,
						step: 1,
						value: line.quantity,
						inputmode: "numeric",
						class: "qty"
					})
				);
				const update = () => {
					const q = Number(input.value);
					if (!Number.isInteger(q) || q < 0 || q > 99) {
						input.setAttribute("aria-invalid", "true");
						return announce("Enter a quantity from 0 to 99.");
					}
					if (q !== line.quantity) void change(line.productId, q, q === 0 ? "cart-total" : qtyId);
				};
				const form = h(
					"form",
					{ class: "qty-form", novalidate: true },
					h("label", { for: qtyId }, "Quantity", h("span", { class: "visually-hidden" }, ` of ${line.name}`)),
					input
				);
				form.addEventListener("submit", event => {
					event.preventDefault();
					update();
				});
				input.addEventListener("change", update);
				return h(
					"li",
					{ class: `cart-line${problem ? " unavailable" : ""}` },
					h(
						"div",
						{ class: "line-main" },
						h("a", { href: `/products/${line.productId}`, class: "line-name" }, line.name),
						h("p", { class: "muted" }, `${price(line.unitPriceCents, cart.currency)} each`),
						problem ? h("p", { class: "flag" }, problem) : null
					),
					form,
					h("p", { class: "line-total" }, h("span", { class: "visually-hidden" }, "Line total "), price(line.lineTotalCents, cart.currency)),
					h(
						"button",
						{ type: "button", class: "secondary remove", onclick: () => change(line.productId, 0, "cart-total") },
						"Remove",
						h("span", { class: "visually-hidden" }, ` ${line.name}`)
					)
				);
			})
		),
		h(
			"aside",
			{ class: "summary", "aria-label": "Order summary" },
			h("h2", { id: "cart-total", tabindex: "-1" }, "Total ", h("span", { class: "total" }, price(cart.totalCents, cart.currency))),
			h("p", { class: "muted" }, "Shipping is free. Payment is simulated: no real card is charged."),
			blocked ? h("p", { class: "flag" }, "Some items are not available in the quantity in your cart.") : null,
			h("a", { href: "/checkout", class: "button" }, "Go to checkout"),
			h("button", { type: "button", class: "link", onclick: () => change(null, 0, "cart-total") }, "Empty the cart")
		)
	);
}

// ---------------------------------------------------------------------------------------------- checkout

/** The simulated provider's test cards (services/payment/payment.provider.ts). */
const TEST_CARDS = [
	["tok_visa", "Visa test card", "the payment succeeds"],
	["tok_mastercard", "Mastercard test card", "the payment succeeds"],
	["tok_chargeDeclined", "Declined test card", "the bank declines the payment"],
	["tok_insufficientFunds", "Test card without funds", "declined for insufficient funds"]
];

const COUNTRIES = [
	["BR", "Brazil"],
	["US", "United States"],
	["CA", "Canada"],
	["MX", "Mexico"],
	["AR", "Argentina"],
	["PT", "Portugal"],
	["ES", "Spain"],
	["FR", "France"],
	["DE", "Germany"],
	["IT", "Italy"],
	["NL", "Netherlands"],
	["GB", "United Kingdom"],
	["IE", "Ireland"],
	["JP", "Japan"],
	["AU", "Australia"]
];

/** `/checkout`. @param {ViewContext} _ctx */
export async function checkoutView(_ctx) {
	if (!requireUser()) return [];
	const [cart, me] = await Promise.all([
		/** @type {Promise<Cart>} */ (api("GET", "/cart")),
		/** @type {Promise<{ user: import("./core.js").User }>} */ (api("GET", "/auth/me"))
	]);
	session.user = me.user;
	setCart(cart);
	if (cart.items.length === 0) {
		return [
			h("h1", null, "Checkout"),
			h("div", { class: "notice empty" }, h("p", null, "Your cart is empty."), h("p", null, h("a", { href: "/products" }, "Browse the products")))
		];
	}
	// one intended order, one key: sending it again (a retry, a double click) never places a second order
	const idempotencyKey = newIdempotencyKey();
	const user = me.user;
	const country = cart.currency === "BRL" ? "BR" : "US";
	const form = /** @type {HTMLFormElement} */ (
		h(
			"form",
			{ class: "checkout-form", novalidate: true },
			h(
				"fieldset",
				null,
				h("legend", null, "Shipping address"),
				field("Full name", { name: "name", autocomplete: "name", required: true, value: user.name, maxlength: 100 }),
				field("Address", { name: "line1", autocomplete: "address-line1", required: true, maxlength: 200 }),
				field("Apartment, suite, etc. (optional)", { name: "line2", autocomplete: "address-line2", maxlength: 200 }),
				h(
					"div",
					{ class: "field-row" },
					field("City", { name: "city", autocomplete: "address-level2", required: true, maxlength: 100 }),
					field("State or region (optional)", { name: "region", autocomplete: "address-level1", maxlength: 100 })
				),
				h(
					"div",
					{ class: "field-row" },
					field("Postal code", { name: "postalCode", autocomplete: "postal-code", required: true, maxlength: 20 }),
					field("Country", {
						tag: "select",
						name: "country",
						autocomplete: "country",
						options: COUNTRIES.map(([code, name]) => h("option", { value: code, selected: code === country }, name))
					})
				)
			),
			h(
				"fieldset",
				{ class: "cards" },
				h("legend", null, "Payment: test cards"),
				h("p", { class: "muted", id: "cards-hint" }, "This shop's payments are simulated: pick a test card. No real card is charged."),
				TEST_CARDS.map(([token, name, outcome], i) =>
					h(
						"div",
						{ class: "radio" },
						h("input", { type: "radio", name: "paymentToken", id: `card-${token}`, value: token, checked: i === 0 }),
						h("label", { for: `card-${token}` }, name, h("span", { class: "muted" }, ` (${outcome})`))
					)
				)
			),
			h("button", { type: "submit", class: "place" }, `Place order · ${price(cart.totalCents, cart.currency)}`)
		)
	);
	submitForm(form, async v => {
		/** @type {Record<string, string>} */
		const address = { name: v.name, line1: v.line1, city: v.city, postalCode: v.postalCode, country: v.country };
		if (v.line2) address.line2 = v.line2;
		if (v.region) address.region = v.region;
		try {
			/** @type {{ order: Order }} */
			const { order } = await api("POST", "/orders", { body: { paymentToken: v.paymentToken, shippingAddress: address }, idempotencyKey });
			setCart({ items: [], totalCents: 0, currency: cart.currency });
			flash(`Order ${orderNumber(order.id)} is placed. This page follows it until it is confirmed.`);
			navigate(`/orders/${order.id}`);
		} catch (err) {
			if (signedOutBy(err)) return;
			// sent before with other details (the first answer was lost): that order exists, show it
			const placed =
				err instanceof ApiError && err.type === "IDEMPOTENCY_KEY_REUSED" ? /** @type {{ orderId?: string }} */ (err.data)?.orderId : undefined;
			if (placed) return navigate(`/orders/${placed}`);
			throw err;
		}
	});
	return [
		h("h1", null, "Checkout"),
		user.emailVerified ? null : verifyNotice(user.email),
		h(
			"div",
			{ class: "checkout-layout" },
			form,
			h(
				"aside",
				{ class: "summary", "aria-label": "Order summary" },
				h("h2", null, "Your order"),
				h(
					"ul",
					{ class: "plain" },
					cart.items.map(l =>
						h(
							"li",
							{ class: "summary-line" },
							h("span", null, `${l.quantity} × ${l.name}`),
							h("span", null, price(l.lineTotalCents, cart.currency))
						)
					)
				),
				cart.items.some(shortage)
					? h(
							"p",
							{ class: "flag" },
							"Some items are not available in the quantity in your cart: ",
							h("a", { href: "/cart" }, "review your cart"),
							"."
						)
					: null,
				h("p", { class: "summary-line total-line" }, h("span", null, "Total"), h("span", { class: "total" }, price(cart.totalCents, cart.currency)))
			)
		)
	];
}

/** Orders need a verified address: says so, with a button for a new link. @param {string} email */
export function verifyNotice(email) {
	const result = h("span", { role: "status" });
	const button = /** @type {HTMLButtonElement} */ (
		h(
			"button",
			{
				type: "button",
				class: "secondary",
				onclick: async () => {
					button.disabled = true;
					try {
						const sent = await api("POST", "/auth/resend-verification");
						result.textContent = `We sent a new link to ${/** @type {{ email: string }} */ (sent).email}.`;
					} catch (err) {
						if (!signedOutBy(err)) result.textContent = err instanceof Error ? err.message : String(err);
					} finally {
						button.disabled = false;
					}
				}
			},
			"Send a new verification link"
		)
	);
	return h(
		"div",
		{ class: "notice verify" },
		h("p", null, `Verify your e-mail address (${email}) before placing an order: open the link we mailed you.`),
		h("p", { class: "row" }, button, result)
	);
}

// ---------------------------------------------------------------------------------------------- an order

const STEPS = /** @type {const} */ (["PENDING", "STOCK_RESERVED", "CONFIRMED"]);
const FINAL = new Set(["CONFIRMED", "CANCELLED"]);

/** `/orders/:id`: the order, followed about every second until it is confirmed or cancelled. @param {ViewContext} ctx */
export async function orderView(ctx) {
	if (!requireUser()) return [];
	const id = ctx.params[0];
	/** @type {{ order: Order }} */
	let { order } = await api("GET", `/orders/${encodeURIComponent(id)}`);
	const live = h("div", { class: "order-live" });
	const heading = h("h1", null, `Order ${orderNumber(order.id)}`);
	let polls = 0;
	/** @param {Order} next */
	const draw = next => {
		const before = order.status;
		order = next;
		render(live, orderContent(order, cancel));
		if (before !== order.status)
			announce(
				`Order ${STATUS_WORDS[order.status].toLowerCase()}.${order.status === "CANCELLED" && order.cancelReason ? " " + (CANCEL_WORDS[order.cancelReason] ?? "") : ""}`
			);
	};
	// a cancelled paid order waits on its refund as well
	const settled = () => FINAL.has(order.status) && !(order.status === "CANCELLED" && order.paymentStatus === "SUCCEEDED");
	const poll = async () => {
		while (!ctx.signal.aborted && !settled() && polls++ < 120) {
			await new Promise(r => setTimeout(r, 1000));
			if (ctx.signal.aborted) return;
			try {
				draw((await api("GET", `/orders/${encodeURIComponent(id)}`)).order);
			} catch (err) {
				if (signedOutBy(err)) return;
				// a passing failure: the next poll tries again
			}
		}
	};
	const cancel = async () => {
		const { order: cancelled } = await api("POST", `/orders/${encodeURIComponent(id)}/cancel`);
		draw(cancelled);
		/** @type {HTMLElement | null} */ (live.querySelector("#order-status"))?.focus();
		void poll();
	};
	draw(order);
	void poll();
	return [heading, live];
}

/**
 * @param {Order} order
 * @param {() => Promise<void>} cancel
 */
function orderContent(order, cancel) {
	const reached = new Set(order.history.map(e => e.status));
	const cancelled = order.status === "CANCELLED";
	const reason = order.cancelReason ? (CANCEL_WORDS[order.cancelReason] ?? order.cancelReason) : null;
	return h(
		"div",
		{ class: "order stack" },
		h(
			"div",
			{ id: "order-status", class: `order-status ${order.status}`, tabindex: "-1" },
			h("p", { class: "status-line" }, "Status: ", statusBadge(order.status)),
			cancelled
				? h("p", { class: "cancel-reason" }, "This order was cancelled. ", reason ?? "", refundWords(order))
				: order.status === "CONFIRMED"
					? h("p", null, "Paid and confirmed. We are getting it ready to ship.")
					: h("p", { class: "muted" }, order.status === "PENDING" ? "Reserving your items…" : "Items reserved. Taking the payment…")
		),
		cancelled
			? null
			: h(
					"ol",
					{ class: "steps", "aria-label": "Progress" },
					STEPS.map(s =>
						h(
							"li",
							{ class: reached.has(s) ? "done" : "" },
							STATUS_WORDS[s],
							h("span", { class: "visually-hidden" }, reached.has(s) ? " (done)" : " (to come)")
						)
					)
				),
		h(
			"section",
			{ "aria-labelledby": "items-h" },
			h("h2", { id: "items-h" }, "Items"),
			h(
				"ul",
				{ class: "plain order-lines" },
				order.items.map(l =>
					h(
						"li",
						{ class: "summary-line" },
						h(
							"span",
							null,
							`${l.quantity} × `,
							h("a", { href: `/products/${l.productId}` }, l.name),
							h("span", { class: "muted" }, ` at ${price(l.unitPriceCents, order.currency)}`)
						),
						h("span", null, price(l.lineTotalCents, order.currency))
					)
				)
			),
			h("p", { class: "summary-line total-line" }, h("span", null, "Total"), h("span", { class: "total" }, price(order.totalCents, order.currency)))
		),
		h("p", { class: "muted" }, `Order number ${order.id}, placed ${dateTime(order.createdAt)}.`),
		h(
			"div",
			{ class: "order-facts" },
			order.shippingAddress
				? h("section", { "aria-labelledby": "ship-h" }, h("h2", { id: "ship-h" }, "Shipping to"), addressBlock(order.shippingAddress))
				: null,
			h(
				"section",
				{ "aria-labelledby": "hist-h" },
				h("h2", { id: "hist-h" }, "History"),
				h(
					"ol",
					{ class: "history" },
					order.history.map(e =>
						h(
							"li",
							null,
							h("time", { datetime: e.at }, dateTime(e.at)),
							" ",
							STATUS_WORDS[e.status] ?? e.status,
							e.reason ? h("span", { class: "muted" }, ` (${(CANCEL_WORDS[e.reason] ?? e.reason).replace(/\.$/, "").toLowerCase()})`) : null
						)
					)
				),
				order.paymentStatus ? h("p", { class: "muted" }, `Payment: ${PAYMENT_WORDS[order.paymentStatus] ?? order.paymentStatus}`) : null
			)
		),
		cancelled ? null : cancelControls(cancel),
		h("p", null, h("a", { href: "/orders" }, "All your orders"))
	);
}

const PAYMENT_WORDS = /** @type {Record<string, string>} */ ({ SUCCEEDED: "paid", DECLINED: "declined", REFUNDED: "refunded" });

/** @param {import("./core.js").Order} order */
function refundWords(order) {
	if (order.paymentStatus === "REFUNDED") return " Your payment was refunded.";
	if (order.paymentStatus === "SUCCEEDED") return " Your payment is being refunded.";
	return "";
}

/** @param {import("./core.js").Address} a */
function addressBlock(a) {
	return h(
		"address",
		null,
		[a.name, a.line1, a.line2, [a.postalCode, a.city, a.region].filter(Boolean).join(" "), a.country]
			.filter(Boolean)
			.flatMap((l, i) => (i ? [h("br"), l] : [l]))
	);
}

/** "Cancel order", then "Yes, cancel it" / "Keep it". @param {() => Promise<void>} cancel */
function cancelControls(cancel) {
	const box = h("div", { class: "cancel-box" });
	const error = h("p", { class: "form-error", role: "alert", hidden: true });
	const ask = () => {
		const yes = /** @type {HTMLButtonElement} */ (
			h(
				"button",
				{
					type: "button",
					class: "danger",
					onclick: async () => {
						yes.disabled = true;
						try {
							await cancel();
						} catch (err) {
							if (signedOutBy(err)) return;
							error.hidden = false;
							error.textContent = err instanceof Error ? err.message : String(err);
							yes.disabled = false;
						}
					}
				},
				"Yes, cancel this order"
			)
		);
		render(
			box,
			h("p", { id: "cancel-q" }, "Cancel this order? A payment already taken is refunded."),
			h("div", { class: "row" }, yes, h("button", { type: "button", class: "secondary", onclick: first }, "Keep the order")),
			error
		);
		yes.focus();
	};
	const first = () => {
		render(box, h("button", { type: "button", class: "secondary", onclick: ask }, "Cancel order"));
		/** @type {HTMLElement | null} */ (box.querySelector("button"))?.focus();
	};
	render(box, h("button", { type: "button", class: "secondary", onclick: ask }, "Cancel order"));
	return box;
}

// ---------------------------------------------------------------------------------------------- orders

/** `/orders`: the person's orders, newest first. @param {ViewContext} ctx */
export async function ordersView(ctx) {
	if (!requireUser()) return [];
	const page = Math.max(1, Number.parseInt(ctx.query.get("page") ?? "1", 10) || 1);
	/** @type {{ items: Order[], total: number, page: number, pageSize: number }} */
	const listing = await api("GET", "/orders", { query: { page, pageSize: 20 } });
	return [
		h("h1", null, "Your orders"),
		listing.items.length === 0
			? h("div", { class: "notice empty" }, h("p", null, "You have no orders yet."), h("p", null, h("a", { href: "/products" }, "Browse the products")))
			: h(
					"ul",
					{ class: "order-list", "aria-label": "Your orders" },
					listing.items.map(o =>
						h(
							"li",
							{ class: "order-item" },
							h("p", { class: "order-item-head" }, h("a", { href: `/orders/${o.id}` }, `Order ${orderNumber(o.id)}`), " ", statusBadge(o.status)),
							h(
								"p",
								{ class: "muted" },
								h("time", { datetime: o.createdAt }, dateTime(o.createdAt)),
								` · ${o.items.reduce((n, l) => n + l.quantity, 0)} item(s) · `,
								h("strong", { class: "order-item-total" }, price(o.totalCents, o.currency))
							)
						)
					)
				),
		pager(listing, ctx.query, "/orders")
	];
}
