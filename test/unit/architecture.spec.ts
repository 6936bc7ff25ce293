import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../../lib/paths";

/**
 * The layout is the architecture: the toolkit (lib/) knows no domain and no application; a domain
 * (services/<domain>/) uses the toolkit, the application's config type, and only the public contract of
 * other domains (their `*.types.ts`, `*.events.ts`, and identity's access declarations).
 */

const root = projectRoot();

function sources(dir: string): string[] {
	return fs.readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true }).flatMap(e => {
		if (!e.isFile() || !e.name.endsWith(".ts")) return [];
		return [path.relative(root, path.join(e.parentPath, e.name))];
	});
}

/** Every module a file imports (static, side-effect and dynamic), as a path from the project root. */
function importsOf(file: string): { target: string; typeOnly: boolean }[] {
	const src = fs.readFileSync(path.join(root, file), "utf8");
	const found: { target: string; typeOnly: boolean }[] = [];
	const patterns = [
		/import\s+(type\s+)?[^"';]*?from\s+"(\.[^"]+)"/g,
		/import\s+()"(\.[^"]+)"/g,
		/import\(()"(\.[^"]+)"\)/g,
		/export\s+(type\s+)?[^"';]*?from\s+"(\.[^"]+)"/g
	];
	for (const re of patterns) {
		for (const m of src.matchAll(re)) found.push({ target: path.normalize(path.join(path.dirname(file), m[2])), typeOnly: !!m[1] });
	}
	return found;
}

const PUBLIC_CONTRACT = /^services\/([a-z]+)\/\1\.(types|events|access)$/;

describe("the layout", () => {
	it("keeps the toolkit free of domains and of the application", () => {
		const offending = sources("lib").flatMap(f =>
			importsOf(f)
				.filter(i => !i.target.startsWith("lib/") && !i.target.startsWith("node_modules"))
				.map(i => `${f} -> ${i.target}`)
		);
		expect(offending).to.deep.equal([]);
	});

	it("lets a domain import the toolkit, the config type and other domains' public contract only", () => {
		const offending = sources("services").flatMap(f => {
			const own = f.split("/")[1];
			return importsOf(f)
				.filter(i => {
					if (i.target.startsWith("lib/")) return false;
					if (i.target === "app/config") return !i.typeOnly;
					const [top, domain] = i.target.split("/");
					if (top !== "services") return true;
					return domain !== own && !PUBLIC_CONTRACT.test(i.target);
				})
				.map(i => `${f} -> ${i.target}`);
		});
		expect(offending).to.deep.equal([]);
	});

	it("finds the imports it checks (the scan itself works)", () => {
		const order = importsOf("services/order/order.service.ts").map(i => i.target);
		expect(order).to.include("lib/errors");
		expect(order.some(t => t.startsWith("services/identity/"))).to.equal(true);
	});
});
