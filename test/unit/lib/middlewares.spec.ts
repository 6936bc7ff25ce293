import { expect } from "chai";
import { findNul, findUnsafeText } from "../../../lib/middlewares";

describe("findNul", () => {
	it("names the path of the first string holding a NUL character", () => {
		expect(findNul({ name: "ok", address: { lines: ["fine", "bad\u0000"] } })).to.equal("address.lines[1]");
		expect(findNul("x\u0000")).to.equal("(value)");
	});

	it("passes clean data, and does not walk into non-plain objects or cycles", () => {
		expect(findNul({ a: "b", n: 1, list: [1, "two", null] })).to.equal(undefined);
		const cyclic: Record<string, unknown> = { name: "loop" };
		cyclic.self = cyclic;
		expect(findNul(cyclic)).to.equal(undefined);
		class Request {
			body = "hidden\u0000";
		}
		expect(findNul({ req: new Request() })).to.equal(undefined);
	});
});

describe("findUnsafeText", () => {
	it("finds control characters other than tab and line breaks, and bidirectional overrides", () => {
		expect(findUnsafeText({ name: "Ana\u001b[31m" })).to.equal("name");
		expect(findUnsafeText({ name: "\u202Egnp.exe" })).to.equal("name");
		expect(findUnsafeText({ items: [{ note: "ok" }, { note: "x\u2066y" }] })).to.equal("items[1].note");
		expect(findUnsafeText({ name: "C1\u0085" })).to.equal("name");
	});

	it("passes ordinary text in any script, with tabs and line breaks, and does not look into passwords", () => {
		expect(findUnsafeText({ name: "José Ñandú 李雷 עברית", description: "line one\nline two\tand a tab\r\n" })).to.equal(undefined);
		expect(findUnsafeText({ password: "weird\u0007but mine" })).to.equal(undefined);
	});
});
