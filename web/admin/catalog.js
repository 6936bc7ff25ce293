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

/** One page of active products, newest first (or best matches of a search). @param {URLSearchParams} query */
function productPage(query) {
	const search = query.get("search") ?? "";
	return /** @type {Promise<ProductPage>} */ (
		api("GET", "/products", { query: { search, page: pageOf(query), pageSize: PAGE_SIZE, sort: search ? undefined : "-createdAt" } })
	);
}

/** The search form of a product listing (a GET form: the search is in the address, and Back works). @param {URLSearchParams} query */
function searchForm(query) {
	const input = h("input", { type: "search", name: "search", value: query.get("search") ?? "", maxlength: "200" });
	return h(
		"form",
		{ class: "toolbar", role: "search", method: "get", action: location.pathname, onsubmit: submitAsNavigation },
		field("Search products", input),
		h("button", { type: "submit", class: "secondary" }, "Search")
	);
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
	const rows = page.items.map(p => [
		can("product.update") ? h("a", { href: `/admin/products/${p.id}` }, p.name) : p.name,
		h("code", null, p.sku),
		p.category,
		money(p.priceCents, p.currency),
		h(
			"div",
			{ class: "row actions" },
			can("inventory.view", "inventory.update") ? actionLink(`/admin/stock/${p.id}`, "Stock", `of ${p.name}`) : null,
			can("product.delete") ? actionButton("Archive", p.name, e => archive(p, /** @type {HTMLButtonElement} */ (e.currentTarget)), "danger small") : null
		)
	]);
	return {
		title: "Products",
		content: [
			h(
				"div",
				{ class: "row toolbar-row" },
				searchForm(query),
				can("product.store") ? h("a", { href: "/admin/products/new", class: "button" }, "New product") : null
			),
			table(
				"Products",
				["Name", "SKU", "Category", "Price", "Actions"],
				rows,
				query.get("search") ? "No product matches this search." : "No products yet."
			),
			pager(page, query),
			h("p", { class: "muted small" }, "Archived products are not listed: the API lists active products only.")
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
