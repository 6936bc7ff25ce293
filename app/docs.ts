import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../lib/paths";
import { asyncApiDocument, sagaDiagram, withDiagram } from "./event-docs";
import { loadConfig } from "./config";
import { EVENT_CONTRACTS, EVENT_ROUTES, openApiFor } from "./services";

/**
 * `npm run docs`: writes docs/asyncapi.json and the README's saga diagram from the event contracts, and
 * docs/openapi.json (what GET /api/openapi.json answers with the default settings) from the actions.
 */

const root = projectRoot();
const version = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;

export function generatedAsyncApi(): string {
	return JSON.stringify(asyncApiDocument(EVENT_CONTRACTS, EVENT_ROUTES, version), null, 2) + "\n";
}

/** The REST API's document with the default settings (limits such as CART_MAX_QUANTITY show in it). */
export function generatedOpenApi(): string {
	// the configuration insists on a token secret; the document holds none, so any will do
	const config = loadConfig({ JWT_SECRET: crypto.randomBytes(32).toString("hex") });
	return JSON.stringify(openApiFor(config), null, 2) + "\n";
}

export function generatedReadme(readme: string): string {
	return withDiagram(readme, sagaDiagram(EVENT_CONTRACTS, EVENT_ROUTES));
}

if (require.main === module) {
	fs.writeFileSync(path.join(root, "docs", "asyncapi.json"), generatedAsyncApi());
	fs.writeFileSync(path.join(root, "docs", "openapi.json"), generatedOpenApi());
	const readmePath = path.join(root, "README.md");
	fs.writeFileSync(readmePath, generatedReadme(fs.readFileSync(readmePath, "utf8")));
	console.log("Wrote docs/asyncapi.json, docs/openapi.json and the saga diagram in README.md");
}
