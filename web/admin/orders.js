// @ts-check
/** Orders (every customer's, with each one's saga across the services) and payments. */
import { api } from "../shared/api.js";
import { dateTime, h, money } from "../shared/ui.js";
import { submitAsNavigation } from "./catalog.js";
import { actionButton, badge, busy, can, confirmAction, facts, field, nav, pageOf, pager, shortId, table } from "./kit.js";

/**
 * @typedef {{ productId: string, sku: string, name: string, quantity: number, unitPriceCents: number, lineTotalCents: number }} Line
 * @typedef {{ name: string, line1: string, line2?: string, city: string, region?: string, postalCode: string, country: string }} Address
 * @typedef {{ id: string, userId: string, status: string, cancelReason: string | null, items: Line[], totalCents: number, currency: string, shippingAddress: Address | null, paymentStatus: string | null, history: { status: string, at: string, reason?: string }[], createdAt: string, updatedAt: string }} Order
 * @typedef {{ service: string, direction: "sent" | "received", eventId: string, event: string, at: string, status: string, deliveredTo?: string[], attempts?: number, lastError?: string | null, handledBy?: string | null }} TrailEntry
 * @typedef {{ id: string, orderId: string, amountCents: number, currency: string, status: string, declineCode: string | null, createdAt: string }} Payment
 * @typedef {import("./kit.js").RouteContext} RouteContext
 * @typedef {import("./kit.js").View} View
 */

const PAGE_SIZE = 20;
const STATUSES = ["PENDING", "STOCK_RESERVED", "CONFIRMED", "CANCELLED"];
const REASONS = /** @type {Record<string, string>} */ ({
	out_of_stock: "out of stock",
	payment_declined: "payment declined",
	customer_request: "cancelled on request",
	timeout: "timed out"
});

/** @param {Order} o */
function canCancel(o) {
	return o.status !== "CANCELLED" && can("order.update");
}

/** Asks, then cancels an order. @param {Order} o @param {HTMLButtonElement} button @param {() => void} after */
async function cancel(o, button, after) {
	const sure = await confirmAction({
		title: `Cancel order ${shortId(o.id)}?`,
		body:
			o.status === "CONFIRMED"
				? "The order is paid: cancelling it refunds the payment and puts its stock back. This cannot be undone."
				: "Its reserved stock goes back on sale. This cannot be undone.",
		confirm: "Cancel order"
	});
	if (!sure) return;
	await busy(button, async () => {
		await api("POST", `/orders/${o.id}/cancel`);
		after();
	});
}

/** @param {RouteContext} ctx @returns {Promise<View>} */
export async function ordersView({ query }) {
	const status = STATUSES.includes(query.get("status") ?? "") ? query.get("status") : "";
	const page = /** @type {{ items: Order[], total: number, page: number, pageSize: number }} */ (
		await api("GET", "/orders", { query: { status, page: pageOf(query), pageSize: PAGE_SIZE } })
	);
	const select = h(
		"select",
		{ name: "status" },
		h("option", { value: "" }, "Every status"),
		STATUSES.map(s => h("option", { value: s, selected: s === status }, s.replaceAll("_", " ").toLowerCase()))
	);
	const filter = h(
		"form",
		{ class: "toolbar", method: "get", action: "/admin/orders", onsubmit: submitAsNavigation, "aria-label": "Filter orders" },
		field("Status", select),
		h("button", { type: "submit", class: "secondary" }, "Filter")
	);
	const rows = page.items.map(o => [
		h("a", { href: `/admin/orders/${o.id}` }, h("code", null, shortId(o.id))),
		dateTime(o.createdAt),
		badge(o.status),
		badge(o.paymentStatus),
		String(o.items.reduce((n, l) => n + l.quantity, 0)),
		money(o.totalCents, o.currency),
		h("code", { title: o.userId }, shortId(o.userId)),
		canCancel(o)
			? actionButton("Cancel", `order ${shortId(o.id)}`, e =>
					cancel(o, /** @type {HTMLButtonElement} */ (e.currentTarget), () => nav.reload(`Order ${shortId(o.id)} cancelled.`))
				)
			: null
	]);
	return {
		title: status ? `Orders: ${status.replaceAll("_", " ").toLowerCase()}` : "Orders",
		content: [
			filter,
			table(
				"Orders",
				["Order", "Placed", "Status", "Payment", "Items", "Total", "Customer", "Actions"],
				rows,
				status ? "No orders with this status." : "No orders yet."
			),
			pager(page, query)
		]
	};
}

/** A time to the millisecond: a saga's steps are often within one second. @param {string} iso */
function preciseTime(iso) {
	return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3 });
}

/** What a saga event did, in words: where a sent one went, or what became of a received one. @param {TrailEntry} e */
function eventDetail(e) {
	if (e.direction === "sent") {
		return e.status === "PUBLISHED"
			? `Delivered to ${e.deliveredTo?.join(", ") || "its listeners"}`
			: `Waiting for ${e.deliveredTo?.length ? `more than ${e.deliveredTo.join(", ")}` : "its consumers"}`;
	}
	const parts = [];
	if (e.handledBy) parts.push(`on ${e.handledBy}`);
	if (e.lastError) parts.push(`last error: ${e.lastError}`);
	return parts.join("; ");
}

/** @param {RouteContext} ctx @returns {Promise<View>} */
export async function orderView({ params: [id] }) {
	const trail = /** @type {{ order: Order, events: TrailEntry[], unreachable: string[] }} */ (await api("GET", `/orders/${id}/saga`));
	const o = trail.order;
	const customer = can("user.view")
		? await /** @type {Promise<{ user: { name: string, email: string } }>} */ (api("GET", `/admin/users/${o.userId}`)).then(
				r => `${r.user.name} <${r.user.email}>`,
				() => o.userId
			)
		: o.userId;
	const address = o.shippingAddress
		? [
				o.shippingAddress.name,
				o.shippingAddress.line1,
				o.shippingAddress.line2,
				`${o.shippingAddress.postalCode} ${o.shippingAddress.city}`,
				o.shippingAddress.region,
				o.shippingAddress.country
			]
				.filter(Boolean)
				.join(", ")
		: "none given";
	const cancelButton = canCancel(o)
		? h(
				"button",
				{
					type: "button",
					class: "danger",
					onclick: (/** @type {Event} */ e) =>
						cancel(o, /** @type {HTMLButtonElement} */ (e.currentTarget), () => nav.reload(`Order ${shortId(o.id)} cancelled.`))
				},
				"Cancel order"
			)
		: null;
	return {
		title: `Order ${shortId(o.id)}`,
		content: [
			h("p", null, h("a", { href: "/admin/orders" }, "← All orders")),
			facts([
				["Status", [badge(o.status), o.cancelReason ? ` ${REASONS[o.cancelReason] ?? o.cancelReason}` : ""]],
				["Payment", badge(o.paymentStatus)],
				["Total", money(o.totalCents, o.currency)],
				["Placed", dateTime(o.createdAt)],
				["Customer", customer],
				["Ship to", address],
				["Order id", h("code", null, o.id)]
			]),
			cancelButton ? h("div", { class: "row" }, cancelButton) : null,
			h(
				"section",
				{ "aria-labelledby": "lines-title" },
				h("h2", { id: "lines-title" }, "Items"),
				table(
					"Items of the order",
					["Product", "SKU", "Quantity", "Unit price", "Line total"],
					o.items.map(l => [
						l.name,
						h("code", null, l.sku),
						String(l.quantity),
						money(l.unitPriceCents, o.currency),
						money(l.lineTotalCents, o.currency)
					])
				)
			),
			h(
				"section",
				{ "aria-labelledby": "history-title" },
				h("h2", { id: "history-title" }, "History"),
				h(
					"ol",
					{ class: "timeline" },
					o.history.map(s =>
						h("li", null, h("time", { datetime: s.at }, dateTime(s.at)), " ", badge(s.status), s.reason ? ` ${REASONS[s.reason] ?? s.reason}` : "")
					)
				)
			),
			h(
				"section",
				{ "aria-labelledby": "saga-title" },
				h("h2", { id: "saga-title" }, "Saga events"),
				h(
					"p",
					{ class: "muted" },
					"Every event about this order, as each service sent (→) or received (←) it, oldest first (times to the millisecond)."
				),
				trail.unreachable.length > 0
					? h("p", { class: "notice-error", role: "alert" }, `Could not ask ${trail.unreachable.join(", ")}: their events are missing here.`)
					: null,
				table(
					"Saga events",
					["When", "Service", "Direction", "Event", "Status", "Attempts", "Detail"],
					trail.events.map(e => [
						h("time", { datetime: e.at, title: dateTime(e.at) }, preciseTime(e.at)),
						h("strong", null, e.service),
						e.direction === "sent" ? "→ sent" : "← received",
						h("code", null, e.event),
						badge(e.status),
						e.attempts === undefined ? "" : String(e.attempts),
						eventDetail(e)
					]),
					"No events recorded for this order."
				)
			)
		]
	};
}

/** @param {RouteContext} ctx @returns {Promise<View>} */
export async function paymentsView({ query }) {
	const orderId = query.get("orderId") ?? "";
	const page = /** @type {{ items: Payment[], total: number, page: number, pageSize: number }} */ (
		await api("GET", "/payments", { query: { orderId, page: pageOf(query), pageSize: PAGE_SIZE } })
	);
	const filter = h(
		"form",
		{ class: "toolbar", method: "get", action: "/admin/payments", onsubmit: submitAsNavigation, "aria-label": "Filter payments" },
		field(
			"Order id",
			h("input", { name: "orderId", value: orderId, autocomplete: "off", spellcheck: "false" }),
			"The whole id, to see one order's payment."
		),
		h("button", { type: "submit", class: "secondary" }, "Filter")
	);
	const rows = page.items.map(p => [
		h("code", { title: p.id }, shortId(p.id)),
		can("order.view") ? h("a", { href: `/admin/orders/${p.orderId}` }, h("code", null, shortId(p.orderId))) : h("code", null, shortId(p.orderId)),
		money(p.amountCents, p.currency),
		badge(p.status),
		p.declineCode ?? "",
		dateTime(p.createdAt)
	]);
	return {
		title: "Payments",
		content: [
			filter,
			table(
				"Payments",
				["Payment", "Order", "Amount", "Status", "Decline code", "When"],
				rows,
				orderId ? "No payment for this order." : "No payments yet."
			),
			pager(page, query)
		]
	};
}
