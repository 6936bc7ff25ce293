import { expect } from "chai";
import type { ProductDto } from "../../services/catalog/catalog.types";
import { adminToken, newCustomer } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { until } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

type Product = ProductDto;

describe("REST catalog through the gateway", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let customer: string;
	let seq = 0;
	const UNKNOWN = "6f1c1e2a-0d55-4d35-9a4a-2b8f6f3e1f6f";

	/** A category no other test uses, so each test sees only its own products in listings. */
	const category = (label = "Cat") => `${label} ${++seq}`;
	async function product(fields: Record<string, unknown> = {}): Promise<Product> {
		const res = await request("POST", "/api/products", {
			token: admin,
			body: { sku: `SKU-${++seq}`, name: `Product ${seq}`, priceCents: 1000, category: "Misc", ...fields }
		});
		expect(res.status, JSON.stringify(res.body)).to.equal(201);
		return res.body;
	}
	const list = (query: string) => request("GET", `/api/products?${query}`);
	const names = (res: { body: { items: Product[] } }) => res.body.items.map(p => p.name);
	const fieldsOf = (res: { body: { data: { field: string }[] } }) => res.body.data.map(p => p.field).sort();

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,identity,catalog" }));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		customer = (await newCustomer(request)).token;
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	describe("POST /api/products", () => {
		const body = () => ({ sku: `NEW-${++seq}`, name: "Kettle", priceCents: 15990, category: "Home" });

		it("lets an admin create a product (201), trimmed, in the store currency, with defaults", async () => {
			const res = await request("POST", "/api/products", {
				token: admin,
				body: { sku: " Kettle-1.7L_v2 ", name: "  Electric Kettle ", priceCents: 15990, category: " Home & Kitchen " }
			});
			expect(res.status).to.equal(201);
			expect(res.body).to.include({
				sku: "Kettle-1.7L_v2",
				name: "Electric Kettle",
				description: "",
				priceCents: 15990,
				currency: "BRL",
				category: "Home & Kitchen",
				imageUrl: null,
				active: true
			});
			expect(res.body.id).to.match(/^[0-9a-f-]{36}$/);
			expect(Date.parse(res.body.createdAt)).to.be.closeTo(Date.now(), 60_000);
			expect(res.body.updatedAt).to.equal(res.body.createdAt);
		});

		it("ignores fields the client may not set (id, active, currency, timestamps)", async () => {
			const res = await request("POST", "/api/products", {
				token: admin,
				body: { ...body(), id: UNKNOWN, active: false, currency: "USD", createdAt: "2000-01-01T00:00:00Z", imageUrl: "https://cdn.example.com/k.png" }
			});
			expect(res.status).to.equal(201);
			expect(res.body.id).not.to.equal(UNKNOWN);
			expect(res.body).to.include({ active: true, currency: "BRL", imageUrl: "https://cdn.example.com/k.png" });
			expect(res.body.createdAt).not.to.contain("2000");
		});

		it("answers 401 without a token and 403 for a customer", async () => {
			expect((await request("POST", "/api/products", { body: body() })).status).to.equal(401);
			const res = await request("POST", "/api/products", { token: customer, body: body() });
			expect(res.status).to.equal(403);
			expect(res.body.type).to.equal("FORBIDDEN");
		});

		it("answers 409 SKU_TAKEN for a SKU already used, whatever its case", async () => {
			const first = body();
			expect((await request("POST", "/api/products", { token: admin, body: first })).status).to.equal(201);
			const res = await request("POST", "/api/products", { token: admin, body: { ...body(), sku: first.sku.toLowerCase() } });
			expect(res.status).to.equal(409);
			expect(res.body).to.include({ type: "SKU_TAKEN", code: 409 });
		});

		it("answers 422 naming every field at fault", async () => {
			const res = await request("POST", "/api/products", {
				token: admin,
				body: {
					sku: "has space",
					name: "",
					priceCents: -1,
					category: "x".repeat(101),
					description: "d".repeat(5001),
					imageUrl: "ftp://example.com/x.png"
				}
			});
			expect(res.status).to.equal(422);
			expect(res.body.type).to.equal("VALIDATION_ERROR");
			expect(fieldsOf(res)).to.deep.equal(["category", "description", "imageUrl", "name", "priceCents", "sku"]);
			expect(fieldsOf(await request("POST", "/api/products", { token: admin, body: {} }))).to.deep.equal(["category", "name", "priceCents", "sku"]);
		});

		it("answers 422 for wrong types and out-of-range values: JSON stays strictly typed", async () => {
			for (const [field, value] of [
				["priceCents", "1000"],
				["priceCents", 10.5],
				["sku", "x".repeat(65)],
				["sku", "   "],
				["sku", "ÁÉ"],
				["name", "n".repeat(201)],
				["name", "nul\u0000byte"],
				["imageUrl", "javascript:alert(1)"],
				["imageUrl", "https://example.com/a b.png"],
				["category", 7]
			] as const) {
				const res = await request("POST", "/api/products", { token: admin, body: { ...body(), [field]: value } });
				expect(res.status, `${field}=${JSON.stringify(value)}`).to.equal(422);
				expect([...new Set(fieldsOf(res))], `${field}=${JSON.stringify(value)}`).to.deep.equal([field]);
			}
		});

		it("accepts the edges: a free product, 64-char SKU, 200-char name, 5000-char description", async () => {
			const res = await request("POST", "/api/products", {
				token: admin,
				body: {
					sku: "E".repeat(60) + String(++seq).padStart(4, "0"),
					name: "n".repeat(200),
					description: "d".repeat(5000),
					priceCents: 0,
					category: "C"
				}
			});
			expect(res.status, JSON.stringify(res.body)).to.equal(201);
		});
	});

	describe("GET /api/products/:id", () => {
		it("answers an active product to anyone", async () => {
			const p = await product({ description: "A description", imageUrl: "http://img.example.com/p.jpg" });
			const res = await request("GET", `/api/products/${p.id}`);
			expect(res.status).to.equal(200);
			expect(res.body).to.deep.equal(p);
		});

		it("answers 404 NOT_FOUND for an unknown id and 422 for a malformed one", async () => {
			const unknown = await request("GET", `/api/products/${UNKNOWN}`);
			expect(unknown.status).to.equal(404);
			expect(unknown.body.type).to.equal("NOT_FOUND");
			const malformed = await request("GET", "/api/products/not-a-uuid");
			expect(malformed.status).to.equal(422);
			expect(fieldsOf(malformed)).to.deep.equal(["id"]);
		});
	});

	describe("PATCH /api/products/:id", () => {
		const patch = (id: string, body: unknown, token = admin) => request("PATCH", `/api/products/${id}`, { token, body });

		it("changes only the fields given, and every reader sees the change at once", async () => {
			const p = await product({ description: "Old", imageUrl: "https://example.com/old.png" });
			expect((await request("GET", `/api/products/${p.id}`)).body.name).to.equal(p.name); // now cached
			// the change is stamped by the database clock, in milliseconds: it must have moved past the creation's
			await until(
				"the database clock to pass the product's updatedAt",
				async () =>
					(await db.query<{ passed: boolean }>("SELECT now() >= $1::timestamptz + interval '1 millisecond' AS passed", [p.updatedAt]))[0].passed,
				passed => passed
			);
			const res = await patch(p.id, { name: " Renamed ", priceCents: 2500, imageUrl: null });
			expect(res.status).to.equal(200);
			expect(res.body).to.include({ id: p.id, sku: p.sku, name: "Renamed", priceCents: 2500, description: "Old", imageUrl: null, category: p.category });
			expect(Date.parse(res.body.updatedAt)).to.be.above(Date.parse(p.updatedAt));
			expect(res.body.createdAt).to.equal(p.createdAt);
			expect((await request("GET", `/api/products/${p.id}`)).body).to.deep.equal(res.body);
		});

		it("changes the SKU, refusing one another product has (409)", async () => {
			const p = await product();
			const other = await product();
			expect((await patch(p.id, { sku: other.sku.toLowerCase() })).body).to.include({ type: "SKU_TAKEN" });
			expect((await patch(p.id, { sku: other.sku })).status).to.equal(409);
			const renamed = await patch(p.id, { sku: `${p.sku}-B` });
			expect(renamed.status).to.equal(200);
			expect(renamed.body.sku).to.equal(`${p.sku}-B`);
		});

		it("answers 422 for an empty patch, a null required field, bad values and a malformed id", async () => {
			const p = await product();
			const empty = await patch(p.id, {});
			expect(empty.status).to.equal(422);
			expect(empty.body.type).to.equal("VALIDATION_ERROR");
			expect((await patch(p.id, { active: false, currency: "USD" })).status, "only unknown fields").to.equal(422);
			expect(fieldsOf(await patch(p.id, { name: null }))).to.deep.equal(["name"]);
			expect(fieldsOf(await patch(p.id, { priceCents: -5, sku: "bad sku" }))).to.deep.equal(["priceCents", "sku"]);
			expect((await patch("nope", { name: "x" })).status).to.equal(422);
			expect((await request("GET", `/api/products/${p.id}`)).body).to.deep.equal(p);
		});

		it("answers 404 for unknown and archived products, 401 without a token, 403 for a customer", async () => {
			const p = await product();
			expect((await patch(UNKNOWN, { name: "x" })).status).to.equal(404);
			expect((await patch(p.id, { name: "x" }, "")).status).to.equal(401);
			expect((await patch(p.id, { name: "x" }, customer)).status).to.equal(403);
			expect((await request("DELETE", `/api/products/${p.id}`, { token: admin })).status).to.equal(204);
			const res = await patch(p.id, { name: "x" });
			expect(res.status).to.equal(404);
			expect(res.body.type).to.equal("NOT_FOUND");
		});
	});

	describe("DELETE /api/products/:id", () => {
		it("archives: gone from the product, the listing, search and categories; a second archive is 404", async () => {
			const cat = category("Archive");
			const p = await product({ category: cat, name: "Zanzibar lamp" });
			await product({ category: cat });
			// warm every cache first
			expect((await list(`category=${encodeURIComponent(cat)}`)).body.total).to.equal(2);
			expect((await list("search=zanzibar")).body.total).to.equal(1);
			expect((await request("GET", `/api/products/${p.id}`)).status).to.equal(200);

			const res = await request("DELETE", `/api/products/${p.id}`, { token: admin });
			expect(res.status).to.equal(204);
			expect(res.body).to.equal(undefined);

			expect((await request("GET", `/api/products/${p.id}`)).status).to.equal(404);
			expect((await list(`category=${encodeURIComponent(cat)}`)).body.total).to.equal(1);
			expect((await list("search=zanzibar")).body).to.include({ total: 0 });
			const cats = (await request("GET", "/api/categories")).body.items;
			expect(cats).to.deep.include({ category: cat, productCount: 1 });

			const again = await request("DELETE", `/api/products/${p.id}`, { token: admin });
			expect(again.status).to.equal(404);
			expect(again.body.type).to.equal("NOT_FOUND");
		});

		it("answers 401 without a token, 403 for a customer, 404 for an unknown id, 422 for a malformed one", async () => {
			const p = await product();
			expect((await request("DELETE", `/api/products/${p.id}`)).status).to.equal(401);
			expect((await request("DELETE", `/api/products/${p.id}`, { token: customer })).status).to.equal(403);
			expect((await request("DELETE", `/api/products/${UNKNOWN}`, { token: admin })).status).to.equal(404);
			expect((await request("DELETE", "/api/products/123", { token: admin })).status).to.equal(422);
			expect((await request("GET", `/api/products/${p.id}`)).status).to.equal(200);
		});
	});

	describe("archived products for staff: GET /api/admin/products, POST /api/products/:id/restore", () => {
		it("lists archived products to staff by status, and a restored product is back for everyone at once", async () => {
			const cat = category("Restore");
			const kept = await product({ category: cat, name: "Kept kettle" });
			const gone = await product({ category: cat, name: "Gone kettle" });
			const q = `category=${encodeURIComponent(cat)}&sort=name`;
			// warm the public caches, then archive
			expect((await list(q)).body.total).to.equal(2);
			expect((await request("DELETE", `/api/products/${gone.id}`, { token: admin })).status).to.equal(204);
			expect(names(await list(q))).to.deep.equal(["Kept kettle"]);

			const staff = (status?: string) => request("GET", `/api/admin/products?${q}${status ? `&status=${status}` : ""}`, { token: admin });
			expect(names(await staff())).to.deep.equal(["Gone kettle", "Kept kettle"]);
			expect(names(await staff("all"))).to.deep.equal(["Gone kettle", "Kept kettle"]);
			expect(names(await staff("active"))).to.deep.equal(["Kept kettle"]);
			const archived = await staff("archived");
			expect(archived.body.items.map((p: Product) => [p.name, p.active])).to.deep.equal([["Gone kettle", false]]);
			// the public listing takes no status: archived products stay out of it
			expect(names(await list(`${q}&status=archived`))).to.deep.equal(["Kept kettle"]);

			const restored = await request("POST", `/api/products/${gone.id}/restore`, { token: admin });
			expect(restored.status).to.equal(200);
			expect(restored.body).to.include({ id: gone.id, active: true, name: "Gone kettle", sku: gone.sku });
			expect((await request("GET", `/api/products/${gone.id}`)).status).to.equal(200);
			expect(names(await list(q))).to.deep.equal(["Gone kettle", "Kept kettle"]);
			expect((await staff("archived")).body.total).to.equal(0);
			expect(kept.active).to.equal(true);

			// restoring what is not archived, or nothing at all, is 404
			const again = await request("POST", `/api/products/${gone.id}/restore`, { token: admin });
			expect(again.status).to.equal(404);
			expect(again.body.type).to.equal("NOT_FOUND");
			expect((await request("POST", `/api/products/${UNKNOWN}/restore`, { token: admin })).status).to.equal(404);
		});

		it("is for staff only: 401 without a token, 403 for a customer, 422 for a bad status or id", async () => {
			const p = await product();
			expect((await request("DELETE", `/api/products/${p.id}`, { token: admin })).status).to.equal(204);
			expect((await request("GET", "/api/admin/products")).status).to.equal(401);
			expect((await request("GET", "/api/admin/products", { token: customer })).status).to.equal(403);
			expect((await request("POST", `/api/products/${p.id}/restore`)).status).to.equal(401);
			expect((await request("POST", `/api/products/${p.id}/restore`, { token: customer })).status).to.equal(403);
			expect((await request("GET", "/api/products/" + p.id)).status, "still archived").to.equal(404);
			const bad = await request("GET", "/api/admin/products?status=deleted", { token: admin });
			expect(bad.status).to.equal(422);
			expect(fieldsOf(bad)).to.deep.equal(["status"]);
			expect((await request("POST", "/api/products/123/restore", { token: admin })).status).to.equal(422);
		});
	});

	describe("GET /api/products", () => {
		it("answers a page of active products to anyone, 20 by default", async () => {
			const cat = category();
			for (let i = 0; i < 22; i++) await product({ category: cat });
			const res = await list(`category=${encodeURIComponent(cat)}`);
			expect(res.status).to.equal(200);
			expect(res.body).to.include({ total: 22, page: 1, pageSize: 20 });
			expect(res.body.items).to.have.length(20);
			expect(res.body.items[0]).to.have.all.keys(
				"id",
				"sku",
				"name",
				"description",
				"priceCents",
				"currency",
				"category",
				"imageUrl",
				"active",
				"createdAt",
				"updatedAt"
			);
		});

		it("pages with the right total, and answers an empty page past the end", async () => {
			const cat = category();
			for (let i = 1; i <= 5; i++) await product({ category: cat, name: `Pager ${i}`, priceCents: i * 100 });
			const q = (page: number) => list(`category=${encodeURIComponent(cat)}&sort=price&pageSize=2&page=${page}`);
			expect(names(await q(1))).to.deep.equal(["Pager 1", "Pager 2"]);
			expect(names(await q(2))).to.deep.equal(["Pager 3", "Pager 4"]);
			const last = await q(3);
			expect(names(last)).to.deep.equal(["Pager 5"]);
			expect(last.body).to.include({ total: 5, page: 3, pageSize: 2 });
			const past = await q(9);
			expect(past.status).to.equal(200);
			expect(past.body).to.deep.equal({ items: [], total: 5, page: 9, pageSize: 2 });
		});

		it("filters by category case-insensitively and by an inclusive price range", async () => {
			const cat = category("Filter");
			await product({ category: cat, name: "Cheap", priceCents: 100 });
			await product({ category: cat, name: "Middle", priceCents: 500 });
			await product({ category: cat, name: "Dear", priceCents: 900 });
			const c = encodeURIComponent(cat.toUpperCase());
			expect(names(await list(`category=${c}&sort=price`))).to.deep.equal(["Cheap", "Middle", "Dear"]);
			expect(names(await list(`category=${c}&sort=price&minPrice=100&maxPrice=500`))).to.deep.equal(["Cheap", "Middle"]);
			expect(names(await list(`category=${c}&sort=price&minPrice=500`))).to.deep.equal(["Middle", "Dear"]);
			expect(names(await list(`category=${c}&sort=price&maxPrice=499`))).to.deep.equal(["Cheap"]);
			expect(names(await list(`category=${c}&minPrice=500&maxPrice=500`))).to.deep.equal(["Middle"]);
			expect(names(await list(`category=${c}&minPrice=99999999999`))).to.deep.equal([]);
			expect((await list(`category=${encodeURIComponent(cat + "x")}`)).body.total).to.equal(0);
		});

		it("sorts by price, name and creation date either way, ties broken by id", async () => {
			const cat = category("Sort");
			const c = (await product({ category: cat, name: "charlie", priceCents: 300 })).id;
			const a = (await product({ category: cat, name: "Alpha", priceCents: 200 })).id;
			const b = (await product({ category: cat, name: "bravo", priceCents: 200 })).id;
			const ids = async (sort: string) => (await list(`category=${encodeURIComponent(cat)}&sort=${sort}`)).body.items.map((p: Product) => p.id);
			const tie = [a, b].sort();
			expect(await ids("price")).to.deep.equal([...tie, c]);
			expect(await ids("-price")).to.deep.equal([c, ...tie]);
			expect(await ids("name")).to.deep.equal([a, b, c]);
			expect(await ids("-name")).to.deep.equal([c, b, a]);
			expect(await ids("createdAt")).to.deep.equal([c, a, b]);
			expect(await ids("-createdAt")).to.deep.equal([b, a, c]);
			// no sort: newest first
			expect((await list(`category=${encodeURIComponent(cat)}`)).body.items.map((p: Product) => p.id)).to.deep.equal([b, a, c]);
		});

		it("searches names and descriptions, a match in the name ranking above one in the description", async () => {
			const inName = await product({ name: "Quokka travel mug", description: "Keeps coffee hot." });
			const inDescription = await product({ name: "Steel thermos", description: "Our quokka approved thermos for long trips." });
			await product({ name: "Unrelated teapot", description: "Nothing to see." });
			const res = await list("search=quokka");
			expect(res.status).to.equal(200);
			expect(res.body.total).to.equal(2);
			expect(res.body.items.map((p: Product) => p.id)).to.deep.equal([inName.id, inDescription.id]);
			// an explicit sort wins over relevance
			expect((await list("search=quokka&sort=-createdAt")).body.items.map((p: Product) => p.id)).to.deep.equal([inDescription.id, inName.id]);
		});

		it("understands stemming and web search syntax, and answers nothing for a query without words", async () => {
			await product({ name: "Trail running shoes", description: "Grippy soles for muddy trails." });
			await product({ name: "Road running shoes", description: "Light and fast on asphalt." });
			expect(names(await list("search=runs+trail&sort=name"))).to.deep.equal(["Trail running shoes"]);
			expect(names(await list(`search=${encodeURIComponent('"running shoes" -muddy')}`))).to.deep.equal(["Road running shoes"]);
			expect(names(await list(`search=${encodeURIComponent("shoe OR asphalt")}&sort=name`))).to.deep.equal(["Road running shoes", "Trail running shoes"]);
			const noWords = await list(`search=${encodeURIComponent("the !!! &")}`);
			expect(noWords.status).to.equal(200);
			expect(noWords.body.total).to.equal(0);
		});

		it("answers 422 for every invalid query value, and drops unknown parameters", async () => {
			for (const query of [
				"page=0",
				"page=abc",
				"page=1.5",
				"page=1e300",
				"pageSize=0",
				"pageSize=101",
				"sort=popularity",
				"sort=price&sort=name",
				"minPrice=-1",
				"minPrice=1.5",
				"maxPrice=cheap",
				"minPrice=500&maxPrice=100",
				"search=",
				`search=${"s".repeat(201)}`,
				"search=%00",
				"category[a]=b",
				"category=a&category=b"
			]) {
				const res = await list(query);
				expect(res.status, query).to.equal(422);
				expect(res.body.type, query).to.equal("VALIDATION_ERROR");
			}
			const ok = await list("pageSize=100&page=1&utm_source=newsletter");
			expect(ok.status).to.equal(200);
			expect(ok.body.pageSize).to.equal(100);
		});

		it("goes 1,000 products deep at most: a deeper page is a 422 that says so, the deepest one answers", async () => {
			for (const query of ["page=1001&pageSize=1", "page=11&pageSize=100", "page=51"]) {
				const res = await list(query);
				expect(res.status, query).to.equal(422);
				expect(
					res.body.data.map((p: { type: string }) => p.type),
					query
				).to.include.oneOf(["pageTooDeep", "numberMax"]);
			}
			const deepest = await list("page=10&pageSize=100");
			expect(deepest.status).to.equal(200);
			expect(deepest.body).to.include({ page: 10, pageSize: 100 });
			expect((await list("page=50")).status).to.equal(200);
		});
	});

	describe("repeated reads (kept by the gateway)", () => {
		/** Changes a product behind every cache's back, as another catalog instance's write would look here. */
		const renameInDatabase = (id: string, name: string) => db.query("UPDATE catalog.products SET name = $2 WHERE id = $1", [id, name]);

		it("answer the same status, headers and body every time", async () => {
			const p = await product({ category: category("Kept") });
			const first = await request("GET", `/api/products/${p.id}`);
			const again = await request("GET", `/api/products/${p.id}`);
			expect(again.status).to.equal(200);
			expect(again.body).to.deep.equal(first.body).and.deep.equal(p);
			for (const h of ["content-type", "content-length"]) expect(again.headers.get(h), h).to.equal(first.headers.get(h));
			expect(again.headers.get("content-type")).to.equal("application/json; charset=utf-8");
			const listing = `category=${encodeURIComponent(p.category)}`;
			expect(names(await list(listing))).to.deep.equal([p.name]);
			expect(names(await list(listing))).to.deep.equal([p.name]);
		});

		it("show a change at once when the catalog announces it, also one made by another catalog instance", async () => {
			const p = await product({ name: "Before", category: category("Kept") });
			expect((await request("GET", `/api/products/${p.id}`)).body.name).to.equal("Before");
			await renameInDatabase(p.id, "After");
			expect((await request("GET", `/api/products/${p.id}`)).body.name, "kept until the catalog says it changed").to.equal("Before");
			// what another catalog instance broadcasts after a write (catalog.cacheInvalidated)
			await shop.broker.broadcast("catalog.cacheInvalidated", {});
			expect((await request("GET", `/api/products/${p.id}`)).body.name).to.equal("After");
			expect(names(await list(`category=${encodeURIComponent(p.category)}`))).to.deep.equal(["After"]);
		});

		it("answer a request with credentials only once its token is checked (test/e2e/signed-in-reads.http.spec.ts)", async () => {
			const p = await product({ category: category("Kept") });
			expect((await request("GET", `/api/products/${p.id}`)).status).to.equal(200);
			const forged = await request("GET", `/api/products/${p.id}`, { token: "not-a-token" });
			expect(forged.status).to.equal(401);
			const asCustomer = await request("GET", `/api/products/${p.id}`, { token: customer });
			expect(asCustomer.status).to.equal(200);
			expect(asCustomer.body).to.deep.equal(p);
		});

		it("do not keep errors: a product created after a 404 for its listing is found", async () => {
			const cat = category("Kept");
			expect((await list(`category=${encodeURIComponent(cat)}`)).body.items).to.deep.equal([]);
			expect((await request("GET", `/api/products/${UNKNOWN}`)).status).to.equal(404);
			const p = await product({ category: cat });
			expect(names(await list(`category=${encodeURIComponent(cat)}`))).to.deep.equal([p.name]);
		});
	});

	it("keeps the internal actions (getMany, count) off HTTP", async () => {
		expect((await request("GET", `/api/catalog/getMany?ids=${UNKNOWN}`)).status).to.equal(404);
		expect((await request("POST", "/api/catalog/getMany", { token: admin, body: { ids: [UNKNOWN] } })).status).to.equal(404);
		expect((await request("GET", "/api/catalog/count", { token: admin })).status).to.equal(404);
	});

	describe("GET /api/categories", () => {
		it("counts active products per category, sorted, one entry per category whatever the case", async () => {
			const tag = `Zz${++seq}`;
			await product({ category: `${tag} Toys` });
			await product({ category: `${tag} Books` });
			await product({ category: `${tag} books` });
			const archived = await product({ category: `${tag} Books` });
			await product({ category: `${tag} Gone` }).then(p => request("DELETE", `/api/products/${p.id}`, { token: admin }));
			await request("DELETE", `/api/products/${archived.id}`, { token: admin });

			const res = await request("GET", "/api/categories");
			expect(res.status).to.equal(200);
			const mine = res.body.items.filter((c: { category: string }) => c.category.startsWith(tag));
			expect(mine).to.deep.equal([
				{ category: `${tag} Books`, productCount: 2 },
				{ category: `${tag} Toys`, productCount: 1 }
			]);
			const all = res.body.items.map((c: { category: string }) => c.category.toLowerCase());
			expect(all).to.deep.equal([...all].sort());
		});
	});
});
