// @ts-check
/**
 * The catalog: the product listing (search, category, price range, sort, pages, all in the address so back,
 * forward and shared links work) and a product's page with its price, stock and "Add to cart".
 */
import { api } from "../shared/api.js";
import { announce, h } from "../shared/ui.js";
import { field, navigate, pager, price, session, setCart, signInFirst, submitForm } from "./core.js";

/** @typedef {import("./core.js").Product} Product @typedef {import("./core.js").ViewContext} ViewContext */

const PAGE_SIZE = 12;
const SORTS = [
	["", "Featured"],
	["price", "Price: low to high"],
	["-price", "Price: high to low"],
	["name", "Name: A to Z"],
	["-name", "Name: Z to A"],
	["-createdAt", "Newest first"]
];

/** The categories, asked for once per page load. @type {Promise<{ category: string, productCount: number }[]> | undefined} */
let categories;
function loadCategories() {
	categories ??= api("GET", "/categories", { anonymous: true })
		.then(r => /** @type {{ items: { category: string, productCount: number }[] }} */ (r).items)
		.catch(err => {
			categories = undefined;
			throw err;
		});
	return categories;
}

/** A price typed in currency units ("12.5") as cents, or undefined. @param {string | null} text */
function toCents(text) {
	if (!text) return undefined;
	const n = Number(text.replace(",", "."));
	return Number.isFinite(n) && n >= 0 ? Math.round(n * 100) : undefined;
}

/** An image from this origin or https (what the CSP allows), else none. @param {string | null} url */
function imageOf(url) {
	return url && (/^https:\/\//i.test(url) || url.startsWith("/")) ? url : undefined;
}

/** @param {Product} p */
function productCard(p) {
	const img = imageOf(p.imageUrl);
	return h(
		"li",
		{ class: "card" },
		img
			? h("img", { src: img, alt: "", loading: "lazy", class: "card-img" })
			: h("div", { class: "card-img placeholder", "aria-hidden": "true" }, p.name.slice(0, 1)),
		h("h2", { class: "card-title" }, h("a", { href: `/products/${p.id}` }, p.name)),
		h("p", { class: "muted card-category" }, p.category),
		h("p", { class: "price" }, price(p.priceCents, p.currency))
	);
}

/** `/` and `/products`: the listing. @param {ViewContext} ctx */
export async function catalogView(ctx) {
	const q = ctx.query;
	const search = q.get("search")?.trim() || "";
	const category = q.get("category") || "";
	const sort = SORTS.some(([v]) => v === q.get("sort")) ? q.get("sort") || "" : "";
	const page = Math.max(1, Number.parseInt(q.get("page") ?? "1", 10) || 1);
	const minPrice = toCents(q.get("minPrice"));
	const maxPrice = toCents(q.get("maxPrice"));
	const [listing, cats] = await Promise.all([
		/** @type {Promise<{ items: Product[], total: number, page: number, pageSize: number }>} */ (
			api("GET", "/products", { anonymous: true, query: { search, category, sort, page, pageSize: PAGE_SIZE, minPrice, maxPrice } })
		),
		loadCategories().catch(() => [])
	]);

	const form = /** @type {HTMLFormElement} */ (
		h(
			"form",
			{ class: "filters", role: "search", "aria-label": "Products", action: "/products", method: "get", novalidate: true },
			h(
				"div",
				{ class: "field search-field" },
				h("label", { for: "f-search" }, "Search products"),
				h(
					"div",
					{ class: "search-row" },
					h("input", { id: "f-search", name: "search", type: "search", value: search, autocomplete: "off", enterkeyhint: "search" }),
					h("button", { type: "submit" }, "Search")
				)
			),
			field("Category", {
				tag: "select",
				name: "category",
				options: [
					h("option", { value: "" }, "All categories"),
					...cats.map(c => h("option", { value: c.category, selected: c.category === category }, `${c.category} (${c.productCount})`))
				]
			}),
			field("Lowest price", { name: "minPrice", type: "number", min: 0, step: "0.01", inputmode: "decimal", value: q.get("minPrice") ?? "" }),
			field("Highest price", { name: "maxPrice", type: "number", min: 0, step: "0.01", inputmode: "decimal", value: q.get("maxPrice") ?? "" }),
			field("Sort by", { tag: "select", name: "sort", options: SORTS.map(([v, text]) => h("option", { value: v, selected: v === sort }, text)) }),
			h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "secondary" }, "Apply filters"))
		)
	);
	form.addEventListener("submit", event => {
		event.preventDefault();
		const next = new URLSearchParams();
		for (const [k, v] of new FormData(form)) if (typeof v === "string" && v.trim()) next.set(k, v.trim());
		const s = next.toString();
		navigate(s ? `/products?${s}` : "/products");
	});
	// a new category or order shows at once (the price range waits for the button or Enter)
	for (const name of ["category", "sort"]) form.querySelector(`[name=${name}]`)?.addEventListener("change", () => form.requestSubmit());

	const filtered = search || category || minPrice !== undefined || maxPrice !== undefined;
	const title = search ? `Results for “${search}”` : category || "All products";
	// the catalog counts a listing up to 1,000 products deep (MAX_LISTING_DEPTH): that many means at least that many
	const found = listing.total === 1 ? "1 product" : listing.total >= 1000 ? "1,000+ products" : `${listing.total} products`;
	announce(`${found} found`);
	return [
		h("div", { class: "page-head" }, h("h1", null, title), h("p", { class: "muted", id: "result-count" }, found)),
		form,
		listing.items.length === 0
			? h(
					"div",
					{ class: "notice empty" },
					h("p", null, filtered ? "No products match what you chose." : "The shop has no products yet."),
					filtered ? h("p", null, h("a", { href: "/products" }, "Show all products")) : null
				)
			: h("ul", { class: "grid", "aria-labelledby": "result-count" }, listing.items.map(productCard)),
		pager(listing, q, ctx.path === "/" ? "/" : "/products")
	];
}

/** Words for how many can be bought. @param {number} available */
function availability(available) {
	if (available <= 0) return h("p", { class: "stock out" }, "Out of stock");
	if (available <= 5) return h("p", { class: "stock low" }, `Only ${available} left in stock`);
	return h("p", { class: "stock in" }, "In stock");
}

/** `/products/:id`: a product. @param {ViewContext} ctx */
export async function productView(ctx) {
	const id = ctx.params[0];
	const [product, stock] = await Promise.all([
		/** @type {Promise<Product>} */ (api("GET", `/products/${encodeURIComponent(id)}`, { anonymous: true })),
		/** @type {Promise<{ available: number }>} */ (api("GET", `/inventory/${encodeURIComponent(id)}`, { anonymous: true })).catch(() => null)
	]);
	const available = stock?.available ?? 0;
	const max = Math.max(1, Math.min(99, available));
	const img = imageOf(product.imageUrl);
	const result = h("div", { class: "add-result", role: "status" });
	const form = h(
		"form",
		{ class: "add-form", novalidate: true },
		field("Quantity", { name: "quantity", type: "number", min: 1, max, step: 1, value: 1, inputmode: "numeric", required: true }),
		h("button", { type: "submit", disabled: available <= 0 }, "Add to cart")
	);
	submitForm(/** @type {HTMLFormElement} */ (form), async values => {
		result.replaceChildren();
		if (!session.user) return signInFirst("Sign in to add products to your cart.");
		const quantity = Number(values.quantity);
		const cart = await api("POST", "/cart/items", { body: { productId: product.id, quantity: Number.isInteger(quantity) ? quantity : values.quantity } });
		setCart(/** @type {import("./core.js").Cart} */ (cart));
		const words = `Added ${quantity} × ${product.name} to your cart.`;
		result.replaceChildren(h("p", { class: "notice-ok" }, words, " ", h("a", { href: "/cart" }, "View your cart")));
	});
	return h(
		"article",
		{ class: "product" },
		h(
			"nav",
			{ "aria-label": "Breadcrumb", class: "crumbs" },
			h("a", { href: "/products" }, "Products"),
			" / ",
			h("a", { href: `/products?category=${encodeURIComponent(product.category)}` }, product.category)
		),
		h(
			"div",
			{ class: "product-layout" },
			img
				? h("img", { src: img, alt: product.name, class: "product-img" })
				: h("div", { class: "product-img placeholder", "aria-hidden": "true" }, product.name.slice(0, 1)),
			h(
				"div",
				{ class: "product-info stack" },
				h("h1", null, product.name),
				h("p", { class: "price big" }, price(product.priceCents, product.currency)),
				availability(available),
				product.active ? form : h("p", { class: "notice" }, "This product is no longer sold."),
				result,
				product.description ? h("div", { class: "description" }, h("h2", null, "About this product"), h("p", null, product.description)) : null,
				h("p", { class: "muted" }, `SKU ${product.sku}`)
			)
		)
	);
}
