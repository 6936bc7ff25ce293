import v8 from "node:v8";
import vm from "node:vm";
import { expect } from "chai";
import type { BoundedCacher } from "../../lib/bounded-cacher";
import type { ResponseCache } from "../../lib/response-cache";
import type { ProductDto } from "../../services/catalog/catalog.types";
import { adminToken } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

const MAX_ENTRIES = 200;
const MAX_BYTES = 1024 * 1024;
const LISTINGS = 10_000;
const CONCURRENCY = 16;
/** Listings with `minPrice` up to this price answer every product (about 12 kB); above it, none (60 bytes). */
const PRICE = 5_000;
const PRODUCTS = 10;

const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));

/**
 * Memory after a full garbage collection. RSS is the figure an operator sees, but V8 and the allocator keep
 * pages they used at the peak; the heap and buffers in use (`heapUsed + external`) is what the caches keep.
 */
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;
const memory = () => {
	collectGarbage();
	const { rss, heapUsed, external } = process.memoryUsage();
	return { rss, kept: heapUsed + external };
};

describe("bounded caches (distinct query strings are not unlimited memory)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(
			testConfig(db, {
				SERVICES: "gateway,identity,catalog",
				CACHE_MAX_ENTRIES: String(MAX_ENTRIES),
				CACHE_MAX_MB: String(MAX_BYTES / (1024 * 1024)),
				RATE_LIMIT_API: "off"
			})
		);
		request = httpClient(shop.baseUrl);
		const admin = await adminToken(request);
		for (let n = 1; n <= PRODUCTS; n++) {
			const res = await request("POST", "/api/products", {
				token: admin,
				body: { sku: `BOUND-${n}`, name: `Bounded ${n}`, description: "d".repeat(1000), priceCents: PRICE, category: "Bounds" }
			});
			expect(res.status, JSON.stringify(res.body)).to.equal(201);
		}
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("holds at most CACHE_MAX_ENTRIES and CACHE_MAX_MB after 10,000 distinct listings, and still answers correctly", async function () {
		this.timeout(90_000);
		const cacher = (shop.broker.cacher as BoundedCacher).cache;
		const responses = (shop.broker.getLocalService("gateway") as unknown as { responses: ResponseCache }).responses;
		const most = { cacherEntries: 0, cacherBytes: 0, responseEntries: 0, responseBytes: 0 };
		const look = () => {
			most.cacherEntries = Math.max(most.cacherEntries, cacher.size);
			most.cacherBytes = Math.max(most.cacherBytes, cacher.calculatedSize);
			most.responseEntries = Math.max(most.responseEntries, responses.size);
			most.responseBytes = Math.max(most.responseBytes, responses.bytes);
		};

		const before = memory();
		// minPrice 0..PRICE answer every product (the bytes bind first), the rest answer none (the entries bind)
		let next = 0;
		let bytesAtTurn = { cacher: 0, responses: 0 };
		const failures: string[] = [];
		const worker = async () => {
			while (next < LISTINGS) {
				const minPrice = next++;
				const res = await request("GET", `/api/products?minPrice=${minPrice}`);
				if (res.status !== 200 && failures.length < 5) failures.push(`minPrice=${minPrice}: ${res.status} ${JSON.stringify(res.body)}`);
				look();
				if (minPrice === PRICE) bytesAtTurn = { cacher: cacher.calculatedSize, responses: responses.bytes };
			}
		};
		await Promise.all(Array.from({ length: CONCURRENCY }, worker));
		const after = memory();
		console.log(
			`      rss ${mb(before.rss)} MB -> ${mb(after.rss)} MB (heap and buffers in use after a full GC: ` +
				`${mb(before.kept)} MB -> ${mb(after.kept)} MB) after ${LISTINGS.toLocaleString("en")} distinct listings`
		);

		expect(failures).to.deep.equal([]);
		expect(most.cacherEntries).to.be.at.most(MAX_ENTRIES);
		expect(most.cacherBytes).to.be.at.most(MAX_BYTES);
		expect(most.responseEntries).to.be.at.most(MAX_ENTRIES);
		expect(most.responseBytes).to.be.at.most(MAX_BYTES);
		// both bounds were reached: the large answers filled the bytes, the small ones the entries
		expect(bytesAtTurn.cacher).to.be.above(MAX_BYTES * 0.8);
		expect(bytesAtTurn.responses).to.be.above(MAX_BYTES * 0.8);
		expect(cacher.size).to.equal(MAX_ENTRIES);
		expect(responses.size).to.equal(MAX_ENTRIES);

		const res = await request<{ items: ProductDto[]; total: number }>("GET", "/api/products?minPrice=1&category=Bounds");
		expect(res.status).to.equal(200);
		expect(res.body.total).to.equal(PRODUCTS);
		expect(res.body.items.map(p => p.name).sort()).to.deep.equal(Array.from({ length: PRODUCTS }, (_, i) => `Bounded ${i + 1}`).sort());
		// a recent listing is answered from the caches, the same as before
		const again = await request<{ items: ProductDto[] }>("GET", `/api/products?minPrice=${LISTINGS - 1}`);
		expect([again.status, again.body.items.length]).to.deep.equal([200, 0]);
	});
});
