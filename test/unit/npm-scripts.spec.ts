import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { expect } from "chai";
import { projectRoot } from "../../lib/paths";

/** What `npm run test:unit` and friends hand mocha, merged with .mocharc.json as mocha merges them. */

const root = projectRoot();
const scripts = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const { loadOptions } = createRequire(path.join(root, "package.json"))("mocha/lib/cli/options.cjs") as {
	loadOptions: (argv: string[]) => { _: string[] };
};

/** The mocha command line of a script (the last `mocha ...` of it), quotes removed. */
function mochaArgs(script: string): string[] {
	const command = script.split("&&").at(-1)!.trim();
	const words = command.match(/'[^']*'|"[^"]*"|\S+/g) ?? [];
	expect(words[0], script).to.equal("mocha");
	return words.slice(1).map(w => w.replace(/^['"]|['"]$/g, ""));
}

/** The spec files mocha runs for a script, relative to the project root. */
function specsOf(script: string): string[] {
	const cwd = process.cwd();
	process.chdir(root); // mocha reads .mocharc.json from where npm runs it
	try {
		const patterns = loadOptions(mochaArgs(script))._;
		return patterns.flatMap(p => fs.globSync(p, { cwd: root })).map(f => f.split(path.sep).join("/"));
	} finally {
		process.chdir(cwd);
	}
}

const allSpecs = ["unit", "integration", "e2e"].flatMap(dir => fs.globSync(`test/${dir}/**/*.spec.ts`, { cwd: root }).map(f => f.split(path.sep).join("/")));

describe("the npm test scripts", () => {
	for (const folder of ["unit", "integration", "e2e"]) {
		it(`npm run test:${folder} runs the ${folder} tests and nothing else`, () => {
			const specs = specsOf(scripts[`test:${folder}`]!);
			expect(specs.length).to.be.greaterThan(0);
			expect(specs.filter(f => !f.startsWith(`test/${folder}/`))).to.deep.equal([]);
			expect(specs).to.have.members(allSpecs.filter(f => f.startsWith(`test/${folder}/`)));
		});
	}

	it("npm test type-checks (the server and the pages), lints and runs every test", () => {
		expect(scripts.test).to.match(/^tsc --noEmit && tsc -p web && npm run lint && mocha /);
		expect(specsOf(scripts.test!)).to.have.members(allSpecs);
	});

	it("npm run dev restarts app/main.ts on changes", () => {
		expect(scripts.dev).to.match(/^node .*--watch(-path)?\b.* app\/main\.ts$/);
	});
});
