import type { ServiceBroker } from "moleculer";
import type { AdjustStockParams, StockLevel } from "../inventory/inventory.types";
import type { CreateProductParams, ProductDto } from "./catalog.types";

/**
 * A small, realistic catalog for development and demos: prices in BRL cents, stock for each product.
 * Created through the catalog's and inventory's own actions, never by SQL, so every rule and event applies.
 */

export interface DemoProduct extends Required<Omit<CreateProductParams, "imageUrl">> {
	/** Units on hand after seeding. */
	stock: number;
}

const ELECTRONICS = "Electronics";
const HOME = "Home & Kitchen";
const BOOKS = "Books";
const SPORTS = "Sports & Outdoors";
const CLOTHING = "Clothing";
const TOYS = "Toys";

export const DEMO_PRODUCTS: readonly DemoProduct[] = [
	// Electronics
	{
		sku: "ELEC-HEADPHONES-NC",
		name: "Wireless Noise-Cancelling Headphones",
		description: "Over-ear Bluetooth headphones with active noise cancelling, 30-hour battery and a fold-flat travel case.",
		priceCents: 129900,
		category: ELECTRONICS,
		stock: 25
	},
	{
		sku: "ELEC-EARBUDS-TWS",
		name: "True Wireless Earbuds",
		description: "Compact in-ear earbuds with charging case, touch controls and IPX4 splash resistance.",
		priceCents: 34990,
		category: ELECTRONICS,
		stock: 60
	},
	{
		sku: "ELEC-SPEAKER-BT",
		name: "Portable Bluetooth Speaker",
		description: "Waterproof speaker with 360-degree sound and 12 hours of playback; pairs two for stereo.",
		priceCents: 49900,
		category: ELECTRONICS,
		stock: 40
	},
	{
		sku: "ELEC-SMARTWATCH",
		name: "Fitness Smartwatch",
		description: "Heart-rate and sleep tracking, built-in GPS, 5 ATM water resistance and a week of battery life.",
		priceCents: 89900,
		category: ELECTRONICS,
		stock: 30
	},
	{
		sku: "ELEC-KEYBOARD-MECH",
		name: "Mechanical Keyboard",
		description: "Tenkeyless mechanical keyboard with hot-swappable brown switches and white backlight, ABNT2 layout.",
		priceCents: 39900,
		category: ELECTRONICS,
		stock: 35
	},
	{
		sku: "ELEC-MOUSE-ERGO",
		name: "Ergonomic Wireless Mouse",
		description: "Vertical mouse that keeps the wrist in a natural position; silent clicks and USB-C charging.",
		priceCents: 19990,
		category: ELECTRONICS,
		stock: 50
	},
	{
		sku: "ELEC-USBC-HUB",
		name: "USB-C 7-in-1 Hub",
		description: "HDMI 4K, two USB-A, SD and microSD readers, Gigabit Ethernet and 100 W pass-through charging.",
		priceCents: 24990,
		category: ELECTRONICS,
		stock: 45
	},
	{
		sku: "ELEC-POWERBANK-20K",
		name: "20,000 mAh Power Bank",
		description: "Fast-charging power bank with USB-C PD 22.5 W; charges a phone four times over.",
		priceCents: 17990,
		category: ELECTRONICS,
		stock: 70
	},
	{
		sku: "ELEC-WEBCAM-FHD",
		name: "Full HD Webcam",
		description: "1080p webcam with autofocus, dual microphones and a privacy shutter for video calls.",
		priceCents: 29900,
		category: ELECTRONICS,
		stock: 20
	},

	// Home & Kitchen
	{
		sku: "HOME-COFFEE-FRENCH",
		name: "French Press Coffee Maker",
		description: "One-litre borosilicate glass French press with stainless steel filter for rich, full-bodied coffee.",
		priceCents: 12990,
		category: HOME,
		stock: 40
	},
	{
		sku: "HOME-KETTLE-ELEC",
		name: "Electric Kettle 1.7 L",
		description: "Stainless steel kettle that boils in minutes, with automatic shut-off and boil-dry protection.",
		priceCents: 15990,
		category: HOME,
		stock: 35
	},
	{
		sku: "HOME-AIRFRYER-4L",
		name: "Air Fryer 4 L",
		description: "Oil-free fryer with digital controls and eight presets; crisp fries with a spoon of oil.",
		priceCents: 44990,
		category: HOME,
		stock: 25
	},
	{
		sku: "HOME-KNIFE-CHEF",
		name: "Chef's Knife 8\"",
		description: "Forged high-carbon stainless steel chef's knife with a full tang and riveted handle.",
		priceCents: 18990,
		category: HOME,
		stock: 30
	},
	{
		sku: "HOME-PAN-CASTIRON",
		name: "Cast Iron Skillet 26 cm",
		description: "Pre-seasoned cast iron skillet for searing, baking and campfire cooking; lasts a lifetime.",
		priceCents: 21990,
		category: HOME,
		stock: 20
	},
	{
		sku: "HOME-BLENDER",
		name: "High-Speed Blender",
		description: "1200 W blender with a 2-litre jar, pulse function and stainless steel blades for smoothies and soups.",
		priceCents: 32990,
		category: HOME,
		stock: 18
	},
	{
		sku: "HOME-TOWELS-SET",
		name: "Cotton Bath Towel Set",
		description: "Set of four soft, absorbent 100% cotton bath towels, 500 g/m².",
		priceCents: 14990,
		category: HOME,
		stock: 45
	},
	{
		sku: "HOME-LAMP-DESK",
		name: "LED Desk Lamp",
		description: "Dimmable LED desk lamp with adjustable colour temperature and a USB charging port.",
		priceCents: 11990,
		category: HOME,
		stock: 30
	},
	{
		sku: "HOME-CONTAINERS-10",
		name: "Glass Food Containers (10 pcs)",
		description: "Oven- and microwave-safe glass containers with airtight lids for meal prep.",
		priceCents: 16990,
		category: HOME,
		stock: 40
	},

	// Books
	{
		sku: "BOOK-DOM-CASMURRO",
		name: "Dom Casmurro",
		description: "Machado de Assis's classic novel of jealousy and memory, narrated by Bentinho. Paperback.",
		priceCents: 3990,
		category: BOOKS,
		stock: 80
	},
	{
		sku: "BOOK-GRANDE-SERTAO",
		name: "Grande Sertão: Veredas",
		description: "João Guimarães Rosa's epic of the backlands, love and the devil. Paperback.",
		priceCents: 8990,
		category: BOOKS,
		stock: 40
	},
	{
		sku: "BOOK-CLEAN-CODE",
		name: "Clean Code",
		description: "Robert C. Martin's handbook of agile software craftsmanship: naming, functions, tests and refactoring.",
		priceCents: 11990,
		category: BOOKS,
		stock: 35
	},
	{
		sku: "BOOK-PRAGMATIC-PROG",
		name: "The Pragmatic Programmer",
		description: "Hunt and Thomas on the journey to mastery: practical advice for software developers, 20th anniversary edition.",
		priceCents: 12990,
		category: BOOKS,
		stock: 30
	},
	{
		sku: "BOOK-DDIA",
		name: "Designing Data-Intensive Applications",
		description: "Martin Kleppmann on the big ideas behind reliable, scalable and maintainable systems.",
		priceCents: 16990,
		category: BOOKS,
		stock: 25
	},
	{
		sku: "BOOK-SAPIENS",
		name: "Sapiens: A Brief History of Humankind",
		description: "Yuval Noah Harari's sweeping history of our species from the Stone Age to the present.",
		priceCents: 5990,
		category: BOOKS,
		stock: 60
	},
	{
		sku: "BOOK-COOKBOOK-BR",
		name: "Brazilian Home Cooking",
		description: "A cookbook of everyday Brazilian recipes: feijoada, moqueca, pão de queijo and brigadeiro.",
		priceCents: 7990,
		category: BOOKS,
		stock: 30
	},
	{
		sku: "BOOK-HOBBIT",
		name: "The Hobbit",
		description: "J.R.R. Tolkien's adventure of Bilbo Baggins, the dwarves and the dragon Smaug. Illustrated hardcover.",
		priceCents: 6990,
		category: BOOKS,
		stock: 45
	},

	// Sports & Outdoors
	{
		sku: "SPORT-YOGA-MAT",
		name: "Non-Slip Yoga Mat",
		description: "6 mm thick TPE yoga mat with alignment lines and a carrying strap.",
		priceCents: 12990,
		category: SPORTS,
		stock: 50
	},
	{
		sku: "SPORT-DUMBBELLS-20",
		name: "Adjustable Dumbbell Set 20 kg",
		description: "Pair of adjustable dumbbells with cast iron plates and secure spin-lock collars.",
		priceCents: 39990,
		category: SPORTS,
		stock: 15
	},
	{
		sku: "SPORT-BOTTLE-STEEL",
		name: "Insulated Water Bottle 750 ml",
		description: "Double-wall stainless steel bottle that keeps drinks cold for 24 hours or hot for 12.",
		priceCents: 8990,
		category: SPORTS,
		stock: 90
	},
	{
		sku: "SPORT-TENT-2P",
		name: "Two-Person Camping Tent",
		description: "Lightweight dome tent with rain fly, aluminium poles and a vestibule for gear.",
		priceCents: 54990,
		category: SPORTS,
		stock: 12
	},
	{
		sku: "SPORT-BACKPACK-40L",
		name: "Hiking Backpack 40 L",
		description: "Ventilated hiking backpack with hip belt, rain cover and hydration sleeve.",
		priceCents: 34990,
		category: SPORTS,
		stock: 20
	},
	{
		sku: "SPORT-BALL-FUTEBOL",
		name: "Official Size Football",
		description: "Size 5 thermo-bonded football for grass and synthetic pitches.",
		priceCents: 14990,
		category: SPORTS,
		stock: 40
	},
	{
		sku: "SPORT-RESISTANCE-BANDS",
		name: "Resistance Bands Set",
		description: "Five latex resistance bands of increasing strength with handles, door anchor and ankle straps.",
		priceCents: 7990,
		category: SPORTS,
		stock: 55
	},
	{
		sku: "SPORT-CYCLING-HELMET",
		name: "Cycling Helmet",
		description: "Ventilated road and mountain bike helmet with adjustable fit and a rear LED light.",
		priceCents: 19990,
		category: SPORTS,
		stock: 25
	},
	{
		sku: "SPORT-JUMP-ROPE",
		name: "Speed Jump Rope",
		description: "Adjustable steel-cable jump rope with ball-bearing handles for cardio and crossfit.",
		priceCents: 4990,
		category: SPORTS,
		stock: 70
	},

	// Clothing
	{
		sku: "CLTH-TSHIRT-BASIC",
		name: "Organic Cotton T-Shirt",
		description: "Crew-neck T-shirt in soft organic cotton, regular fit. Available in several colours.",
		priceCents: 6990,
		category: CLOTHING,
		stock: 120
	},
	{
		sku: "CLTH-JEANS-SLIM",
		name: "Slim Fit Jeans",
		description: "Stretch denim jeans with a slim leg and five pockets, dark indigo wash.",
		priceCents: 17990,
		category: CLOTHING,
		stock: 60
	},
	{
		sku: "CLTH-HOODIE",
		name: "Fleece Hoodie",
		description: "Warm brushed-fleece hoodie with a kangaroo pocket and ribbed cuffs.",
		priceCents: 15990,
		category: CLOTHING,
		stock: 50
	},
	{
		sku: "CLTH-RAINCOAT",
		name: "Lightweight Rain Jacket",
		description: "Packable waterproof jacket with taped seams and an adjustable hood.",
		priceCents: 27990,
		category: CLOTHING,
		stock: 30
	},
	{
		sku: "CLTH-SNEAKERS-RUN",
		name: "Running Sneakers",
		description: "Cushioned running shoes with a breathable mesh upper and a grippy rubber outsole.",
		priceCents: 39990,
		category: CLOTHING,
		stock: 40
	},
	{
		sku: "CLTH-SOCKS-5",
		name: "Athletic Socks (5 pairs)",
		description: "Cushioned cotton-blend socks with arch support for sport and everyday wear.",
		priceCents: 4990,
		category: CLOTHING,
		stock: 100
	},
	{
		sku: "CLTH-LINEN-SHIRT",
		name: "Linen Button-Down Shirt",
		description: "Breathable linen shirt for hot days, relaxed fit with a chest pocket.",
		priceCents: 19990,
		category: CLOTHING,
		stock: 35
	},
	{
		sku: "CLTH-HAVAIANAS",
		name: "Classic Flip-Flops",
		description: "Rubber flip-flops with a textured footbed; the Brazilian summer essential.",
		priceCents: 4490,
		category: CLOTHING,
		stock: 150
	},

	// Toys
	{
		sku: "TOY-BRICKS-500",
		name: "Building Bricks Set (500 pcs)",
		description: "Classic interlocking bricks in 20 colours with wheels, windows and an idea booklet. Ages 4+.",
		priceCents: 19990,
		category: TOYS,
		stock: 40
	},
	{
		sku: "TOY-PUZZLE-1000",
		name: "Jigsaw Puzzle 1000 Pieces",
		description: "A panoramic jigsaw puzzle of Rio de Janeiro's Sugarloaf Mountain at sunset.",
		priceCents: 8990,
		category: TOYS,
		stock: 35
	},
	{
		sku: "TOY-PLUSH-CAPYBARA",
		name: "Capybara Plush Toy",
		description: "Extra-soft 30 cm capybara plush, machine washable. Suitable from birth.",
		priceCents: 7990,
		category: TOYS,
		stock: 60
	},
	{
		sku: "TOY-RC-CAR",
		name: "Remote Control Off-Road Car",
		description: "1:16 scale RC truck with 4WD, rechargeable battery and 2.4 GHz controller.",
		priceCents: 24990,
		category: TOYS,
		stock: 20
	},
	{
		sku: "TOY-BOARDGAME-STRAT",
		name: "Strategy Board Game",
		description: "A board game of trading and building for 2 to 4 players; about 60 minutes a game. Ages 10+.",
		priceCents: 22990,
		category: TOYS,
		stock: 25
	},
	{
		sku: "TOY-WOODEN-TRAIN",
		name: "Wooden Train Set",
		description: "Beech-wood train set with 40 pieces of track, a bridge and three magnetic carriages.",
		priceCents: 17990,
		category: TOYS,
		stock: 18
	},
	{
		sku: "TOY-ART-KIT",
		name: "Kids' Art Kit",
		description: "150-piece art set with crayons, coloured pencils, markers and watercolours in a carry case.",
		priceCents: 9990,
		category: TOYS,
		stock: 45
	}
];

export interface SeedLog {
	info(...args: unknown[]): void;
	warn(...args: unknown[]): void;
}

const errType = (err: unknown): string | undefined => (err as { type?: string })?.type;

/** True when the catalog holds no product at all, archived ones included. */
export async function catalogIsEmpty(broker: ServiceBroker): Promise<boolean> {
	return (await broker.call<number>("catalog.count")) === 0;
}

/**
 * Creates every demo product whose SKU does not exist yet (through `catalog.create`) and stocks it
 * (through `inventory.adjust`). Products that exist are left alone, so running it twice is harmless,
 * and so is a second node seeding at the same time. Without inventory the products are created unstocked.
 * Answers how many products it created.
 */
export async function seedDemoData(broker: ServiceBroker, log: SeedLog): Promise<number> {
	let created = 0;
	let stocking = true;
	for (const demo of DEMO_PRODUCTS) {
		const { stock, ...fields } = demo;
		let product: ProductDto;
		try {
			product = await broker.call<ProductDto, CreateProductParams>("catalog.create", fields);
		} catch (err) {
			if (errType(err) === "SKU_TAKEN") continue;
			throw err;
		}
		created++;
		if (!stocking || stock <= 0) continue;
		try {
			await broker.call<StockLevel, AdjustStockParams>("inventory.adjust", { productId: product.id, delta: stock, reason: "demo data" });
		} catch (err) {
			if (errType(err) === "SERVICE_NOT_FOUND" || errType(err) === "SERVICE_NOT_AVAILABLE") {
				log.warn("Inventory is not available: the demo products are created without stock");
				stocking = false;
			} else {
				log.warn(`Could not stock demo product ${demo.sku}:`, err);
			}
		}
	}
	log.info(`Demo data: created ${created} product(s)`);
	return created;
}
