import { expect } from "chai";
import pg from "pg";
import { LISTING_SHAPES, loadCatalog, type ListingShape } from "../../bench/lib/catalog-data";
import { ServiceDatabase } from "../../lib/database";
import { catalogMigrations } from "../../services/catalog/catalog.migrations";
import { listStatements, MAX_LISTING_DEPTH } from "../../services/catalog/catalog.query";
import { DEFAULT_PAGE_SIZE } from "../../lib/params";
import { createTestDatabase, type TestDatabase } from "../support/database";

/** A node of PostgreSQL's EXPLAIN (FORMAT JSON) plan. */
interface PlanNode {
	"Node Type": string;
	"Relation Name"?: string;
	"Index Name"?: string;
	Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
	return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * Every shape of the public listing, on a catalog large enough that the planner prefers an index whenever one
 * serves (20,000 generated products): no statement a listing runs reads the whole products table, and
 * without a search no page sorts what it read (it walks an index in the listing's order and stops). The speed
 * itself is measured by the benchmark (`--only=catalog-scale`), not here.
 */
describe("catalog listing plans (20,000 products)", function () {
	this.timeout(120_000);
	let db: TestDatabase;
	let client: pg.Client;

	before(async () => {
		db = await createTestDatabase();
		const catalog = await ServiceDatabase.open({
			service: "catalog",
			config: { url: db.url, serviceUrls: {}, embeddedDir: "", poolMax: 1 },
			migrations: catalogMigrations,
			log: () => undefined
		});
		await catalog.close();
		await loadCatalog(db.url, 20_000);
		client = new pg.Client({ connectionString: db.url, options: "-c search_path=catalog" });
		await client.connect();
	});
	after(async () => {
		await client?.end();
		await db?.drop();
	});

	async function plan(statement: { text: string; values: unknown[] }): Promise<PlanNode[]> {
		const { rows } = await client.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>({
			text: `EXPLAIN (FORMAT JSON) ${statement.text}`,
			values: statement.values
		});
		return nodes(rows[0]["QUERY PLAN"][0].Plan);
	}

	const deepest: ListingShape = { name: "the deepest page allowed (100 a page)", params: { page: MAX_LISTING_DEPTH / 100, pageSize: 100 } };
	for (const shape of [...LISTING_SHAPES, deepest]) {
		it(`reads ${shape.name} through an index in its order, never scanning the products table`, async () => {
			const { page = 1, pageSize = DEFAULT_PAGE_SIZE, ...filters } = shape.params;
			const statements = listStatements({ status: "active", ...filters }, { limit: pageSize, offset: (page - 1) * pageSize });
			for (const [kind, statement] of Object.entries(statements)) {
				const found = await plan(statement);
				const scans = found.filter(n => n["Node Type"] === "Seq Scan").map(n => n["Relation Name"]);
				expect(scans, `${kind} of ${shape.name}`).to.deep.equal([]);
				expect(
					found.some(n => n["Index Name"]),
					`${kind} of ${shape.name} uses an index`
				).to.equal(true);
				// without a search, a page walks an index in the listing's own order: a sort would read every match first
				// (the count may sort: up to MAX_LISTING_DEPTH rows of a bitmap can cost less than as many index probes)
				if (kind === "rows" && filters.search === undefined) {
					expect(
						found.filter(n => n["Node Type"] === "Sort").map(n => n["Node Type"]),
						`${kind} of ${shape.name} walks its order`
					).to.deep.equal([]);
				}
			}
		});
	}
});
