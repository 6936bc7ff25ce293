import { expect } from "chai";
import { buildListQuery, buildUpdate, inOrderOf, listProblems, patchOf } from "../../../services/catalog/catalog.query";

describe("catalog query rules", () => {
	describe("buildListQuery", () => {
		it("lists only active products, newest first with an id tie-break, when nothing is asked", () => {
			const q = buildListQuery({});
			expect(q.where).to.equal("active");
			expect(q.bind).to.deep.equal([]);
			expect(q.orderBy).to.equal("created_at DESC, id ASC");
			expect(q.rank).to.equal(undefined);
		});

		it("binds every filter as a parameter, never into the SQL text", () => {
			const q = buildListQuery({ search: "x'; DROP TABLE products; --", category: "Books", minPrice: 100, maxPrice: 200 });
			expect(q.bind).to.deep.equal(["x'; DROP TABLE products; --", "Books", 100, 200]);
			expect(q.where).not.to.contain("DROP");
			expect(q.where).to.contain("search_vector @@ websearch_to_tsquery('english', $1)");
			expect(q.where).to.contain("lower(category) = lower($2)");
			expect(q.where).to.contain("price_cents >= $3::bigint");
			expect(q.where).to.contain("price_cents <= $4::bigint");
		});

		it("ranks by relevance when searching without an explicit sort, and obeys an explicit sort", () => {
			expect(buildListQuery({ search: "tent" }).orderBy).to.match(/^rank DESC/);
			expect(buildListQuery({ search: "tent", sort: "price" }).orderBy).to.equal("price_cents ASC, id ASC");
			expect(buildListQuery({ sort: "-name" }).orderBy).to.equal("lower(name) DESC, id ASC");
		});
	});

	it("refuses a minimum price above the maximum, and accepts equal bounds", () => {
		expect(listProblems({ minPrice: 10, maxPrice: 9 })[0]).to.include({ field: "minPrice" });
		expect(listProblems({ minPrice: 10, maxPrice: 10 })).to.deep.equal([]);
		expect(listProblems({ minPrice: 10 })).to.deep.equal([]);
	});

	describe("patchOf / buildUpdate", () => {
		const id = "6f1c1e2a-0d55-4d35-9a4a-2b8f6f3e1f6f";

		it("keeps only the fields given, and lets imageUrl be cleared with null", () => {
			const { patch, problems } = patchOf({ id, name: "New", imageUrl: null });
			expect(problems).to.deep.equal([]);
			expect(patch).to.deep.equal({ name: "New", imageUrl: null });
			const { set, bind } = buildUpdate(patch, 1);
			expect(set).to.equal("name = $2, image_url = $3, updated_at = now()");
			expect(bind).to.deep.equal(["New", null]);
		});

		it("refuses an empty patch and null for required fields", () => {
			expect(patchOf({ id }).problems[0]).to.include({ type: "emptyPatch" });
			const nulls = patchOf({ id, name: null, priceCents: null } as never).problems.map(p => p.field);
			expect(nulls).to.deep.equal(["name", "priceCents"]);
		});
	});

	it("orders found products as asked, once each, leaving unknown ids out", () => {
		const a = { id: "aaaaaaaa-0000-4000-8000-000000000000" };
		const b = { id: "bbbbbbbb-0000-4000-8000-000000000000" };
		const unknown = "cccccccc-0000-4000-8000-000000000000";
		expect(inOrderOf([b.id, unknown, a.id.toUpperCase(), b.id], [a, b])).to.deep.equal([b, a]);
	});
});
