/**
 * The shop's OpenAPI 3.1 document, made from the actions themselves: each published action's `rest` gives
 * the route, its fastest-validator `params` the parameters (turned into JSON Schema 2020-12 here), `auth` /
 * `permission` the security, and the optional `responses` / `errors` declared beside it the answers.
 */

/** A JSON Schema (2020-12, as OpenAPI 3.1 has it). */
export type JsonSchema = Record<string, unknown>;

/** What an action may answer besides the errors every route shares: status → description, body and headers (name → what it says). */
export type ActionResponses = Record<number, { description: string; schema?: JsonSchema; headers?: Record<string, string> }>;

/** Client errors an action throws itself, by status: e.g. `{ 404: ["NOT_FOUND"], 409: ["INSUFFICIENT_STOCK"] }`. */
export type ActionErrors = Record<number, string[]>;

declare module "moleculer" {
	interface ActionSchema {
		/** A one-line summary for the API reference; else the action's name. */
		summary?: string;
		/** More for the API reference: limits and behaviour a caller should know. */
		description?: string;
		/** The answers of a published action (lib/openapi.ts): status → description and JSON Schema of the body. */
		responses?: ActionResponses;
		/** The client errors it throws itself (VALIDATION_ERROR, 401, 403, 429, 503 and 504 are derived). */
		errors?: ActionErrors;
	}
}

const components = new WeakMap<object, { name: string; schema: JsonSchema }>();

/**
 * A named schema: answers a `$ref` to `#/components/schemas/<name>`, and the document carries the schema
 * once under that name wherever some response refers to it.
 */
export function component(name: string, schema: JsonSchema): JsonSchema {
	const ref = { $ref: `#/components/schemas/${name}` };
	components.set(ref, { name, schema });
	return ref;
}

/** A page of a listing (lib/params.ts Page<T>), as a named schema. */
export function pageComponent(name: string, item: JsonSchema): JsonSchema {
	return component(name, {
		type: "object",
		description: "One page of a listing: `page` (from 1) of `pageSize` items, out of `total`.",
		required: ["items", "total", "page", "pageSize"],
		properties: {
			items: { type: "array", items: item },
			total: { type: "integer", minimum: 0 },
			page: { type: "integer", minimum: 1 },
			pageSize: { type: "integer", minimum: 1 }
		}
	});
}

/** Every error body the gateway sends (services/gateway/gateway.service.ts `toErrorBody`). */
export const ERROR_SCHEMA: JsonSchema = {
	type: "object",
	description:
		"Every error: `type` is a stable SCREAMING_SNAKE code to branch on; `data` names what was wrong (for VALIDATION_ERROR a list of `{ field, message, type }`; for 429 and 503 `{ retryAfter }` in seconds); `requestId` is the X-Request-Id of the request.",
	required: ["name", "message", "code", "type"],
	properties: {
		name: { type: "string" },
		message: { type: "string" },
		code: { type: "integer", minimum: 400, maximum: 599 },
		type: { type: "string", pattern: "^[A-Z][A-Z0-9_]*$" },
		data: {},
		requestId: { type: "string" }
	}
};

type Rule = Record<string, unknown>;

/** A fastest-validator shorthand such as "string|min:3|optional" as a rule object. */
function ruleObject(rule: unknown): Rule | undefined {
	if (typeof rule === "string") {
		const [type, ...parts] = rule.split("|");
		const out: Rule = { type: type.trim() };
		for (const part of parts) {
			const [key, value] = part.split(":");
			out[key.trim()] =
				value === undefined ? true : /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value === "true" ? true : value === "false" ? false : value;
		}
		return out;
	}
	if (Array.isArray(rule)) return { type: "multi", rules: rule };
	return rule && typeof rule === "object" ? (rule as Rule) : undefined;
}

/** Whether a rule may be left out. */
export function isOptional(rule: unknown): boolean {
	const r = ruleObject(rule);
	return !!r && (r.optional === true || r.default !== undefined);
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function withLengths(schema: JsonSchema, r: Rule, minKey: string, maxKey: string): JsonSchema {
	if (num(r.min) !== undefined) schema[minKey] = r.min;
	if (num(r.max) !== undefined) schema[maxKey] = r.max;
	if (num(r.length) !== undefined) {
		schema[minKey] = r.length;
		schema[maxKey] = r.length;
	}
	return schema;
}

function patternOf(p: unknown): string | undefined {
	if (p instanceof RegExp) return p.source;
	return typeof p === "string" ? p : undefined;
}

/**
 * One fastest-validator rule as JSON Schema. Rules it does not know become `{}` (anything) with a
 * description saying which rule it was, rather than failing the document.
 */
export function ruleToSchema(rule: unknown): JsonSchema {
	const r = ruleObject(rule);
	if (!r) return { description: "Any value" };
	let schema: JsonSchema;
	switch (r.type) {
		case "string": {
			schema = withLengths({ type: "string" }, r, "minLength", "maxLength");
			const pattern = patternOf(r.pattern);
			if (pattern !== undefined) schema.pattern = pattern;
			if (Array.isArray(r.enum)) schema.enum = r.enum;
			if (r.numeric === true) schema.pattern = "^-?[0-9]+(\\.[0-9]+)?$";
			if (r.alpha === true) schema.pattern = "^[a-zA-Z]*$";
			if (r.empty === false && schema.minLength === undefined) schema.minLength = 1;
			break;
		}
		case "number": {
			schema = { type: r.integer === true ? "integer" : "number" };
			if (num(r.min) !== undefined) schema.minimum = r.min;
			if (num(r.max) !== undefined) schema.maximum = r.max;
			if (num(r.equal) !== undefined) schema.const = r.equal;
			if (num(r.notEqual) !== undefined) schema.not = { const: r.notEqual };
			if (r.positive === true) schema.exclusiveMinimum = 0;
			if (r.negative === true) schema.exclusiveMaximum = 0;
			if (r.convert === true) schema.description = "Numeric text (a query string) is converted.";
			break;
		}
		case "boolean":
			schema = { type: "boolean" };
			if (r.convert === true) schema.description = "Also 'true'/'false', 1/0, 'on'/'off'.";
			break;
		case "uuid":
			schema = { type: "string", format: "uuid" };
			break;
		case "email":
			schema = { type: "string", format: "email" };
			if (num(r.max) !== undefined) schema.maxLength = r.max;
			if (num(r.min) !== undefined) schema.minLength = r.min;
			break;
		case "url":
			schema = { type: "string", format: "uri" };
			break;
		case "date":
			schema = { type: "string", format: "date-time" };
			break;
		case "enum":
			schema = { enum: Array.isArray(r.values) ? [...(r.values as unknown[])] : [] };
			break;
		case "equal":
			schema = { const: r.value };
			break;
		case "array": {
			schema = withLengths({ type: "array" }, r, "minItems", "maxItems");
			if (r.items !== undefined) schema.items = ruleToSchema(r.items);
			if (r.unique === true) schema.uniqueItems = true;
			if (Array.isArray(r.enum)) schema.items = { enum: r.enum };
			break;
		}
		case "object": {
			schema = { type: "object" };
			const props = (r.props ?? r.properties) as Record<string, unknown> | undefined;
			if (props) Object.assign(schema, propsToSchema(props, r.strict));
			if (num(r.minProps) !== undefined) schema.minProperties = r.minProps;
			if (num(r.maxProps) !== undefined) schema.maxProperties = r.maxProps;
			break;
		}
		case "multi": {
			const rules = Array.isArray(r.rules) ? r.rules : [];
			schema = { anyOf: rules.map(ruleToSchema) };
			break;
		}
		case "any":
			schema = {};
			break;
		default:
			schema = { description: `Checked by the '${String(r.type)}' rule` };
	}
	if (r.nullable === true) {
		if (typeof schema.type === "string") schema.type = [schema.type, "null"];
		else if (Array.isArray(schema.enum)) schema.enum = [...(schema.enum as unknown[]), null];
		else if (Object.keys(schema).some(k => k !== "description")) schema = { anyOf: [schema, { type: "null" }] };
	}
	if (r.default !== undefined && typeof r.default !== "function") schema.default = r.default;
	if (typeof r.description === "string") schema.description = r.description;
	return schema;
}

/** An object's `props` as JSON Schema `properties` and `required`; `strict: true` refuses other keys. */
function propsToSchema(props: Record<string, unknown>, strict: unknown): JsonSchema {
	const properties: Record<string, JsonSchema> = {};
	const required: string[] = [];
	for (const [name, rule] of Object.entries(props)) {
		if (name.startsWith("$$")) continue;
		properties[name] = ruleToSchema(rule);
		if (!isOptional(rule)) required.push(name);
	}
	const schema: JsonSchema = { properties };
	if (required.length > 0) schema.required = required;
	// "remove" drops unknown keys silently and the default lets them through: only `true` refuses them
	if (strict === true) schema.additionalProperties = false;
	return schema;
}

/** An action's whole `params` (its `$$strict`) as one object schema. */
export function paramsToSchema(params: Record<string, unknown>): JsonSchema {
	return { type: "object", ...propsToSchema(params, params.$$strict) };
}

/** A published route as the OpenAPI document needs it. */
export interface DocumentedRoute {
	method: string;
	/** e.g. /api/products/:id */
	path: string;
	/** `<service>.<action>` */
	action: string;
	schema: {
		params?: Record<string, unknown>;
		auth?: "public" | "required";
		permission?: string;
		self?: { param: string; permission: string };
		summary?: string;
		description?: string;
		responses?: ActionResponses;
		errors?: ActionErrors;
	};
}

const errorRef = { $ref: "#/components/schemas/Error" };
const retryAfterRef = { $ref: "#/components/headers/Retry-After" };
const requestIdRef = { $ref: "#/components/headers/X-Request-Id" };

function errorResponse(description: string, retry = false): JsonSchema {
	return {
		description,
		headers: retry ? { "Retry-After": retryAfterRef, "X-Request-Id": requestIdRef } : { "X-Request-Id": requestIdRef },
		content: { "application/json": { schema: errorRef } }
	};
}

/** Collects the named schemas a schema refers to (and those they refer to) into `into`. */
function collectComponents(value: unknown, into: Record<string, JsonSchema>): void {
	if (!value || typeof value !== "object") return;
	const named = components.get(value);
	if (named) {
		if (into[named.name]) return;
		into[named.name] = named.schema;
		collectComponents(named.schema, into);
		return;
	}
	for (const v of Object.values(value)) collectComponents(v, into);
}

/** `/api/products/:id` → `/api/products/{id}` */
export function openApiPath(path: string): string {
	return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

const METHODS = ["get", "put", "post", "delete", "patch"];

/** The OpenAPI 3.1 document of these routes. */
export function openApiDocument(routes: readonly DocumentedRoute[], info: { title: string; version: string; description?: string }): JsonSchema {
	const paths: Record<string, Record<string, JsonSchema>> = {};
	const schemas: Record<string, JsonSchema> = { Error: ERROR_SCHEMA };
	const ids = new Set<string>();
	for (const route of routes) {
		const methods = route.method === "*" ? METHODS : [route.method.toLowerCase()];
		for (const method of methods) {
			const path = openApiPath(route.path);
			const operation = operationOf(route, method, schemas);
			let id = route.action;
			for (let n = 2; ids.has(id); n++) id = `${route.action}${n}`;
			ids.add(id);
			operation.operationId = id;
			(paths[path] ??= {})[method] = operation;
		}
	}
	return {
		openapi: "3.1.0",
		info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
		jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
		servers: [{ url: "/", description: "The gateway that serves this document" }],
		paths,
		components: {
			schemas,
			securitySchemes: {
				bearer: {
					type: "http",
					scheme: "bearer",
					bearerFormat: "JWT",
					description: "An access token from POST /api/auth/login (or /api/auth/refresh), sent as `Authorization: Bearer <token>`."
				}
			},
			headers: {
				"Retry-After": { description: "Seconds to wait before trying again.", schema: { type: "integer", minimum: 0 } },
				"X-Request-Id": {
					description:
						"The request's id (also its trace id): the caller's own X-Request-Id when it is a UUID or 16 to 64 hex digits, else a new one. Also in error bodies as `requestId`.",
					schema: { type: "string" }
				}
			},
			parameters: {
				"X-Request-Id": {
					name: "X-Request-Id",
					in: "header",
					required: false,
					description: "Your id for the request (a UUID or 16 to 64 hex digits); answered back in the X-Request-Id header.",
					schema: { type: "string" }
				}
			}
		}
	};
}

function operationOf(route: DocumentedRoute, method: string, schemas: Record<string, JsonSchema>): JsonSchema {
	const s = route.schema;
	const params = s.params ?? {};
	const pathNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(m => m[1]);
	const parameters: JsonSchema[] = [{ $ref: "#/components/parameters/X-Request-Id" }];
	for (const name of pathNames) {
		const schema = params[name] === undefined ? { type: "string" } : ruleToSchema(params[name]);
		parameters.push({ name, in: "path", required: true, schema });
	}
	const rest = Object.entries(params).filter(([name]) => !name.startsWith("$$") && !pathNames.includes(name));
	let requestBody: JsonSchema | undefined;
	if (method === "get" || method === "delete") {
		for (const [name, rule] of rest) parameters.push({ name, in: "query", required: !isOptional(rule), schema: ruleToSchema(rule) });
	} else if (rest.length > 0) {
		const body = paramsToSchema({ ...Object.fromEntries(rest), $$strict: params.$$strict });
		requestBody = { required: Array.isArray(body.required), content: { "application/json": { schema: body } } };
	}
	if (route.path === "/api/orders" && method === "post") {
		parameters.push({
			name: "Idempotency-Key",
			in: "header",
			required: false,
			description:
				"Your key for this order: 1 to 255 printable ASCII characters without spaces (a UUID, say). Sending the same key with the same body again answers the order placed the first time (with `Idempotent-Replayed: true`) instead of placing another; the same key with another body answers 422.",
			schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" }
		});
	}

	const needsUser = s.auth !== "public" || s.permission !== undefined;
	const description: string[] = [];
	if (s.description) description.push(s.description);
	if (!needsUser) description.push("Public: no token needed.");
	else if (s.permission) {
		description.push(
			`Needs a signed-in user whose role holds the \`${s.permission}\` permission` +
				(s.self ? ` (or \`${s.self.permission}\` when \`${s.self.param}\` is the caller's own id).` : ".")
		);
	} else description.push("Needs a signed-in user.");

	const responses: Record<string, JsonSchema> = {};
	// an action that declares no answers yet: some success, without a body schema (not a claim of 200)
	const declared: Record<string, ActionResponses[number]> = s.responses ?? { "2XX": { description: "Success (the body is not described yet)" } };
	for (const [status, r] of Object.entries(declared)) {
		const headers: Record<string, JsonSchema> = { "X-Request-Id": requestIdRef };
		for (const [name, about] of Object.entries(r.headers ?? {})) headers[name] = { description: about, schema: { type: "string" } };
		const response: JsonSchema = { description: r.description, headers };
		if (r.schema) {
			response.content = { "application/json": { schema: r.schema } };
			collectComponents(r.schema, schemas);
		}
		responses[status] = response;
	}
	const errors: Record<number, Set<string>> = {};
	const add = (code: number, ...types: string[]) => types.forEach(t => (errors[code] ??= new Set()).add(t));
	for (const [code, types] of Object.entries(s.errors ?? {})) add(Number(code), ...types);
	if (rest.length > 0 || pathNames.length > 0) add(422, "VALIDATION_ERROR");
	if (requestBody) {
		add(400, "INVALID_JSON");
		add(413, "PAYLOAD_TOO_LARGE");
	}
	// a token that is sent must be valid, also on a public route
	add(401, "INVALID_TOKEN");
	if (needsUser) add(401, "UNAUTHENTICATED");
	if (s.permission) add(403, "FORBIDDEN");
	add(429, "TOO_MANY_REQUESTS");
	add(503, "SERVICE_UNAVAILABLE", "DATABASE_UNAVAILABLE");
	// a call that outlived its timeout: it may or may not have taken effect (an Idempotency-Key makes retrying safe)
	add(504, "REQUEST_TIMEOUT");
	for (const [code, types] of Object.entries(errors)) {
		const list = [...types].sort().join(", ");
		if (code === "429") responses[code] = errorResponse(`${list}: this client's rate limit is used up; try again after Retry-After seconds.`, true);
		else if (code === "503") responses[code] = errorResponse(`${list}: nothing was done; try again after Retry-After seconds.`, true);
		else if (code === "504") responses[code] = errorResponse(`${list}: the answer did not come in time; the request may still have taken effect.`);
		else responses[code] = errorResponse(`Error: ${list}.`);
	}

	const operation: JsonSchema = {
		tags: [route.action.split(".")[0]],
		summary: s.summary ?? route.action,
		description: description.join("\n\n"),
		parameters,
		responses,
		security: needsUser ? [{ bearer: [] }] : []
	};
	if (requestBody) operation.requestBody = requestBody;
	if (s.permission) operation["x-permission"] = s.permission;
	return operation;
}
