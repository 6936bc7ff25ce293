import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../lib/paths";
import { asyncApiDocument, sagaDiagram, withDiagram } from "./event-docs";
import { EVENT_CONTRACTS, EVENT_ROUTES } from "./services";

/** `npm run docs`: writes docs/asyncapi.json and the README's saga diagram from the event contracts. */

const root = projectRoot();
const version = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;

export function generatedAsyncApi(): string {
	return JSON.stringify(asyncApiDocument(EVENT_CONTRACTS, EVENT_ROUTES, version), null, 2) + "\n";
}

export function generatedReadme(readme: string): string {
	return withDiagram(readme, sagaDiagram(EVENT_CONTRACTS, EVENT_ROUTES));
}

if (require.main === module) {
	fs.writeFileSync(path.join(root, "docs", "asyncapi.json"), generatedAsyncApi());
	const readmePath = path.join(root, "README.md");
	fs.writeFileSync(readmePath, generatedReadme(fs.readFileSync(readmePath, "utf8")));
	console.log("Wrote docs/asyncapi.json and the saga diagram in README.md");
}
