import { expect } from "chai";
import { findNul } from "../../../lib/middlewares";

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
