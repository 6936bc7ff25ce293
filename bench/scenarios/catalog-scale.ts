import { LISTING_SHAPES, loadCatalog, shapeQuery, type ListingShape } from "../lib/catalog-data";
import type { Row } from "../lib/report";
import { adminToken, startSingle, waitForCatalog, type ShopOptions } from "../lib/shop";
import { summarize, type LatencySummary } from "../lib/stats";
import { MAX_LISTING_DEPTH } from "../../services/catalog/catalog.query";

/**
 * Scenario 9: the catalog at 1,000, 10,000 and 100,000 products. A fresh single-process shop; its catalog grows
 * by bulk load (bench/lib/catalog-data.ts) from 1,000 generated products to 10,000 and 100,000, and at each size
 * every listing shape (searches, filters, each sort, deep pages, combinations) is read anonymously through the
 * HTTP API one request at a time:
 * - cold: each request follows an admin change to a product (a PATCH), which empties the catalog's cache and the
 *   gateway's kept responses, so the listing is computed by PostgreSQL again (its own buffers stay warm);
 * - warm: the same URL again and again (answered from the gateway's kept responses).
 * Target: for every shape, cold and warm p99 at the largest size within 2x of those at 1,000. Also the single
 * process's RSS before loading and after each size (target: at the largest size at most 1.5x of at 1,000).
 */

const SIZES_FULL = [1_000, 10_000, 100_000];
const SIZES_QUICK = [1_000, 10_000];

interface ShapeAtSize {
	size: number;
	cold: LatencySummary;
	warm: LatencySummary;
	total: number;
}

export async function catalogScale(shopOptions: ShopOptions, quick: boolean, raw: Record<string, unknown>): Promise<Row[]> {
	const { log } = shopOptions;
	const sizes = quick ? SIZES_QUICK : SIZES_FULL;
	const coldSamples = quick ? 25 : 100;
	const warmSamples = quick ? 50 : 200;
	const shapes: ListingShape[] = [
		...LISTING_SHAPES,
		{ name: "the deepest page allowed (100 a page)", params: { page: MAX_LISTING_DEPTH / 100, pageSize: 100 } }
	];

	const shop = await startSingle(shopOptions);
	try {
		const admin = await adminToken(shop.http);
		await waitForCatalog(shop.http);
		const first = (await shop.http.expect(200, "GET", "/api/products?pageSize=1&sort=name")).body.items[0] as { id: string; description: string };
		/** An admin change: every cached read of the catalog (and every kept response) goes. */
		const invalidate = () => shop.http.expect(200, "PATCH", `/api/products/${first.id}`, { token: admin, body: { description: first.description } });
		const read = async (url: string) => {
			const res = await shop.http.request("GET", url);
			if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
			return res;
		};

		const rss: { at: string; bytes: number }[] = [{ at: "before loading", bytes: shop.rss() }];
		const results = new Map<string, ShapeAtSize[]>(shapes.map(s => [s.name, []]));
		for (const size of sizes) {
			const started = Date.now();
			const inserted = await loadCatalog(shop.databaseUrl, size);
			log(`  catalog at ${size.toLocaleString("en")} generated products: ${inserted} loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
			for (const shape of shapes) {
				const url = `/api/products?${shapeQuery(shape)}`;
				const cold: number[] = [];
				let total = 0;
				for (let i = 0; i < coldSamples; i++) {
					await invalidate();
					const res = await read(url);
					cold.push(res.ms);
					total = res.body.total;
				}
				const warm: number[] = [];
				await read(url);
				for (let i = 0; i < warmSamples; i++) warm.push((await read(url)).ms);
				const r = { size, cold: summarize(cold), warm: summarize(warm), total };
				results.get(shape.name)!.push(r);
				log(
					`  ${size} ${shape.name}: cold p50 ${r.cold.p50.toFixed(2)} / p99 ${r.cold.p99.toFixed(2)} ms, warm p99 ${r.warm.p99.toFixed(2)} ms (total ${total})`
				);
			}
			rss.push({ at: `at ${size}`, bytes: shop.rss() });
			log(`  RSS at ${size}: ${(shop.rss() / 2 ** 20).toFixed(1)} MiB`);
		}
		raw.catalog_scale = { sizes, coldSamples, warmSamples, shapes: Object.fromEntries(results), rss };

		const largest = sizes[sizes.length - 1];
		const label = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
		const rows: Row[] = shapes.map(shape => {
			const at = results.get(shape.name)!;
			const small = at[0];
			const big = at[at.length - 1];
			const coldRatio = big.cold.p99 / small.cold.p99;
			const warmRatio = big.warm.p99 / small.warm.p99;
			return {
				scenario: `10. Catalog at scale: \`GET /api/products?${shapeQuery(shape)}\` (${shape.name}), cold`,
				throughput: `cold p99 ${at.map(r => `${label(r.size)} ${r.cold.p99.toFixed(1)}`).join(" / ")} ms`,
				p50: big.cold.p50,
				p99: big.cold.p99,
				baseline: `at ${small.size.toLocaleString("en")}: cold p50 ${small.cold.p50.toFixed(2)} / p99 ${small.cold.p99.toFixed(2)} ms, warm p99 ${small.warm.p99.toFixed(2)} ms`,
				ratio: `${coldRatio.toFixed(2)}x cold p99, ${warmRatio.toFixed(2)}x warm p99 (warm p99 ${big.warm.p99.toFixed(2)} ms at ${label(largest)})`,
				target: `p99 at ${largest.toLocaleString("en")} <= 2x at ${small.size.toLocaleString("en")}, cold and warm`,
				holds: coldRatio <= 2 && warmRatio <= 2
			};
		});
		// against the first size: by then the caches hold their share of answers, as in any running shop
		const base = rss[1].bytes;
		const after = rss[rss.length - 1].bytes;
		rows.push({
			scenario: `10. Catalog at scale: single process RSS at ${sizes.map(s => s.toLocaleString("en")).join(" / ")} products, each after reading every shape`,
			throughput: "-",
			p50: NaN,
			p99: NaN,
			baseline: `started, before loading: ${(rss[0].bytes / 2 ** 20).toFixed(1)} MiB`,
			ratio: `${rss
				.slice(1)
				.map(r => `${r.at}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB`)
				.join(", ")} = ${(after / base).toFixed(2)}x of at ${sizes[0].toLocaleString("en")}`,
			target: `<= 1.5x of at ${sizes[0].toLocaleString("en")}`,
			holds: after / base <= 1.5
		});
		return rows;
	} finally {
		await shop.stop();
	}
}
