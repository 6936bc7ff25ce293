import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { Client } from "./http";
import type { Customer } from "./shop";
import { summarize, type LatencySummary } from "./stats";

/**
 * Virtual shoppers for the storefront mix (bench/scenarios/storefront-mix.ts), modelled on the load generators
 * of the reference shops (Online Boutique's and Sock Shop's Locust files): one async loop per shopper, each
 * running sessions of a visitor who lands on the shop, browses categories, searches, opens products, fills and
 * changes a cart, and now and then checks out, with think time between screens.
 *
 * Each screen makes the requests the storefront's own pages make for it (web/storefront/*.js), in the same
 * order: the landing is a full page load (the HTML, its files revalidated by a returning browser, the session
 * refreshed, then the listing); every later screen is a client-side navigation (API calls only, the catalog's
 * sent without the token as the pages send them). The engine keeps its own cost low: one keep-alive agent, no
 * body read unless the shopper needs it, latencies in plain arrays per measurement window.
 */

export type Kind = "page" | "api";

/** What a session does between its screens, by weight (an action the shopper cannot take is left out of the draw). */
export interface Weights {
	/** The product listing, all categories (a page of it). */
	listing: number;
	category: number;
	search: number;
	product: number;
	/** Signed in: the product on show (or one opened first) into the cart. */
	addToCart: number;
	/** Signed in: the cart page. */
	viewCart: number;
	/** Signed in, cart not empty: a line's quantity changed or the line removed. */
	changeCart: number;
}

/**
 * Online Boutique's weights (index 1, setCurrency 2, browseProduct 10, addToCart 2, viewCart 3, checkout 1),
 * with its index split into the listing, a category and a search (Sock Shop's catalogue and category pages),
 * its setCurrency (this shop has one currency) given to changing the cart, and checkout drawn per session instead.
 */
export const DEFAULT_WEIGHTS: Weights = { listing: 1, category: 3, search: 2, product: 10, addToCart: 2, viewCart: 3, changeCart: 1 };

export interface MixOptions {
	/** Think time between screens, drawn uniformly from [min, max] ms. */
	thinkMs: [number, number];
	/** Share of sessions by a signed-in customer (a returning browser with a stored session). */
	signedInShare: number;
	/** Share of all sessions that end with a placed order (all of them signed-in sessions). */
	checkoutShare: number;
	/** Screens after the landing, drawn uniformly from [min, max]. */
	actionsPerSession: [number, number];
	weights: Weights;
	/** How often the order page polls an order until it is CONFIRMED or CANCELLED, and at most how many times. */
	orderPollMs: number;
	orderPollMax: number;
	/** A request that takes longer fails (and counts as an error). */
	timeoutMs: number;
}

export const DEFAULT_MIX: MixOptions = {
	thinkMs: [1000, 5000],
	signedInShare: 0.7,
	checkoutShare: 0.05,
	actionsPerSession: [5, 15],
	weights: DEFAULT_WEIGHTS,
	orderPollMs: 1000,
	orderPollMax: 120,
	timeoutMs: 30_000
};

/** What the shoppers browse: read from the shop at start, so every category, search and product exists. */
export interface Catalog {
	productIds: string[];
	categories: string[];
	byCategory: Map<string, string[]>;
	/** Words of the products' names, each with the products whose name holds it (what a search for it shows). */
	searches: { term: string; ids: string[] }[];
	/** The storefront page's ETag (every storefront route answers the same page). */
	pageEtag: string;
	/** The files the page loads at once (stylesheets, modules, icon) with their ETags. */
	assets: [string, string][];
	/** The cart, checkout and order pages' module, loaded when one of them is first shown. */
	shopModule: [string, string];
}

const PAGE_SIZE = 12;

/** Reads the catalog (every active product), the storefront page's files and their ETags. */
export async function readCatalog(http: Client): Promise<Catalog> {
	const products: { id: string; name: string; category: string }[] = [];
	for (let page = 1; ; page++) {
		const res = await http.expect(200, "GET", `/api/products?page=${page}&pageSize=100`);
		products.push(...(res.body.items as typeof products));
		if (res.body.items.length < 100) break;
	}
	const byCategory = new Map<string, string[]>();
	for (const p of products) byCategory.set(p.category, [...(byCategory.get(p.category) ?? []), p.id]);
	const words = new Map<string, Set<string>>();
	for (const p of products)
		for (const w of p.name.toLowerCase().match(/[a-z]{4,}/g) ?? []) {
			if (!words.has(w)) words.set(w, new Set());
			words.get(w)!.add(p.id);
		}
	const searches = [...words].map(([term, ids]) => ({ term, ids: [...ids] }));
	const page = await http.expect(200, "GET", "/");
	const etagOf = async (path: string) => {
		const res = await http.expect(200, "GET", path);
		const etag = res.headers.etag;
		if (typeof etag !== "string") throw new Error(`${path} answered no ETag`);
		return etag;
	};
	const files = [...new Set([...String(page.body).matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map(m => m[1]))];
	const assets: [string, string][] = [];
	for (const f of files) assets.push([f, await etagOf(f)]);
	const shopModule = "/assets/storefront/shop.js";
	return {
		productIds: products.map(p => p.id),
		categories: [...byCategory.keys()],
		byCategory,
		searches,
		pageEtag: String(page.headers.etag),
		assets,
		shopModule: [shopModule, await etagOf(shopModule)]
	};
}

/** One measurement window's raw numbers. */
class Window {
	readonly startedAt = performance.now();
	readonly cpu = process.cpuUsage();
	readonly routes = new Map<string, { kind: Kind; ms: number[] }>();
	readonly screens = new Map<string, number[]>();
	readonly errorSamples = new Map<string, number>();
	errors = 0;
	requests = 0;
	sessions = 0;
	signedSessions = 0;
	/** Sessions meant to be signed in that found no free customer (browsed anonymously). */
	noCustomer = 0;
	ordersPlaced = 0;
	confirmed = 0;
	cancelled = 0;

	request(route: string, kind: Kind, ms: number): void {
		this.requests++;
		let r = this.routes.get(route);
		if (!r) this.routes.set(route, (r = { kind, ms: [] }));
		r.ms.push(ms);
	}

	screen(name: string, ms: number): void {
		let s = this.screens.get(name);
		if (!s) this.screens.set(name, (s = []));
		s.push(ms);
	}

	error(what: string): void {
		this.errors++;
		this.errorSamples.set(what, (this.errorSamples.get(what) ?? 0) + 1);
	}
}

export interface WindowResult {
	seconds: number;
	/** Shoppers running at the end of the window. */
	shoppers: number;
	requests: number;
	requestsPerSecond: number;
	/** Every screen (a page as the shopper sees it: from the click to its last request answered). */
	pages: LatencySummary;
	/** Every API call on its own. */
	api: LatencySummary;
	/** The HTML page and its files (revalidations). */
	files: LatencySummary;
	byScreen: Record<string, LatencySummary>;
	byRoute: Record<string, LatencySummary & { kind: Kind }>;
	errors: number;
	errorSamples: Record<string, number>;
	sessions: number;
	signedInShare: number;
	noCustomer: number;
	ordersPlaced: number;
	confirmed: number;
	cancelled: number;
	ordersPerMinute: number;
	/** The generator's own CPU over the window (user + system, % of one core) and its event loop's delay. */
	generatorCpuPercent: number;
	generatorLoopDelayP99Ms: number;
	/** Sockets the generator held open to the shop at the end. */
	sockets: number;
}

const rand = (min: number, max: number) => min + Math.random() * (max - min);
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** A listing URL as the storefront's `api()` writes it (empty values left out, the same key order). */
function listingUrl(q: { search?: string; category?: string; sort?: string; page: number }): string {
	const p = new URLSearchParams();
	if (q.search) p.set("search", q.search);
	if (q.category) p.set("category", q.category);
	if (q.sort) p.set("sort", q.sort);
	p.set("page", String(q.page));
	p.set("pageSize", String(PAGE_SIZE));
	return `/api/products?${p}`;
}

const SORTS = ["price", "-price", "name", "-name", "-createdAt"];
const ADDRESS = JSON.stringify({ name: "Bench Shopper", line1: "1 Main Street", city: "Springfield", postalCode: "12345", country: "US" });

interface Reply {
	status: number;
	/** The body, when asked for (or when the answer is an error). */
	text?: string;
}

interface Session {
	customer?: Customer;
	/** The cart's lines (product id -> quantity), as the shop last answered them. */
	cart: Map<string, number>;
	/** The product ids the last listing showed. */
	shown: readonly string[];
	/** The product on show. */
	product?: string;
	/** The shop module was loaded in this page load. */
	shopModule: boolean;
}

/**
 * The shoppers: `setTarget(n)` starts or stops loops until `n` run; `window()` starts a measurement window and
 * answers a function that ends it; `stop()` ends every loop (buyers follow their order to the end first).
 */
export class Shoppers {
	private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 2048, maxFreeSockets: 2048, scheduling: "lifo" });
	private readonly url: URL;
	private readonly free: Customer[];
	private target = 0;
	private readonly running = new Map<number, Promise<void>>();
	private current = new Window();
	private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
	private readonly listings: string[];

	constructor(
		baseUrl: string,
		private readonly catalog: Catalog,
		customers: Customer[],
		private readonly o: MixOptions = DEFAULT_MIX
	) {
		this.url = new URL(baseUrl);
		this.free = [...customers];
		const pages = Math.max(1, Math.ceil(catalog.productIds.length / PAGE_SIZE));
		this.listings = Array.from({ length: pages }, (_, i) => listingUrl({ page: i + 1 }));
		this.loopDelay.enable();
	}

	/** Customers for signed-in sessions (more as the ramp climbs). */
	addCustomers(customers: readonly Customer[]): void {
		this.free.push(...customers);
	}

	get shoppers(): number {
		return this.running.size;
	}

	/** Runs `n` shoppers: new ones start spread over `rampMs`; extra ones stop after their current screen. */
	async setTarget(n: number, rampMs: number): Promise<void> {
		const before = this.target;
		this.target = n;
		const starting: number[] = [];
		for (let id = 0; id < n; id++) if (!this.running.has(id)) starting.push(id);
		const gap = starting.length > 0 ? rampMs / starting.length : 0;
		const t0 = performance.now();
		for (let i = 0; i < starting.length; i++) {
			if (this.target !== n) return; // changed again meanwhile
			const wait = t0 + i * gap - performance.now();
			if (wait > 1) await sleep(wait);
			const id = starting[i];
			if (!this.running.has(id))
				this.running.set(
					id,
					this.loop(id).finally(() => this.running.delete(id))
				);
		}
		if (n < before) await sleep(rampMs);
	}

	/** Starts a measurement window; the answer ends it and gives its numbers. */
	window(): () => WindowResult {
		const w = (this.current = new Window());
		this.loopDelay.reset();
		return () => this.summarize(w);
	}

	async stop(): Promise<void> {
		this.target = 0;
		await Promise.all(this.running.values());
	}

	close(): void {
		this.loopDelay.disable();
		this.agent.destroy();
	}

	private summarize(w: Window): WindowResult {
		const seconds = (performance.now() - w.startedAt) / 1000;
		const cpu = process.cpuUsage(w.cpu);
		const of = (kind: Kind) => [...w.routes.values()].filter(r => r.kind === kind).flatMap(r => r.ms);
		const byRoute: WindowResult["byRoute"] = {};
		for (const [route, r] of w.routes) byRoute[route] = { kind: r.kind, ...summarize(r.ms) };
		const byScreen: WindowResult["byScreen"] = {};
		for (const [name, ms] of w.screens) byScreen[name] = summarize(ms);
		let sockets = 0;
		for (const list of Object.values(this.agent.sockets)) sockets += list?.length ?? 0;
		for (const list of Object.values(this.agent.freeSockets)) sockets += list?.length ?? 0;
		return {
			seconds,
			shoppers: this.running.size,
			requests: w.requests,
			requestsPerSecond: w.requests / seconds,
			pages: summarize([...w.screens.values()].flat()),
			api: summarize(of("api")),
			files: summarize(of("page")),
			byScreen,
			byRoute,
			errors: w.errors,
			errorSamples: Object.fromEntries([...w.errorSamples].slice(0, 8)),
			sessions: w.sessions,
			signedInShare: w.sessions ? w.signedSessions / w.sessions : NaN,
			noCustomer: w.noCustomer,
			ordersPlaced: w.ordersPlaced,
			confirmed: w.confirmed,
			cancelled: w.cancelled,
			ordersPerMinute: (w.confirmed / seconds) * 60,
			generatorCpuPercent: ((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100,
			generatorLoopDelayP99Ms: this.loopDelay.percentile(99) / 1e6,
			sockets
		};
	}

	// ------------------------------------------------------------------------------------------ one request

	/**
	 * Sends a request and records its latency under `route`; an answer outside `ok` (or no answer) counts as an
	 * error and answers undefined. `read` keeps the body.
	 */
	private request(
		method: string,
		path: string,
		route: string,
		kind: Kind,
		opts: { token?: string; body?: string; etag?: string; key?: string; read?: boolean; ok?: (status: number) => boolean } = {}
	): Promise<Reply | undefined> {
		const headers: http.OutgoingHttpHeaders = kind === "api" ? { accept: "application/json" } : { accept: "*/*", "accept-encoding": "gzip" };
		if (opts.token) headers.authorization = `Bearer ${opts.token}`;
		if (opts.etag) headers["if-none-match"] = opts.etag;
		if (opts.key) headers["idempotency-key"] = opts.key;
		if (opts.body !== undefined) {
			headers["content-type"] = "application/json";
			headers["content-length"] = Buffer.byteLength(opts.body);
		}
		const ok = opts.ok ?? (kind === "page" ? (s: number) => s === 200 || s === 304 : (s: number) => s >= 200 && s < 300);
		const started = performance.now();
		const attempt = (retry: boolean): Promise<Reply | undefined> =>
			new Promise(resolve => {
				const req = http.request({ host: this.url.hostname, port: this.url.port, method, path, headers, agent: this.agent }, res => {
					const status = res.statusCode ?? 0;
					const good = ok(status);
					if (!good || opts.read) {
						let text = "";
						res.setEncoding("utf8");
						res.on("data", (c: string) => (text += c));
						res.on("end", () => done(status, good, text));
					} else {
						res.on("end", () => done(status, good));
						res.resume();
					}
					res.on("error", err => fail(err));
				});
				let finished = false;
				const done = (status: number, good: boolean, text?: string) => {
					if (finished) return;
					finished = true;
					const ms = performance.now() - started;
					this.current.request(route, kind, ms);
					if (good) return resolve({ status, text });
					let type = "";
					try {
						type = text ? String((JSON.parse(text) as { type?: string }).type ?? "") : "";
					} catch {
						// not JSON
					}
					this.current.error(`${route}: ${status}${type ? ` ${type}` : ""}`);
					resolve(undefined);
				};
				const fail = (err: Error) => {
					if (finished) return;
					finished = true;
					this.current.request(route, kind, performance.now() - started);
					this.current.error(`${route}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
					resolve(undefined);
				};
				req.setTimeout(this.o.timeoutMs, () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
				req.on("error", err => {
					// a kept-alive socket the shop closed for idleness as it was reused: the request never reached it
					if (retry && req.reusedSocket && (err as NodeJS.ErrnoException).code === "ECONNRESET" && !finished) {
						finished = true;
						resolve(attempt(false));
					} else fail(err);
				});
				req.end(opts.body);
			});
		return attempt(true);
	}

	private api(method: string, path: string, route: string, opts: Parameters<Shoppers["request"]>[4] = {}) {
		return this.request(method, path, route, "api", opts);
	}

	/** Times a screen: from the click to its last request answered. */
	private async screen(name: string, run: () => Promise<unknown>): Promise<void> {
		const started = performance.now();
		await run();
		this.current.screen(name, performance.now() - started);
	}

	private think(): Promise<void> {
		return sleep(rand(this.o.thinkMs[0], this.o.thinkMs[1]));
	}

	// ------------------------------------------------------------------------------------------ the shopper

	private async loop(id: number): Promise<void> {
		// arrivals: a first visitor lands at once, later ones after a think (the last one's leaving)
		for (let first = true; id < this.target; first = false) {
			await this.session(id, first);
			if (id >= this.target) break;
			await this.think();
		}
	}

	/**
	 * A visit. A shopper's first is cut to a random part of its length (a shopper who joined mid-visit): steps then
	 * reach the steady mix of landings, browsing and checkouts within seconds instead of after a whole visit.
	 */
	private async session(id: number, first: boolean): Promise<void> {
		const w = this.current;
		w.sessions++;
		let customer: Customer | undefined;
		if (Math.random() < this.o.signedInShare) {
			customer = this.free.pop();
			if (customer) w.signedSessions++;
			else w.noCustomer++;
		}
		const s: Session = { customer, cart: new Map(), shown: [], shopModule: false };
		try {
			await this.land(s);
			const buyer = s.customer !== undefined && Math.random() < this.o.checkoutShare / this.o.signedInShare;
			const length = Math.round(rand(this.o.actionsPerSession[0], this.o.actionsPerSession[1]));
			const actions = first ? Math.floor(Math.random() * (length + 1)) : length;
			for (let i = 0; i < actions; i++) {
				await this.think();
				if (id >= this.target) return;
				await this.act(s);
			}
			if (buyer && s.customer) await this.checkout(s);
		} finally {
			if (customer) this.free.push(customer);
		}
	}

	/** A full page load at `/`: the page, its files, the stored session refreshed, then the listing (web/storefront/core.js `start`). */
	private land(s: Session): Promise<void> {
		return this.screen("landing", async () => {
			const c = this.catalog;
			await this.request("GET", "/", "GET / (page)", "page", { etag: c.pageEtag });
			await Promise.all(c.assets.map(([path, etag]) => this.request("GET", path, "GET /assets/*", "page", { etag })));
			const customer = s.customer;
			if (customer) {
				// the access token lived in the last tab's memory: the stored refresh token gets a new pair
				const refreshed = await this.api("POST", "/api/auth/refresh", "POST /api/auth/refresh", {
					body: JSON.stringify({ refreshToken: customer.refreshToken }),
					read: true
				});
				if (!refreshed) {
					s.customer = undefined; // signed out: browses on anonymously (the error is counted)
				} else {
					const pair = JSON.parse(refreshed.text!) as { accessToken: string; refreshToken: string };
					customer.token = pair.accessToken;
					customer.refreshToken = pair.refreshToken;
					await this.api("GET", "/api/auth/me", "GET /api/auth/me", { token: customer.token });
				}
			}
			s.shown = c.productIds.slice(0, PAGE_SIZE);
			await Promise.all([
				this.api("GET", this.listings[0], "GET /api/products (listing)"),
				this.api("GET", "/api/categories", "GET /api/categories"),
				s.customer ? this.loadCart(s, "GET /api/cart") : undefined
			]);
		});
	}

	/** The cart module, when the page load has not loaded it yet (a revalidation). */
	private async shopModule(s: Session): Promise<void> {
		if (s.shopModule) return;
		s.shopModule = true;
		const [path, etag] = this.catalog.shopModule;
		await this.request("GET", path, "GET /assets/*", "page", { etag });
	}

	private async loadCart(s: Session, route: string): Promise<void> {
		this.cartFrom(s, await this.api("GET", "/api/cart", route, { token: s.customer!.token, read: true }));
	}

	private cartFrom(s: Session, reply: Reply | undefined): void {
		if (!reply?.text) return;
		const cart = JSON.parse(reply.text) as { items: { productId: string; quantity: number }[] };
		s.cart.clear();
		for (const l of cart.items) s.cart.set(l.productId, l.quantity);
	}

	private async act(s: Session): Promise<void> {
		const wt = this.o.weights;
		const signed = s.customer !== undefined;
		const choices: [number, () => Promise<void>][] = [
			[wt.listing, () => this.listing(s)],
			[wt.category, () => this.category(s)],
			[wt.search, () => this.search(s)],
			[wt.product, () => this.product(s)],
			[signed ? wt.addToCart : 0, () => this.addToCart(s)],
			[signed ? wt.viewCart : 0, () => this.viewCart(s)],
			[signed && s.cart.size > 0 ? wt.changeCart : 0, () => this.changeCart(s)]
		];
		let r = Math.random() * choices.reduce((sum, [weight]) => sum + weight, 0);
		for (const [weight, run] of choices) {
			r -= weight;
			if (r < 0) return run();
		}
	}

	private listing(s: Session): Promise<void> {
		const page = Math.random() < 0.7 ? 0 : Math.floor(Math.random() * this.listings.length);
		const sort = Math.random() < 0.2 ? pick(SORTS) : "";
		s.shown = this.catalog.productIds;
		const url = sort ? listingUrl({ sort, page: page + 1 }) : this.listings[page];
		return this.screen("listing", () => this.api("GET", url, "GET /api/products (listing)"));
	}

	private category(s: Session): Promise<void> {
		const category = pick(this.catalog.categories);
		s.shown = this.catalog.byCategory.get(category)!;
		return this.screen("category", () => this.api("GET", listingUrl({ category, page: 1 }), "GET /api/products?category="));
	}

	private search(s: Session): Promise<void> {
		const { term, ids } = pick(this.catalog.searches);
		s.shown = ids;
		return this.screen("search", () => this.api("GET", listingUrl({ search: term, page: 1 }), "GET /api/products?search="));
	}

	/** A product's page: the product and its stock, both without the token (web/storefront/catalog.js). */
	private product(s: Session): Promise<void> {
		const id = pick(s.shown.length > 0 ? s.shown : this.catalog.productIds);
		s.product = id;
		return this.screen("product", () =>
			Promise.all([this.api("GET", `/api/products/${id}`, "GET /api/products/:id"), this.api("GET", `/api/inventory/${id}`, "GET /api/inventory/:id")])
		);
	}

	private async addToCart(s: Session): Promise<void> {
		if (!s.product) {
			await this.product(s);
			await this.think();
		}
		const productId = s.product!;
		// a shopper keeps a few lines, a few of each: a full cart gets a line removed instead
		if ((s.cart.size >= 4 && !s.cart.has(productId)) || (s.cart.get(productId) ?? 0) >= 5) return this.changeCart(s);
		await this.screen("add to cart", async () =>
			this.cartFrom(
				s,
				await this.api("POST", "/api/cart/items", "POST /api/cart/items", {
					token: s.customer!.token,
					body: JSON.stringify({ productId, quantity: 1 }),
					read: true
				})
			)
		);
	}

	private viewCart(s: Session): Promise<void> {
		return this.screen("cart", async () => {
			await this.shopModule(s);
			await this.loadCart(s, "GET /api/cart");
		});
	}

	private async changeCart(s: Session): Promise<void> {
		const [productId] = pick([...s.cart]);
		const remove = Math.random() < 0.5;
		await this.screen("change cart", async () =>
			this.cartFrom(
				s,
				remove
					? await this.api("DELETE", `/api/cart/items/${productId}`, "DELETE /api/cart/items/:id", { token: s.customer!.token, read: true })
					: await this.api("PATCH", `/api/cart/items/${productId}`, "PATCH /api/cart/items/:id", {
							token: s.customer!.token,
							body: JSON.stringify({ quantity: 1 + Math.floor(Math.random() * 3) }),
							read: true
						})
			)
		);
	}

	/** The checkout page, the order placed, then the order's page following it to CONFIRMED or CANCELLED (web/storefront/shop.js). */
	private async checkout(s: Session): Promise<void> {
		const token = () => s.customer!.token;
		if (s.cart.size === 0) {
			await this.product(s);
			await this.think();
			await this.addToCart(s);
			if (s.cart.size === 0) return; // the add failed (counted)
			await this.think();
		}
		await this.screen("checkout", async () => {
			await this.shopModule(s);
			await Promise.all([this.loadCart(s, "GET /api/cart"), this.api("GET", "/api/auth/me", "GET /api/auth/me", { token: token() })]);
		});
		if (s.cart.size === 0) return;
		await this.think(); // the address form
		let orderId: string | undefined;
		await this.screen("order placed", async () => {
			const placed = await this.api("POST", "/api/orders", "POST /api/orders", {
				token: token(),
				key: crypto.randomUUID(),
				body: `{"paymentToken":"tok_visa","shippingAddress":${ADDRESS}}`,
				read: true
			});
			if (!placed) return;
			this.current.ordersPlaced++;
			s.cart.clear();
			orderId = (JSON.parse(placed.text!) as { order: { id: string } }).order.id;
			await this.api("GET", `/api/orders/${orderId}`, "GET /api/orders/:id", { token: token() });
		});
		if (!orderId) return;
		for (let polls = 0; polls < this.o.orderPollMax; polls++) {
			await sleep(this.o.orderPollMs);
			const reply = await this.api("GET", `/api/orders/${orderId}`, "GET /api/orders/:id", { token: token(), read: true });
			if (!reply) continue;
			const order = (JSON.parse(reply.text!) as { order: { status: string; cancelReason: string | null } }).order;
			if (order.status === "CONFIRMED") {
				this.current.confirmed++;
				return;
			}
			if (order.status === "CANCELLED") {
				this.current.cancelled++;
				this.current.error(`order cancelled: ${order.cancelReason}`);
				return;
			}
		}
		this.current.error("order not settled while its page followed it");
	}
}

/** CPU seconds (user + system) of each process, from /proc/<pid>/stat (a process that is gone is left out). */
export function cpuSeconds(pids: readonly number[]): Map<number, number> {
	const out = new Map<number, number>();
	for (const pid of pids) {
		try {
			const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
			const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
			out.set(pid, (Number(f[11]) + Number(f[12])) / 100);
		} catch {
			// gone
		}
	}
	return out;
}

/** CPU seconds the processes of `after` used since `before` (one that started in between counts whole). */
export function cpuUsedSince(before: Map<number, number>, after: Map<number, number>): number {
	let used = 0;
	for (const [pid, s] of after) used += s - (before.get(pid) ?? 0);
	return used;
}

/** Every live descendant of `pid` (children, their children, ...), from /proc. */
export function descendants(pid: number): number[] {
	const parent = new Map<number, number>();
	for (const name of fs.readdirSync("/proc")) {
		if (!/^\d+$/.test(name)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
			parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
		} catch {
			// gone
		}
	}
	const out: number[] = [];
	const walk = (p: number) => {
		for (const [child, ppid] of parent)
			if (ppid === p) {
				out.push(child);
				walk(child);
			}
	};
	walk(pid);
	return out;
}

/** The machine's busy CPU seconds (all cores) from /proc/stat, and its core count. */
export function machineCpu(): { busy: number; cores: number } {
	const lines = fs.readFileSync("/proc/stat", "utf8").split("\n");
	const f = lines[0].trim().split(/\s+/).slice(1).map(Number);
	const idle = f[3] + f[4];
	const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
	return { busy: (total - idle) / 100, cores: lines.filter(l => /^cpu\d/.test(l)).length };
}
