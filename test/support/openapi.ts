import { Ajv2020 } from "ajv/dist/2020";
import type { ValidateFunction } from "ajv";

/**
 * Checks responses against the shop's OpenAPI document (GET /api/openapi.json): the status must be one the
 * route declares, and the body must match that response's JSON Schema (2020-12, as OpenAPI 3.1 has it).
 * Any spec can adopt it: `validateAgainstOpenApi(doc, "GET", "/api/products/abc", 200, body)`.
 */

export type OpenApiDoc = {
	paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
	[key: string]: unknown;
};

const DOC_ID = "https://momentum.invalid/openapi.json";

// formats the document uses, checked the way a client would rely on them
const FORMATS: Record<string, RegExp> = {
	uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
	"date-time": /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
	email: /^[^\s@]+@[^\s@]+$/,
	uri: /^[a-z][a-z0-9+.-]*:\S*$/i
};

const compiled = new WeakMap<object, (pointer: string) => ValidateFunction>();

/** A function that compiles (once) the schema at a JSON pointer of `doc`, such as `#/components/schemas/Product`. */
export function compiledValidator(doc: OpenApiDoc): (pointer: string) => ValidateFunction {
	let get = compiled.get(doc);
	if (get) return get;
	const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: true });
	for (const [name, pattern] of Object.entries(FORMATS)) ajv.addFormat(name, pattern);
	// the document around the schemas: its keys are not JSON Schema keywords
	ajv.addVocabulary(["openapi", "info", "jsonSchemaDialect", "servers", "paths", "components"]);
	ajv.addSchema(doc, DOC_ID);
	const cache = new Map<string, ValidateFunction>();
	get = (pointer: string) => {
		let fn = cache.get(pointer);
		if (!fn) {
			fn = ajv.compile({ $ref: `${DOC_ID}${pointer}` });
			cache.set(pointer, fn);
		}
		return fn;
	};
	compiled.set(doc, get);
	return get;
}

const escape = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/** The document's path template a concrete path matches: `/api/products/1f..` → `/api/products/{id}`. */
export function pathTemplate(doc: OpenApiDoc, path: string): string | undefined {
	const bare = path.split("?")[0];
	if (doc.paths[bare]) return bare;
	return Object.keys(doc.paths).find(t => new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`).test(bare));
}

let validated = 0;

/** How many responses `validateAgainstOpenApi` has passed in this process (a spec reports it). */
export function validatedResponses(): number {
	return validated;
}

/**
 * Throws unless `status` is declared for `method path` in `doc` and `body` matches its schema (a response
 * declared without a body must come without one). Answers the template the path matched.
 */
export function validateAgainstOpenApi(doc: OpenApiDoc, method: string, path: string, status: number, body: unknown): string {
	const template = pathTemplate(doc, path);
	if (!template) throw new Error(`${method} ${path} is not in the OpenAPI document`);
	const operation = doc.paths[template][method.toLowerCase()];
	if (!operation) throw new Error(`${method} ${template} is not in the OpenAPI document`);
	const declared = operation.responses ?? {};
	const key = [String(status), `${String(status)[0]}XX`, "default"].find(k => declared[k] !== undefined);
	const response = key === undefined ? undefined : declared[key];
	if (!response) {
		throw new Error(
			`${method} ${template} answered ${status}, which the document does not declare (it declares ${Object.keys(operation.responses ?? {}).join(", ")})`
		);
	}
	const content = response.content?.["application/json"];
	if (!content?.schema) {
		if (body !== undefined && body !== null && body !== "")
			throw new Error(`${method} ${template} ${status} declares no body but one came: ${JSON.stringify(body)}`);
	} else {
		const pointer = `#/paths/${escape(template)}/${method.toLowerCase()}/responses/${key}/content/${escape("application/json")}/schema`;
		const check = compiledValidator(doc)(pointer);
		if (!check(body)) {
			throw new Error(
				`${method} ${template} ${status}: the body does not match the document: ${JSON.stringify(check.errors)}\n${JSON.stringify(body).slice(0, 2000)}`
			);
		}
	}
	validated++;
	return template;
}
