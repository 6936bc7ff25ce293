// @ts-check
/** Products (the catalog) and stock (levels, adjustments, the ledger). */
import { api } from "../shared/api.js";
import { dateTime, h, money, onSubmit } from "../shared/ui.js";
import { actionButton, actionLink, busy, can, confirmAction, facts, field, nav, pageOf, pager, parseCents, session, table } from "./kit.js";

/**
 * @typedef {{ id: string, sku: string, name: string, description: string, priceCents: number, currency: string, category: string, imageUrl: string | null, active: boolean, createdAt: string, updatedAt: string }} Product
 * @typedef {{ items: Product[], total: number, page: number, pageSize: number }} ProductPage
 * @typedef {{ productId: string, onHand: number, reserved: number, available: number }} StockLevel
 * @typedef {{ id: string, delta: number, reason: string, onHandAfter: number, actorId: string | null, createdAt: string }} Adjustment
 * @typedef {import("./kit.js").RouteContext} RouteContext
 * @typedef {import("./kit.js").View} View
 */

const PAGE_SIZE = 20;

/** Which products a listing shows: the API's `status` of GET /api/admin/products. */
const PRODUCT_STATUSES = /** @type {const} */ ([
	["active", "Active"],
	["archived", "Archived"],
	["all", "Active and archived"]
]);

/**
 * The status the address asks for; staff who may change products see archived ones through
 * GET /api/admin/products, everyone else the public listing (active products only).
 * @param {URLSearchParams} query
 */
function statusOf(query) {
	const asked = query.get("status") ?? "";
	return can("product.update") && PRODUCT_STATUSES.some(([v]) => v === asked) ? asked : "active";
}

/** One page of products, newest first (or best matches of a search). @param {URLSearchParams} query */
function productPage(query) {
	const search = query.get("search") ?? "";
	const status = statusOf(query);
	const params = { search, page: pageOf(query), pageSize: PAGE_SIZE, sort: search ? undefined : "-createdAt" };
	return /** @type {Promise<ProductPage>} */ (
		status === "active" ? api("GET", "/products", { query: params }) : api("GET", "/admin/products", { query: { ...params, status } })
	);
}

/**
 * The search form of a product listing (a GET form: the search is in the address, and Back works), with the
 * status filter for staff who may see archived products.
 * @param {URLSearchParams} query
 * @param {boolean} [withStatus]
 */
function searchForm(query, withStatus = false) {
	const input = h("input", { type: "search", name: "search", value: query.get("search") ?? "", maxlength: "200" });
	const status = statusOf(query);
	const select = withStatus
		? h(
				"select",
				{ name: "status" },
				PRODUCT_STATUSES.map(([value, label]) => h("option", { value, selected: value === status }, label))
			)
		: null;
	return h(
		"form",
		{ class: "toolbar", role: "search", method: "get", action: location.pathname, onsubmit: submitAsNavigation },
		field("Search products", input),
		select ? field("Show", select) : null,
		h("button", { type: "submit", class: "secondary" }, "Search")
	);
}

/** Brings an archived product back into the catalog. @param {Product} p @param {HTMLButtonElement} button */
async function restore(p, button) {
	await busy(button, async () => {
		await api("POST", `/products/${p.id}/restore`);
		nav.reload(`Restored ${p.name}: it is in the catalog again.`);
	});
}

/** A GET form's submission as an in-page navigation to its address. @param {Event} event */
export function submitAsNavigation(event) {
	event.preventDefault();
	const form = /** @type {HTMLFormElement} */ (event.currentTarget);
	const q = new URLSearchParams();
	for (const [k, v] of new FormData(form)) if (typeof v === "string" && v.trim()) q.set(k, v.trim());
	nav.go(q.size > 0 ? `${location.pathname}?${q}` : location.pathname);
}

/** Asks, then archives a product. @param {Product} p @param {HTMLButtonElement} button */
async function archive(p, button) {
	const sure = await confirmAction({
		title: `Archive ${p.name}?`,
		body: "It leaves the catalog: customers can no longer see or buy it. Orders already placed keep it.",
		confirm: "Archive"
	});
	if (!sure) return;
	await busy(button, async () => {
		await api("DELETE", `/products/${p.id}`);
		nav.go("/admin/products", `Archived ${p.name}.`);
	});
}

/** @param {RouteContext} ctx @returns {Promise<View>} */
export async function productsView({ query }) {
	const page = await productPage(query);
	const staff = can("product.update");
	const rows = page.items.map(p => [
		staff && p.active ? h("a", { href: `/admin/products/${p.id}` }, p.name) : p.name,
		h("code", null, p.sku),
		p.category,
		money(p.priceCents, p.currency),
		...(staff ? [p.active ? "Active" : "Archived"] : []),
		h(
			"div",
			{ class: "row actions" },
			can("inventory.view", "inventory.update") ? actionLink(`/admin/stock/${p.id}`, "Stock", `of ${p.name}`) : null,
			can("product.delete") && p.active
				? actionButton("Archive", p.name, e => archive(p, /** @type {HTMLButtonElement} */ (e.currentTarget)), "danger small")
				: null,
			can("product.delete") && !p.active ? actionButton("Restore", p.name, e => restore(p, /** @type {HTMLButtonElement} */ (e.currentTarget))) : null
		)
	]);
	return {
		title: "Products",
		content: [
			h(
				"div",
				{ class: "row toolbar-row" },
				searchForm(query, staff),
				can("product.store") ? h("a", { href: "/admin/products/new", class: "button" }, "New product") : null
			),
			table(
				"Products",
				["Name", "SKU", "Category", "Price", ...(staff ? ["Status"] : []), "Actions"],
				rows,
				query.get("search") ? "No product matches this search." : "No products yet."
			),
			pager(page, query),
			staff ? null : h("p", { class: "muted small" }, "Archived products are listed to staff who may change products.")
		]
	};
}

/**
 * A new product's form, or an existing one's (with its archive button).
 * @param {RouteContext} _ctx
 * @param {string | undefined} id
 * @returns {Promise<View>}
 */
export async function productForm(_ctx, id) {
	const [product, categories] = await Promise.all([
		id ? /** @type {Promise<Product>} */ (api("GET", `/products/${id}`)) : undefined,
		/** @type {Promise<{ items: { category: string }[] }>} */ (api("GET", "/categories"))
	]);
	const editable = !product || can("product.update");
	const listId = "category-list";
	const inputs = {
		sku: h("input", { name: "sku", required: true, maxlength: "64", value: product?.sku, autocomplete: "off" }),
		name: h("input", { name: "name", required: true, maxlength: "200", value: product?.name }),
		description: h("textarea", { name: "description", rows: "4", maxlength: "5000" }, product?.description ?? ""),
		priceCents: h("input", { name: "priceCents", required: true, inputmode: "decimal", value: product ? (product.priceCents / 100).toFixed(2) : "" }),
		category: h("input", { name: "category", required: true, maxlength: "100", list: listId, value: product?.category }),
		imageUrl: h("input", { name: "imageUrl", type: "url", maxlength: "2048", value: product?.imageUrl ?? "" })
	};
	if (!editable) for (const el of Object.values(inputs)) el.setAttribute("readonly", "");
	const form = /** @type {HTMLFormElement} */ (
		h(
			"form",
			{ class: "narrow", novalidate: true },
			field("SKU", inputs.sku, "Letters, digits, dots, dashes and underscores."),
			field("Name", inputs.name),
			field("Description", inputs.description),
			field(product ? `Price (${product.currency})` : "Price", inputs.priceCents, "In the store's currency, e.g. 12.50."),
			field("Category", inputs.category),
			h(
				"datalist",
				{ id: listId },
				categories.items.map(c => h("option", { value: c.category }))
			),
			field("Image URL (optional)", inputs.imageUrl, "An https address of the product's picture."),
			editable ? h("button", { type: "submit" }, product ? "Save changes" : "Create product") : null
		)
	);
	onSubmit(form, async v => {
		const body = {
			sku: v.sku,
			name: v.name,
			description: v.description,
			priceCents: parseCents(v.priceCents, "priceCents"),
			category: v.category,
			imageUrl: v.imageUrl || null
		};
		if (product) {
			const saved = /** @type {Product} */ (await api("PATCH", `/products/${product.id}`, { body }));
			nav.reload(`Saved ${saved.name}: ${money(saved.priceCents, saved.currency)}.`);
		} else {
			const created = /** @type {Product} */ (await api("POST", "/products", { body }));
			nav.go(`/admin/products/${created.id}`, `Created ${created.name}.`);
		}
	});
	const archiveButton =
		product && can("product.delete")
			? h(
					"button",
					{
						type: "button",
						class: "danger",
						onclick: (/** @type {Event} */ e) => archive(product, /** @type {HTMLButtonElement} */ (e.currentTarget))
					},
					"Archive product"
				)
			: null;
	return {
		title: product ? product.name : "New product",
		content: [
			h("p", null, h("a", { href: "/admin/products" }, "← All products")),
			product ? h("p", { class: "muted" }, `Added ${dateTime(product.createdAt)}, last changed ${dateTime(product.updatedAt)}.`) : null,
			form,
			product && can("inventory.view", "inventory.update")
				? h("p", null, h("a", { href: `/admin/stock/${product.id}` }, "Stock and ledger of this product"))
				: null,
			archiveButton
				? h(
						"section",
						{ class: "danger-zone", "aria-label": "Archive" },
						h("h2", null, "Archive"),
						h("p", null, "Archiving hides the product from the catalog for good."),
						archiveButton
					)
				: null
		]
	};
}

/** @param {RouteContext} ctx @returns {Promise<View>} */
export async function stockView({ query }) {
	const page = await productPage(query);
	const levels = await Promise.all(page.items.map(p => /** @type {Promise<StockLevel>} */ (api("GET", `/inventory/${p.id}`))));
	const rows = page.items.map((p, i) => [
		h("a", { href: `/admin/stock/${p.id}` }, p.name),
		h("code", null, p.sku),
		h("span", { class: "num" }, levels[i].onHand),
		h("span", { class: "num" }, levels[i].reserved),
		h("span", { class: `num${levels[i].available <= 0 ? " low" : ""}` }, levels[i].available)
	]);
	return {
		title: "Stock",
		content: [searchForm(query), table("Stock levels", ["Product", "SKU", "On hand", "Reserved", "Available"], rows, "No products."), pager(page, query)]
	};
}

/** Who made an adjustment, in words. @param {string | null} actorId */
function actor(actorId) {
	if (!actorId) return "the system";
	if (actorId === session.user?.id) return "you";
	return h("code", { title: actorId }, actorId.slice(0, 8));
}

/** @param {RouteContext} ctx @returns {Promise<View>} */
export async function stockDetailView({ params: [id], query }) {
	const [product, level, ledger] = await Promise.all([
		/** @type {Promise<Product>} */ (api("GET", `/products/${id}`)),
		/** @type {Promise<StockLevel>} */ (api("GET", `/inventory/${id}`)),
		can("inventory.view")
			? /** @type {Promise<{ items: Adjustment[], total: number, page: number, pageSize: number }>} */ (
					api("GET", `/inventory/${id}/adjustments`, { query: { page: pageOf(query), pageSize: PAGE_SIZE } })
				)
			: undefined
	]);
	let form = null;
	if (can("inventory.update")) {
		form = /** @type {HTMLFormElement} */ (
			h(
				"form",
				{ class: "narrow", novalidate: true, "aria-labelledby": "adjust-title" },
				h("h2", { id: "adjust-title" }, "Adjust stock"),
				field(
					"Units",
					h("input", { name: "delta", type: "number", step: "1", required: true }),
					"Received: a positive number. Removed: a negative one."
				),
				field("Reason", h("input", { name: "reason", required: true, maxlength: "200" }), "E.g. a delivery, a count, damage."),
				h("button", { type: "submit" }, "Apply adjustment")
			)
		);
		onSubmit(form, async v => {
			const delta = Number(v.delta);
			const after = /** @type {StockLevel} */ (
				await api("POST", `/inventory/${id}/adjustments`, { body: { delta: Number.isInteger(delta) ? delta : v.delta, reason: v.reason } })
			);
			nav.reload(`Stock of ${product.name} ${delta > 0 ? "raised" : "lowered"} by ${Math.abs(delta)}: ${after.onHand} on hand.`);
		});
	}
	return {
		title: `Stock: ${product.name}`,
		content: [
			h("p", null, h("a", { href: "/admin/stock" }, "← All stock")),
			h(
				"section",
				{ "aria-labelledby": "level-title" },
				h("h2", { id: "level-title" }, "Level"),
				facts([
					["On hand", String(level.onHand)],
					["Reserved (orders in progress)", String(level.reserved)],
					["Available to sell", String(level.available)]
				])
			),
			form,
			ledger
				? h(
						"section",
						{ "aria-labelledby": "ledger-title" },
						h("h2", { id: "ledger-title" }, "Ledger"),
						table(
							"Stock ledger",
							["When", "Change", "Reason", "On hand after", "By"],
							ledger.items.map(a => [
								dateTime(a.createdAt),
								h("span", { class: "num" }, a.delta > 0 ? `+${a.delta}` : String(a.delta)),
								a.reason,
								h("span", { class: "num" }, a.onHandAfter),
								actor(a.actorId)
							]),
							"No adjustments yet."
						),
						pager(ledger, query)
					)
				: null
		]
	};
}
