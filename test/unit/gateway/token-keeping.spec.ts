import { expect } from "chai";
import jwt from "jsonwebtoken";
import { keepTokenMs } from "../../../services/gateway/gateway.service";

describe("how long the gateway keeps a resolved access token", () => {
	const now = Date.parse("2026-11-24T12:00:00Z");
	const token = (claims: object) => jwt.sign(claims, "k".repeat(32), { noTimestamp: true });
	const exp = (ms: number) => Math.floor((now + ms) / 1000);

	it("keeps it until it expires, never longer", () => {
		expect(keepTokenMs(token({ sub: "u", exp: exp(5_000) }), now)).to.equal(5_000);
	});

	it("keeps it at most a minute, so a changed JWT secret takes effect within one", () => {
		expect(keepTokenMs(token({ sub: "u", exp: exp(900_000) }), now)).to.equal(60_000);
	});

	it("does not keep an expired token, nor one without an expiry", () => {
		expect(keepTokenMs(token({ sub: "u", exp: exp(-1_000) }), now)).to.be.at.most(0);
		expect(keepTokenMs(token({ sub: "u" }), now)).to.equal(0);
		expect(keepTokenMs("not-a-jwt", now)).to.equal(0);
	});
});
