import { expect } from "chai";
import type { Context, ServiceSchema } from "moleculer";
import type { CreateProductParams, ProductArchivedEvent, ProductChangedEvent, ProductDto } from "../../services/catalog/catalog.types";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { startShop, testConfig, type RunningShop } from "../support/shop";

describe("catalog service (broker calls, real PostgreSQL)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let seq = 0;
	const events: { name: string; payload: unknown }[] = [];

	/** Records every catalog fact, as a neighbouring service would see it. */
	const listener: Partial<ServiceSchema> = {
		name: "catalog-listener",
		events: {
			"catalog.productCreated"(ctx: Context<ProductChangedEvent>) {
				events.push({ name: ctx.eventName!, payload: ctx.params });
			},
			"catalog.productUpdated"(ctx: Context<ProductChangedEvent>) {
				events.push({ name: ctx.eventName!, payload: ctx.params });
			},
			"catalog.productArchived"(ctx: Context<ProductArchivedEvent>) {
				events.push({ name: ctx.eventName!, payload: ctx.params });
			}
		}
	};

	const call = <T>(action: string, params?: object) => shop.broker.call<T, object>(action, params ?? {});
	const create = (fields: Partial<CreateProductParams> = {}) =>
		call<ProductDto>("catalog.create", { sku: `INT-${++seq}`, name: `Product ${seq}`, priceCents: 1000, category: "Integration", ...fields });
	const rejection = async (p: Promise<unknown>) => {
		try {
			await p;
		} catch (err) {
			return err as { code: number; type: string; data: unknown };
		}
		throw new Error("expected a rejection");
	};
	/** Changes a row behind the service's back: only a cached answer can still show the old value. */
	const sneakyRename = (id: string, name: string) => db.query("UPDATE catalog.products SET name = $2 WHERE id = $1", [id, name]);

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "catalog" }), [listener]);
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});
	beforeEach(() => {
		events.length = 0;
	});

	it("creates a product in the store currency and announces it", async () => {
		const p = await create({ sku: "  Int-Trim.1_a ", name: " Trimmed ", category: " Cat " });
		expect(p).to.include({ sku: "Int-Trim.1_a", name: "Trimmed", category: "Cat", description: "", currency: "BRL", imageUrl: null, active: true });
		expect(await call("catalog.get", { id: p.id })).to.deep.equal(p);
		await eventually(() => expect(events.length).to.equal(1));
		expect(events[0]).to.deep.equal({ name: "catalog.productCreated", payload: { product: p } });
	});

	it("answers getMany in the order asked, archived products included with active=false, unknown ids left out", async () => {
		const [a, b, c] = [await create(), await create(), await create()];
		await call("catalog.archive", { id: b.id });
		const unknown = "6f1c1e2a-0d55-4d35-9a4a-2b8f6f3e1f6f";
		const found = await call<ProductDto[]>("catalog.getMany", { ids: [c.id, unknown, b.id, a.id, c.id] });
		expect(found.map(p => p.id)).to.deep.equal([c.id, b.id, a.id]);
		expect(found.map(p => p.active)).to.deep.equal([true, false, true]);
		expect(await call("catalog.getMany", { ids: [unknown] })).to.deep.equal([]);
		// but catalog.get no longer knows it
		expect(await rejection(call("catalog.get", { id: b.id }))).to.include({ code: 404, type: "NOT_FOUND" });
	});

	it("refuses getMany without ids, with too many or with malformed ones", async () => {
		const ids = (n: number) => Array.from({ length: n }, (_, i) => `6f1c1e2a-0d55-4d35-9a4a-${String(i).padStart(12, "0")}`);
		expect(await call<ProductDto[]>("catalog.getMany", { ids: ids(500) })).to.deep.equal([]);
		for (const bad of [[], ids(501), ["not-a-uuid"]]) {
			expect(await rejection(call("catalog.getMany", { ids: bad }))).to.include({ code: 422 });
		}
	});

	it("serves get from the cache, and answers the new name right after catalog.update", async () => {
		const p = await create({ name: "Original" });
		expect((await call<ProductDto>("catalog.get", { id: p.id })).name).to.equal("Original");
		await sneakyRename(p.id, "Changed behind the cache");
		expect((await call<ProductDto>("catalog.get", { id: p.id })).name, "served from the cache").to.equal("Original");

		const updated = await call<ProductDto>("catalog.update", { id: p.id, name: "Renamed" });
		expect(updated.name).to.equal("Renamed");
		expect((await call<ProductDto>("catalog.get", { id: p.id })).name).to.equal("Renamed");
		await eventually(() => expect(events.some(e => e.name === "catalog.productUpdated")).to.equal(true));
		expect(events.find(e => e.name === "catalog.productUpdated")?.payload).to.deep.equal({ product: updated });
	});

	it("drops cached listings, batches and categories when a product changes", async () => {
		const p = await create({ name: "Listed", category: "CacheCat" });
		const list = () => call<{ items: ProductDto[] }>("catalog.list", { category: "cachecat" });
		const many = () => call<ProductDto[]>("catalog.getMany", { ids: [p.id] });
		const categories = () => call<{ items: { category: string; productCount: number }[] }>("catalog.categories");
		expect((await list()).items.map(i => i.name)).to.deep.equal(["Listed"]);
		expect((await many())[0].priceCents).to.equal(1000);
		expect((await categories()).items).to.deep.include({ category: "CacheCat", productCount: 1 });

		await call("catalog.update", { id: p.id, priceCents: 1500, name: "Relisted" });
		expect((await list()).items.map(i => i.name)).to.deep.equal(["Relisted"]);
		expect((await many())[0].priceCents).to.equal(1500);

		await call("catalog.archive", { id: p.id });
		expect((await list()).items).to.deep.equal([]);
		expect((await many())[0].active).to.equal(false);
		expect((await categories()).items.map(c => c.category)).not.to.include("CacheCat");
		await eventually(() => expect(events.some(e => e.name === "catalog.productArchived")).to.equal(true));
		expect(events.find(e => e.name === "catalog.productArchived")?.payload).to.deep.equal({ productId: p.id, sku: p.sku });
	});

	it("clears its cache when another instance broadcasts catalog.cacheInvalidated", async () => {
		const p = await create({ name: "Before" });
		await call("catalog.get", { id: p.id });
		await sneakyRename(p.id, "After");
		expect((await call<ProductDto>("catalog.get", { id: p.id })).name).to.equal("Before");
		await shop.broker.broadcast("catalog.cacheInvalidated", {});
		await eventually(async () => expect((await call<ProductDto>("catalog.get", { id: p.id })).name).to.equal("After"));
	});

	it("refuses a duplicate SKU whatever its case, on create and on update", async () => {
		const p = await create({ sku: "DUP-SKU" });
		expect(await rejection(create({ sku: "dup-sku" }))).to.include({ code: 409, type: "SKU_TAKEN" });
		const other = await create();
		expect(await rejection(call("catalog.update", { id: other.id, sku: "Dup-Sku" }))).to.include({ code: 409, type: "SKU_TAKEN" });
		// a product may change the case of its own SKU
		expect((await call<ProductDto>("catalog.update", { id: p.id, sku: "dup-SKU" })).sku).to.equal("dup-SKU");
		// archived products keep their SKU
		await call("catalog.archive", { id: other.id });
		expect(await rejection(create({ sku: other.sku }))).to.include({ code: 409, type: "SKU_TAKEN" });
	});

	it("counts every product, archived ones included", async () => {
		const before = await call<number>("catalog.count");
		const p = await create();
		await call("catalog.archive", { id: p.id });
		expect(await call<number>("catalog.count")).to.equal(before + 1);
	});
});
