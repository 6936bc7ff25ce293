import { expect } from "chai";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import os from "node:os";
import path from "node:path";
import { pages } from "../../../services/gateway/gateway.pages";

/** A GET as the gateway hands it to the pages; answers the status written. */
function get(p: ReturnType<typeof pages>, url: string): number | undefined {
	let status: number | undefined;
	const res = { setHeader: () => undefined, writeHead: (s: number) => (status = s), end: () => undefined };
	const served = p.serve({ method: "GET", headers: {} } as unknown as IncomingMessage, res as unknown as ServerResponse, url);
	return served ? status : undefined;
}

describe("the pages' kept files", () => {
	let root: string;
	before(() => {
		root = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-pages-"));
		fs.mkdirSync(path.join(root, "shared"));
		fs.writeFileSync(path.join(root, "shared", "api.js"), "export const api = 1;\n");
	});
	after(() => fs.rmSync(root, { recursive: true, force: true }));

	it("keeps the files found and nothing for made-up asset names, however many are asked for", () => {
		const p = pages(root);
		expect(get(p, "/assets/shared/api.js")).to.equal(200);
		for (let i = 0; i < 2000; i++) expect(get(p, `/assets/shared/missing-${i}.js`)).to.equal(undefined);
		expect(get(p, "/assets/shared/api.js")).to.equal(200);
		expect(p.kept()).to.equal(1);
	});
});
