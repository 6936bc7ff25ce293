import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../../lib/paths";

/** What a new user reads first: the README's claims agree with the project, its tables render whole. */

const root = projectRoot();
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { license: string; engines: { node: string } };

describe("the README", () => {
	it("asks for the Node.js version package.json's engines requires", () => {
		const required = /^>=(\d+)/.exec(pkg.engines.node)![1];
		const stated = [...readme.matchAll(/Node\.js (\d+) or newer/g)].map(m => m[1]);
		expect(stated).to.have.length.greaterThan(0);
		expect(stated).to.deep.equal(stated.map(() => required));
	});

	it("has no table split by a blank line (rows after it would render as text)", () => {
		const lines = readme.split("\n");
		const split = lines.flatMap((line, i) =>
			line === "" && lines[i - 1]?.startsWith("|") && lines[i + 1]?.startsWith("|") && !/^\|[\s|:-]+\|$/.test(lines[i + 2] ?? "")
				? [`line ${i + 2}: ${lines[i + 1]!.slice(0, 60)}`]
				: []
		);
		expect(split).to.deep.equal([]);
	});

	it("comes with the LICENSE package.json names", () => {
		const license = fs.readFileSync(path.join(root, "LICENSE"), "utf8");
		expect(pkg.license).to.equal("MIT");
		expect(license).to.match(/^MIT License/);
		expect(license).to.contain("Copyright (c) 2026 Momentum contributors");
	});
});
