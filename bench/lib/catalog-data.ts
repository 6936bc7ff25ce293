import pg from "pg";
import type { ProductSort } from "../../services/catalog/catalog.types";
import { seededRandom } from "./random";

/**
 * A large, realistic catalog for scale tests: a deterministic generator (the same seed and index give the same
 * product, so a catalog grows from 1,000 to 100,000 by adding indices) and a bulk loader that writes straight
 * into the `catalog.products` table of a running shop's database (and `inventory.stock` when that schema exists),
 * in batches of `INSERT ... SELECT FROM unnest(...)`: 100,000 products in seconds, not 100,000 API calls.
 */

export interface GeneratedProduct {
	sku: string;
	name: string;
	description: string;
	priceCents: number;
	category: string;
	createdAt: Date;
	stock: number;
}

interface CategoryVocabulary {
	name: string;
	/** Relative size: categories are uneven, as in a real shop. */
	weight: number;
	/** Median price in cents; prices spread log-normally around it. */
	medianCents: number;
	nouns: string[];
	adjectives: string[];
	features: string[];
}

const CATEGORIES: CategoryVocabulary[] = [
	{
		name: "Electronics",
		weight: 14,
		medianCents: 34900,
		nouns: ["Headphones", "Earbuds", "Speaker", "Charger", "Power Bank", "Smartwatch", "Tablet", "Monitor", "Keyboard", "Mouse", "Webcam", "Router"],
		adjectives: ["Wireless", "Portable", "Compact", "Bluetooth", "Smart", "Ultra-Slim", "Noise-Cancelling", "Fast-Charging"],
		features: ["a 30-hour battery", "USB-C charging", "Bluetooth 5.3", "a brushed aluminium body", "low-latency audio", "a two-year warranty"]
	},
	{
		name: "Home & Kitchen",
		weight: 12,
		medianCents: 8990,
		nouns: ["Skillet", "Saucepan", "Knife Set", "Cutting Board", "Kettle", "Blender", "Coffee Grinder", "Mug", "Storage Jar", "Colander", "Toaster"],
		adjectives: ["Cast-Iron", "Stainless", "Non-Stick", "Ceramic", "Enamel", "Bamboo", "Glass", "Copper"],
		features: ["an ergonomic handle", "dishwasher-safe parts", "a lifetime guarantee", "an induction-ready base", "a tight-fitting lid"]
	},
	{
		name: "Books",
		weight: 11,
		medianCents: 5490,
		nouns: ["Novel", "Cookbook", "Field Guide", "Atlas", "Biography", "Anthology", "Workbook", "Handbook", "Memoir", "Poetry Collection"],
		adjectives: ["Illustrated", "Annotated", "Hardcover", "Paperback", "Collector's", "Pocket", "Revised", "Complete"],
		features: ["an index of recipes", "full-colour plates", "a new foreword", "maps of every region", "notes for reading groups"]
	},
	{
		name: "Clothing",
		weight: 10,
		medianCents: 12900,
		nouns: ["T-Shirt", "Hoodie", "Jacket", "Jeans", "Sweater", "Scarf", "Raincoat", "Polo Shirt", "Chinos", "Socks"],
		adjectives: ["Organic Cotton", "Merino", "Linen", "Waterproof", "Relaxed-Fit", "Slim-Fit", "Recycled", "Quilted"],
		features: ["reinforced seams", "a relaxed cut", "breathable fabric", "deep pockets", "a water-repellent finish"]
	},
	{
		name: "Sports & Outdoors",
		weight: 9,
		medianCents: 19900,
		nouns: ["Tent", "Backpack", "Sleeping Bag", "Yoga Mat", "Water Bottle", "Trekking Poles", "Headlamp", "Bike Helmet", "Dumbbell Set"],
		adjectives: ["Ultralight", "Insulated", "Folding", "Adjustable", "Trail", "All-Season", "Reflective", "Rugged"],
		features: ["a rain cover", "adjustable straps", "taped seams", "a carry bag", "reflective trim"]
	},
	{
		name: "Toys",
		weight: 7,
		medianCents: 7990,
		nouns: ["Puzzle", "Building Blocks", "Board Game", "Plush Bear", "Train Set", "Kite", "Doll House", "Science Kit", "Card Game"],
		adjectives: ["Wooden", "Magnetic", "Educational", "Classic", "Giant", "Glow-in-the-Dark", "Cooperative", "Musical"],
		features: ["non-toxic paint", "pieces for ages 6 and up", "a storage box", "rules for two to six players"]
	},
	{
		name: "Beauty",
		weight: 6,
		medianCents: 6990,
		nouns: ["Moisturiser", "Serum", "Shampoo", "Conditioner", "Lip Balm", "Sunscreen", "Face Mask", "Body Lotion", "Hand Cream"],
		adjectives: ["Hydrating", "Unscented", "Vegan", "Mineral", "Overnight", "Gentle", "Revitalising", "Travel-Size"],
		features: ["hyaluronic acid", "SPF 50", "shea butter", "no parabens", "a pump dispenser"]
	},
	{
		name: "Garden",
		weight: 5,
		medianCents: 9990,
		nouns: ["Hose", "Pruning Shears", "Planter", "Watering Can", "Trowel", "Seed Tray", "Compost Bin", "Garden Gloves", "Bird Feeder"],
		adjectives: ["Expandable", "Terracotta", "Galvanised", "Self-Watering", "Heavy-Duty", "Raised", "Hanging"],
		features: ["drainage holes", "UV-resistant plastic", "a brass nozzle", "a locking blade", "frost-proof glaze"]
	},
	{
		name: "Office",
		weight: 5,
		medianCents: 4990,
		nouns: ["Notebook", "Desk Lamp", "Fountain Pen", "Stapler", "Desk Organiser", "Planner", "Whiteboard", "Paper Tray", "Office Chair"],
		adjectives: ["Dotted", "Refillable", "Ergonomic", "Minimalist", "Leather-Bound", "Adjustable", "Recycled"],
		features: ["acid-free paper", "a dimmable LED", "a refill cartridge", "lumbar support", "a lay-flat binding"]
	},
	{
		name: "Pet Supplies",
		weight: 4,
		medianCents: 5990,
		nouns: ["Dog Bed", "Cat Tree", "Leash", "Food Bowl", "Chew Toy", "Litter Box", "Pet Carrier", "Grooming Brush", "Collar"],
		adjectives: ["Orthopedic", "Washable", "Reflective", "Slow-Feed", "Durable", "Padded", "Covered"],
		features: ["a removable cover", "a non-slip base", "a quick-release buckle", "chew-resistant fabric"]
	},
	{
		name: "Automotive",
		weight: 3,
		medianCents: 15900,
		nouns: ["Car Vacuum", "Jump Starter", "Seat Cover", "Dash Cam", "Tyre Inflator", "Phone Mount", "Floor Mats", "Roof Box"],
		adjectives: ["Cordless", "Universal", "All-Weather", "Magnetic", "Digital", "Heavy-Duty"],
		features: ["a 12 V plug", "a loop recording mode", "a digital pressure gauge", "a universal fit"]
	},
	{
		name: "Music",
		weight: 2,
		medianCents: 39900,
		nouns: ["Acoustic Guitar", "Ukulele", "Keyboard Stand", "Drum Pad", "Microphone", "Guitar Strings", "Metronome", "Harmonica"],
		adjectives: ["Beginner", "Studio", "Solid-Top", "Electric", "Travel", "Professional"],
		features: ["a gig bag", "a built-in tuner", "nickel-wound strings", "a cardioid pattern"]
	},
	{
		name: "Grocery",
		weight: 2,
		medianCents: 2490,
		nouns: ["Olive Oil", "Coffee Beans", "Green Tea", "Honey", "Dark Chocolate", "Granola", "Pasta", "Spice Blend"],
		adjectives: ["Organic", "Single-Origin", "Extra Virgin", "Raw", "Stone-Ground", "Fair-Trade"],
		features: ["a resealable bag", "beans roasted weekly", "cold-pressed olives", "no added sugar"]
	},
	{
		name: "Baby",
		weight: 1,
		medianCents: 11900,
		nouns: ["Stroller", "Baby Monitor", "Changing Mat", "Bottle Set", "High Chair", "Baby Carrier", "Crib Sheet"],
		adjectives: ["Foldable", "Anti-Colic", "Convertible", "Breathable", "Compact"],
		features: ["a five-point harness", "BPA-free plastic", "a one-hand fold", "night vision"]
	}
];

/** Words in about a third of the descriptions (a common search), and some in very few (a rare one). */
export const COMMON_WORD = "everyday";
/** Rare words: each in about one product of 2,000. */
export const RARE_WORDS = ["tourmaline", "marquetry", "filigree", "obsidian", "verdigris", "damask", "lapis", "chambray", "tamarind", "sorrel"];
const OPENERS = ["Made for", "Designed for", "A favourite for", "Built for", "Chosen by our buyers for"];
const USES = ["everyday use", "weekend trips", "small spaces", "busy families", "gifting", "beginners and experts alike", "daily routines"];
const CLOSERS = [
	"Ships in recyclable packaging.",
	"Backed by our 30-day return policy.",
	"Check the size guide before ordering.",
	"Available while stocks last.",
	"Care instructions are on the label."
];

const TOTAL_WEIGHT = CATEGORIES.reduce((s, c) => s + c.weight, 0);
/** The newest product is this old at most; created_at spreads over three years before it. */
const EPOCH = Date.UTC(2025, 0, 1);
const SPAN_MS = 3 * 365 * 24 * 3600 * 1000;

/** Category names by size, largest first (for picking a big and a small one). */
export const GENERATED_CATEGORIES = CATEGORIES.map(c => c.name);

/** Product number `index` of the catalog seeded `seed`: the same answer every time. */
export function generateProduct(index: number, seed = 1): GeneratedProduct {
	const r = seededRandom(seed * 0x9e3779b1 + index * 7919 + 1);
	const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
	let w = r() * TOTAL_WEIGHT;
	const cat = CATEGORIES.find(c => (w -= c.weight) < 0) ?? CATEGORIES[0];
	const noun = pick(cat.nouns);
	const adjective = pick(cat.adjectives);
	const series = `${String.fromCharCode(65 + Math.floor(r() * 26))}${100 + Math.floor(r() * 900)}`;
	const name = r() < 0.5 ? `${adjective} ${noun} ${series}` : `${adjective} ${noun}`;
	const sentences = [
		`${pick(OPENERS)} ${r() < 0.3 ? `${COMMON_WORD} use` : pick(USES)}: a ${adjective.toLowerCase()} ${noun.toLowerCase()} with ${pick(cat.features)}.`
	];
	sentences.push(`It comes with ${pick(cat.features)} and ${pick(cat.features)}.`);
	if (r() < 0.6) sentences.push(pick(CLOSERS));
	if (r() < 0.005) sentences.push(`Finished with a ${pick(RARE_WORDS)} detail.`);
	// log-normal around the category's median, ending in .90 or .99 as shops price
	const normal = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
	const raw = cat.medianCents * Math.exp(0.7 * normal);
	const priceCents = Math.max(190, Math.round(raw / 100) * 100 - (r() < 0.5 ? 10 : 1));
	return {
		sku: `GEN-${cat.name.slice(0, 3).toUpperCase()}-${String(index).padStart(7, "0")}`,
		name,
		description: sentences.join(" "),
		priceCents,
		category: cat.name,
		createdAt: new Date(EPOCH - Math.floor(r() * SPAN_MS)),
		stock: Math.floor(r() * 200)
	};
}

const BATCH = 5000;

/**
 * Grows the generated part of the catalog in the database at `databaseUrl` to `target` products (indices
 * 0..target-1; those already there are skipped by their SKU), stocks them when the `inventory` schema exists,
 * and ANALYZEs. Answers how many it inserted.
 */
export async function loadCatalog(databaseUrl: string, target: number, seed = 1): Promise<number> {
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		const [{ n }] = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM catalog.products WHERE sku LIKE 'GEN-%'`)).rows;
		const [{ inventory }] = (await client.query<{ inventory: boolean }>(`SELECT to_regclass('inventory.stock') IS NOT NULL AS inventory`)).rows;
		let inserted = 0;
		for (let from = n; from < target; from += BATCH) {
			const batch = Array.from({ length: Math.min(BATCH, target - from) }, (_, i) => generateProduct(from + i, seed));
			await client.query("BEGIN");
			const { rows } = await client.query<{ id: string; sku: string }>(
				`INSERT INTO catalog.products (sku, name, description, price_cents, category, created_at, updated_at)
				 SELECT sku, name, description, price, category, created, created
				 FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamptz[]) AS t(sku, name, description, price, category, created)
				 ON CONFLICT ((lower(sku))) DO NOTHING
				 RETURNING id, sku`,
				[
					batch.map(p => p.sku),
					batch.map(p => p.name),
					batch.map(p => p.description),
					batch.map(p => p.priceCents),
					batch.map(p => p.category),
					batch.map(p => p.createdAt.toISOString())
				]
			);
			if (inventory && rows.length > 0) {
				const stockBySku = new Map(batch.map(p => [p.sku, p.stock]));
				const stocked = rows.filter(r => stockBySku.get(r.sku)! > 0);
				const ids = stocked.map(r => r.id);
				const stock = stocked.map(r => stockBySku.get(r.sku)!);
				// the ledger and the level agree, as if each product had been received once
				await client.query(`INSERT INTO inventory.stock (product_id, on_hand) SELECT * FROM unnest($1::uuid[], $2::int[]) ON CONFLICT DO NOTHING`, [
					ids,
					stock
				]);
				await client.query(
					`INSERT INTO inventory.adjustments (product_id, delta, reason, on_hand_after)
					 SELECT id, n, 'bulk load', n FROM unnest($1::uuid[], $2::int[]) AS t(id, n)`,
					[ids, stock]
				);
			}
			await client.query("COMMIT");
			inserted += rows.length;
		}
		// the visibility map too, as autovacuum keeps it: counts read the indexes alone
		await client.query("VACUUM ANALYZE catalog.products");
		if (inventory) await client.query("ANALYZE inventory.stock");
		return inserted;
	} catch (err) {
		await client.query("ROLLBACK").catch(() => undefined);
		throw err;
	} finally {
		await client.end();
	}
}

/** One query shape of the listing: the filters and page the API is asked for (`GET /api/products?...`). */
export interface ListingShape {
	name: string;
	params: { search?: string; category?: string; minPrice?: number; maxPrice?: number; sort?: ProductSort; page?: number; pageSize?: number };
}

/** The shapes measured at every size and EXPLAINed at the largest: searches, filters, each sort, deep pages, combinations. */
export const LISTING_SHAPES: ListingShape[] = [
	{ name: "newest first (no filter)", params: {} },
	{ name: "search, common word", params: { search: COMMON_WORD } },
	{ name: "search, rare word", params: { search: RARE_WORDS[0] } },
	{ name: "search, common word, by price", params: { search: COMMON_WORD, sort: "price" } },
	{ name: "category (largest)", params: { category: "Electronics" } },
	{ name: "category (smallest)", params: { category: "Baby" } },
	{ name: "price range", params: { minPrice: 5000, maxPrice: 20000 } },
	{ name: "sort price", params: { sort: "price" } },
	{ name: "sort -price", params: { sort: "-price" } },
	{ name: "sort name", params: { sort: "name" } },
	{ name: "sort -name", params: { sort: "-name" } },
	{ name: "sort createdAt", params: { sort: "createdAt" } },
	{ name: "page 50", params: { page: 50 } },
	{ name: "category + price + sort price", params: { category: "Home & Kitchen", minPrice: 2000, maxPrice: 15000, sort: "price" } },
	{ name: "category + sort name", params: { category: "Books", sort: "name" } },
	{ name: "category + sort -createdAt, page 20", params: { category: "Clothing", sort: "-createdAt", page: 20 } },
	{ name: "price range + sort -price", params: { minPrice: 10000, maxPrice: 50000, sort: "-price" } },
	{ name: "search + category", params: { search: COMMON_WORD, category: "Toys" } }
];

/** The query string of a shape, as a shopper's browser sends it. */
export function shapeQuery(shape: ListingShape): string {
	return new URLSearchParams(Object.entries(shape.params).map(([k, v]): [string, string] => [k, String(v)])).toString();
}
