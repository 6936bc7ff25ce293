import { validate, compileErrors } from "@readme/openapi-parser";
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { generatedOpenApi } from "../../../app/docs";
import { projectRoot } from "../../../lib/paths";
import { documentedRoutes, openApiFor, publishedRoutes } from "../../../app/services";
import { openApiDocument, openApiPath, ruleToSchema, paramsToSchema } from "../../../lib/openapi";
import { lineParam, pageParams, uuidParam } from "../../../lib/params";
import { testConfig } from "../../support/shop";
import { compiledValidator } from "../../support/openapi";

type Doc = {
	openapi: string;
	paths: Record<string, Record<string, Operation>>;
	components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};
type Operation = {
	security: unknown[];
	parameters: { name?: string; in?: string; required?: boolean; schema?: Record<string, unknown>; $ref?: string }[];
	requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
	responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: Record<string, unknown> }> }>;
	"x-permission"?: string;
	description: string;
};

describe("the OpenAPI document", () => {
	const config = testConfig(undefined);
	const doc = openApiFor(config) as unknown as Doc;

	it("is valid OpenAPI 3.1 (@readme/openapi-parser)", async () => {
		const result = await validate(structuredClone(doc) as never);
		expect(result.valid, result.valid ? "" : compileErrors(result)).to.equal(true);
		expect(doc.openapi).to.equal("3.1.0");
		// and the validator does refuse a broken one
		const broken = structuredClone(doc);
		delete (broken.paths["/api/products"].get.responses["200"] as { description?: string }).description;
		expect((await validate(broken as never)).valid).to.equal(false);
	});

	it("has one operation for every published route, and no other", () => {
		const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map(m => `${m.toUpperCase()} ${path}`));
		const published = publishedRoutes(config).map(r => `${r.method} ${openApiPath(r.path)}`);
		expect(published.length).to.be.greaterThan(30);
		expect([...documented].sort()).to.deep.equal([...new Set(published)].sort());
	});

	it("compiles every schema in it with ajv's JSON Schema 2020-12 (so responses can be checked against it)", () => {
		const check = compiledValidator(doc as never);
		for (const name of Object.keys(doc.components.schemas)) expect(check(`#/components/schemas/${name}`), name).to.be.a("function");
		const product = check("#/components/schemas/Product");
		expect(product({ id: "not a uuid" })).to.equal(false);
		expect(check("#/components/schemas/Error")({ name: "NotFoundError", message: "Product not found", code: 404, type: "NOT_FOUND" })).to.equal(true);
	});

	it("declares response bodies for the catalog, cart and order routes", () => {
		const withBodies = publishedRoutes(config).filter(r => /^\/api\/(products|categories|cart|orders)/.test(r.path));
		for (const r of withBodies) {
			const op = doc.paths[openApiPath(r.path)][r.method.toLowerCase()];
			const ok = Object.entries(op.responses).find(([status]) => status.startsWith("2"));
			expect(ok, `${r.method} ${r.path}`).to.not.equal(undefined);
			if (ok![0] !== "204") expect(ok![1].content, `${r.method} ${r.path}`).to.not.equal(undefined);
		}
		expect(doc.paths["/api/products"].get.responses["200"].content!["application/json"].schema).to.deep.equal({ $ref: "#/components/schemas/ProductPage" });
		// every route declares its answers: none is left with the generic 2XX a route without declarations gets
		const generic = Object.entries(doc.paths).flatMap(([p, ops]) =>
			Object.entries(ops)
				.filter(([, op]) => (op as { responses?: Record<string, unknown> }).responses?.["2XX"])
				.map(([m]) => `${m} ${p}`)
		);
		expect(generic).to.deep.equal([]);
		expect(doc.components.schemas).to.include.keys("Product", "ProductPage", "Cart", "Order", "OrderEnvelope", "OrderPage", "Error");
	});

	it("says who may call each route: public ones need nothing, others a bearer token, permissions named", () => {
		expect(doc.components.securitySchemes.bearer).to.deep.include({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
		expect(doc.paths["/api/products"].get.security).to.deep.equal([]);
		expect(doc.paths["/api/products"].get.responses).to.not.have.key("401");
		expect(doc.paths["/api/cart"].get.security).to.deep.equal([{ bearer: [] }]);
		expect(doc.paths["/api/cart"].get.responses).to.include.keys("401");
		const create = doc.paths["/api/products"].post;
		expect(create["x-permission"]).to.equal("product.store");
		expect(create.description).to.contain("product.store");
		expect(create.responses).to.include.keys("401", "403", "409", "422");
	});

	it("gives every route the shared error shape, 429 and 503 with Retry-After, and X-Request-Id", () => {
		for (const ops of Object.values(doc.paths)) {
			for (const op of Object.values(ops)) {
				for (const status of ["429", "503"]) {
					expect(op.responses[status].headers).to.include.keys("Retry-After", "X-Request-Id");
					expect(op.responses[status].content!["application/json"].schema).to.deep.equal({ $ref: "#/components/schemas/Error" });
				}
			}
		}
		expect(doc.components.schemas.Error).to.deep.include({ required: ["name", "message", "code", "type"] });
	});

	it("takes path parameters from the path, query parameters for GETs and a JSON body for others", () => {
		const get = doc.paths["/api/products/{id}"].get;
		expect(get.parameters).to.deep.include({ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } });
		const list = doc.paths["/api/products"].get;
		expect(list.parameters.find(p => p.name === "pageSize")).to.deep.include({ in: "query", required: false });
		expect(list.parameters.find(p => p.name === "pageSize")!.schema).to.deep.include({ type: "integer", minimum: 1, maximum: 100 });
		const add = doc.paths["/api/cart/items"].post;
		expect(add.requestBody!.content["application/json"].schema).to.deep.include({ required: ["productId", "quantity"] });
		expect(doc.paths["/api/orders"].post.parameters.map(p => p.name)).to.include("Idempotency-Key");
	});

	it("holds nothing secret: no JWT secret, database URL or admin password", () => {
		const text = JSON.stringify(doc);
		expect(text).to.not.contain(config.identity.jwtSecret);
		if (config.database.url) expect(text).to.not.contain(config.database.url);
		expect(text).to.not.contain(process.env.DATABASE_URL ?? "no database url");
	});

	it("is in the repository as docs/openapi.json, with the default settings (regenerate with npm run docs)", () => {
		expect(fs.readFileSync(path.join(projectRoot(), "docs", "openapi.json"), "utf8")).to.equal(generatedOpenApi());
	});

	it("documents every route of the registry's own list (documentedRoutes agrees with publishedRoutes)", () => {
		expect(documentedRoutes(config).map(r => `${r.method} ${r.path}`)).to.deep.equal(publishedRoutes(config).map(r => `${r.method} ${r.path}`));
	});
});

describe("fastest-validator rules as JSON Schema", () => {
	it("turns strings with lengths and patterns, enums and formats into their JSON Schema", () => {
		expect(ruleToSchema(lineParam(1, 100))).to.deep.equal({ type: "string", minLength: 1, maxLength: 100, pattern: "^[^\\r\\n\\t]*$" });
		expect(ruleToSchema({ type: "string", enum: ["a", "b"] })).to.deep.equal({ type: "string", enum: ["a", "b"] });
		expect(ruleToSchema(uuidParam)).to.deep.equal({ type: "string", format: "uuid" });
		expect(ruleToSchema("email")).to.deep.equal({ type: "string", format: "email" });
		expect(ruleToSchema({ type: "url" })).to.deep.equal({ type: "string", format: "uri" });
		expect(ruleToSchema({ type: "enum", values: ["x", "y"] })).to.deep.equal({ enum: ["x", "y"] });
		expect(ruleToSchema("string|min:3|optional")).to.deep.equal({ type: "string", minLength: 3 });
	});

	it("turns numbers, integers, booleans and `any` into theirs", () => {
		expect(ruleToSchema(pageParams.page)).to.deep.include({ type: "integer", minimum: 1, maximum: 1_000_000 });
		expect(ruleToSchema({ type: "number", min: 0.5 })).to.deep.equal({ type: "number", minimum: 0.5 });
		expect(ruleToSchema({ type: "number", integer: true, notEqual: 0 })).to.deep.equal({ type: "integer", not: { const: 0 } });
		expect(ruleToSchema({ type: "boolean" })).to.deep.equal({ type: "boolean" });
		expect(ruleToSchema({ type: "any" })).to.deep.equal({});
	});

	it("turns arrays and objects (strict or not, optional and nullable members) into theirs", () => {
		expect(ruleToSchema({ type: "array", items: uuidParam, min: 1, max: 5 })).to.deep.equal({
			type: "array",
			minItems: 1,
			maxItems: 5,
			items: { type: "string", format: "uuid" }
		});
		expect(ruleToSchema({ type: "object", strict: true, props: { a: "string", b: { type: "number", optional: true, nullable: true } } })).to.deep.equal({
			type: "object",
			properties: { a: { type: "string" }, b: { type: ["number", "null"] } },
			required: ["a"],
			additionalProperties: false
		});
		expect(paramsToSchema({ $$strict: "remove", id: uuidParam })).to.deep.equal({
			type: "object",
			properties: { id: { type: "string", format: "uuid" } },
			required: ["id"]
		});
	});

	it("documents a rule it does not know as anything, naming the rule, rather than failing", () => {
		expect(ruleToSchema({ type: "luhn" })).to.deep.equal({ description: "Checked by the 'luhn' rule" });
		const doc = openApiDocument([{ method: "POST", path: "/api/cards", action: "cards.add", schema: { params: { number: { type: "luhn" } } } }], {
			title: "t",
			version: "1"
		}) as unknown as Doc;
		expect(doc.paths["/api/cards"].post.requestBody!.content["application/json"].schema).to.deep.include({ required: ["number"] });
	});
});
