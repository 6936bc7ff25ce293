import { expect } from "chai";
import { catalogIsEmpty, DEMO_PRODUCTS, seedDemoData } from "../../services/catalog/catalog.demo-data";
import type { CategoryCount, Page, ProductDto } from "../../services/catalog/catalog.types";
import type { StockLevel } from "../../services/inventory/inventory.types";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** Collects what the seeder logs, instead of printing it. */
function recordingLog() {
	const lines: { level: "info" | "warn"; text: string }[] = [];
	return {
		lines,
		info: (...args: unknown[]) => void lines.push({ level: "info", text: args.map(String).join(" ") }),
		warn: (...args: unknown[]) => void lines.push({ level: "warn", text: args.map(String).join(" ") })
	};
}

describe("demo data", () => {
	it("is a realistic catalog: about 50 products over 6 categories, unique valid SKUs, prices and stock", () => {
		expect(DEMO_PRODUCTS.length).to.be.within(45, 60);
		expect(new Set(DEMO_PRODUCTS.map(p => p.category)).size).to.equal(6);
		expect(new Set(DEMO_PRODUCTS.map(p => p.sku.toLowerCase())).size).to.equal(DEMO_PRODUCTS.length);
		for (const p of DEMO_PRODUCTS) {
			expect(p.sku, p.sku).to.match(/^[A-Za-z0-9._-]{1,64}$/);
			expect(p.priceCents, p.sku).to.be.a("number").and.satisfy(Number.isInteger).and.above(0);
			expect(p.stock, p.sku).to.be.a("number").and.satisfy(Number.isInteger).and.above(0);
			expect(p.name.length, p.sku).to.be.within(1, 200);
			expect(p.description.length, p.sku).to.be.within(1, 5000);
		}
	});

	describe("seeding a shop with catalog and inventory", () => {
		let db: TestDatabase;
		let shop: RunningShop;

		before(async () => {
			db = await createTestDatabase();
			shop = await startShop(testConfig(db, { SERVICES: "catalog,inventory" }));
		});
		after(async () => {
			await shop?.stop();
			await db?.drop();
		});

		it("creates every demo product through the catalog and stocks it through inventory, once", async () => {
			expect(await catalogIsEmpty(shop.broker)).to.equal(true);
			const log = recordingLog();
			expect(await seedDemoData(shop.broker, log)).to.equal(DEMO_PRODUCTS.length);
			expect(log.lines.filter(l => l.level === "warn")).to.deep.equal([]);
			expect(await catalogIsEmpty(shop.broker)).to.equal(false);

			const listed = await shop.broker.call<Page<ProductDto>, object>("catalog.list", { pageSize: 100, sort: "name" });
			expect(listed.total).to.equal(DEMO_PRODUCTS.length);
			const bySku = new Map(listed.items.map(p => [p.sku, p]));
			const levels = await shop.broker.call<StockLevel[], object>("inventory.getMany", { productIds: listed.items.map(p => p.id) });
			const onHand = new Map(levels.map(l => [l.productId, l.onHand]));
			for (const demo of DEMO_PRODUCTS) {
				const p = bySku.get(demo.sku);
				expect(p, demo.sku).to.include({ name: demo.name, priceCents: demo.priceCents, category: demo.category, currency: "BRL" });
				expect(onHand.get(p!.id), demo.sku).to.equal(demo.stock);
			}
			const categories = await shop.broker.call<{ items: CategoryCount[] }>("catalog.categories");
			expect(categories.items).to.have.length(6);

			// a second run finds everything in place: nothing created, nothing stocked twice
			expect(await seedDemoData(shop.broker, recordingLog())).to.equal(0);
			const again = await shop.broker.call<StockLevel[], object>("inventory.getMany", { productIds: [listed.items[0].id] });
			expect(again[0].onHand).to.equal(onHand.get(listed.items[0].id));
		});

		it("creates only the products whose SKU is missing", async () => {
			const [first] = DEMO_PRODUCTS;
			const existing = await shop.broker.call<Page<ProductDto>, object>("catalog.list", { search: first.name, pageSize: 1 });
			await shop.broker.call("catalog.archive", { id: existing.items[0].id });
			// archived still counts as existing: its SKU is taken
			expect(await seedDemoData(shop.broker, recordingLog())).to.equal(0);
		});
	});

	describe("seeding without inventory", () => {
		let db: TestDatabase;
		let shop: RunningShop;

		before(async () => {
			db = await createTestDatabase();
			shop = await startShop(testConfig(db, { SERVICES: "catalog" }));
		});
		after(async () => {
			await shop?.stop();
			await db?.drop();
		});

		it("creates the products unstocked and warns once", async () => {
			const log = recordingLog();
			expect(await seedDemoData(shop.broker, log)).to.equal(DEMO_PRODUCTS.length);
			const warnings = log.lines.filter(l => l.level === "warn");
			expect(warnings).to.have.length(1);
			expect(warnings[0].text).to.match(/inventory/i);
		});
	});
});
