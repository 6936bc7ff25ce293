import crypto from "node:crypto";
import { expect } from "chai";
import jwt from "jsonwebtoken";
import {
	hashRefreshToken,
	judgeRefreshToken,
	loginCounters,
	newRefreshToken,
	progressiveDelaySeconds,
	signAccessToken,
	verifyAccessToken,
	type TokenSettings
} from "../../../services/identity/identity.tokens";
import type { AccessClaims } from "../../../services/identity/identity.tokens";

const settings = (): TokenSettings => ({
	jwtSecret: crypto.randomBytes(32).toString("hex"),
	jwtIssuer: "momentum",
	jwtAudience: "momentum-api",
	accessTokenTtlSeconds: 900,
	refreshTokenTtlSeconds: 3600
});

const user: AccessClaims = { userId: crypto.randomUUID(), sessionId: crypto.randomUUID() };

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Asserts that verifying the token fails with INVALID_TOKEN; returns the reason it gives. */
function expectRejected(token: string, s: TokenSettings, now?: Date): string {
	try {
		verifyAccessToken(token, s, now);
	} catch (err) {
		const e = err as { type?: string; code?: number; data?: { reason?: string } };
		expect(e.type).to.equal("INVALID_TOKEN");
		expect(e.code).to.equal(401);
		return e.data?.reason ?? "";
	}
	expect.fail("expected the token to be rejected");
}

describe("access tokens", () => {
	it("verifies a token it signed and returns the caller and the session", () => {
		const s = settings();
		const token = signAccessToken(user, s);
		expect(verifyAccessToken(token, s)).to.deep.equal(user);
	});

	it("carries no roles: what the caller may do is read from current data", () => {
		const s = settings();
		const claims = jwt.decode(signAccessToken(user, s)) as Record<string, unknown>;
		expect(claims).to.not.have.property("roles");
		expect(claims).to.include({ sub: user.userId, sid: user.sessionId });
	});

	it("rejects a well-signed token without an expiry", () => {
		const s = settings();
		const token = jwt.sign({ sid: user.sessionId }, s.jwtSecret, {
			algorithm: "HS256",
			issuer: s.jwtIssuer,
			audience: s.jwtAudience,
			subject: user.userId
		});
		expect(expectRejected(token, s)).to.equal("malformed");
	});

	it("rejects a well-signed token issued in the future", () => {
		const s = settings();
		const token = signAccessToken(user, s, new Date(Date.now() + 3600_000));
		expectRejected(token, s);
	});

	it("rejects a well-signed token without a session", () => {
		const s = settings();
		const token = jwt.sign({}, s.jwtSecret, { algorithm: "HS256", issuer: s.jwtIssuer, audience: s.jwtAudience, subject: user.userId, expiresIn: 600 });
		expect(expectRejected(token, s)).to.equal("malformed");
	});

	it("is still valid just before it expires", () => {
		const s = settings();
		const issued = new Date("2030-01-01T00:00:00Z");
		const token = signAccessToken(user, s, issued);
		const justBefore = new Date(issued.getTime() + (s.accessTokenTtlSeconds - 1) * 1000);
		expect(verifyAccessToken(token, s, justBefore).userId).to.equal(user.userId);
	});

	it("rejects an expired token with reason 'expired'", () => {
		const s = settings();
		const longAgo = new Date(Date.now() - (s.accessTokenTtlSeconds + 60) * 1000);
		const token = signAccessToken(user, s, longAgo);
		expect(expectRejected(token, s)).to.equal("expired");
	});

	it("rejects a token whose payload was changed (e.g. roles raised to admin)", () => {
		const s = settings();
		const [header, payload, signature] = signAccessToken(user, s).split(".");
		const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
		const forged = b64url({ ...claims, roles: ["customer", "admin"] });
		expectRejected(`${header}.${forged}.${signature}`, s);
	});

	it("rejects a token whose signature was changed", () => {
		const s = settings();
		const [header, payload, signature] = signAccessToken(user, s).split(".");
		const sig = Buffer.from(signature, "base64url");
		sig[0] ^= 0xff;
		expectRejected(`${header}.${payload}.${sig.toString("base64url")}`, s);
	});

	it("rejects a token signed with another secret", () => {
		const token = signAccessToken(user, settings());
		expectRejected(token, settings());
	});

	it("rejects a token issued by someone else", () => {
		const s = settings();
		const token = signAccessToken(user, { ...s, jwtIssuer: "evil-corp" });
		expectRejected(token, s);
	});

	it("rejects a token meant for another audience", () => {
		const s = settings();
		const token = signAccessToken(user, { ...s, jwtAudience: "other-api" });
		expectRejected(token, s);
	});

	it("rejects an unsigned token (alg: none)", () => {
		const s = settings();
		const now = Math.floor(Date.now() / 1000);
		const header = b64url({ alg: "none", typ: "JWT" });
		const payload = b64url({
			sub: user.userId,
			sid: user.sessionId,
			iss: s.jwtIssuer,
			aud: s.jwtAudience,
			iat: now,
			exp: now + 600
		});
		expectRejected(`${header}.${payload}.`, s);
	});

	it("rejects a token signed with the right secret but another algorithm (HS512)", () => {
		const s = settings();
		const token = jwt.sign({ sid: user.sessionId }, s.jwtSecret, {
			algorithm: "HS512",
			issuer: s.jwtIssuer,
			audience: s.jwtAudience,
			subject: user.userId,
			expiresIn: 600
		});
		expectRejected(token, s);
	});

	it("rejects a well-signed token whose subject is not a user id", () => {
		const s = settings();
		const token = jwt.sign({ sid: user.sessionId }, s.jwtSecret, {
			algorithm: "HS256",
			issuer: s.jwtIssuer,
			audience: s.jwtAudience,
			subject: "admin",
			expiresIn: 600
		});
		expectRejected(token, s);
	});

	it("rejects garbage", () => {
		expectRejected("not-a-token", settings());
	});
});

describe("refresh tokens", () => {
	it("issues a different token every time", () => {
		const a = newRefreshToken();
		const b = newRefreshToken();
		expect(a.token).to.not.equal(b.token);
		expect(a.hash).to.not.equal(b.hash);
	});

	it("stores a hash that can be recomputed from the token but is not the token", () => {
		const { token, hash } = newRefreshToken();
		expect(hashRefreshToken(token)).to.equal(hash);
		expect(hash).to.not.equal(token);
		expect(hashRefreshToken(token + "x")).to.not.equal(hash);
	});

	describe("judgeRefreshToken", () => {
		const now = new Date("2030-06-01T12:00:00Z");
		const later = new Date(now.getTime() + 3600_000);
		const earlier = new Date(now.getTime() - 3600_000);

		it("accepts a current, unused token", () => {
			expect(judgeRefreshToken({ expiresAt: later, revokedAt: null, replacedBy: null }, now)).to.equal("valid");
		});

		it("calls a token past its expiry expired", () => {
			expect(judgeRefreshToken({ expiresAt: earlier, revokedAt: null, replacedBy: null }, now)).to.equal("expired");
		});

		it("calls a token expiring exactly now expired", () => {
			expect(judgeRefreshToken({ expiresAt: now, revokedAt: null, replacedBy: null }, now)).to.equal("expired");
		});

		it("calls a revoked token revoked", () => {
			expect(judgeRefreshToken({ expiresAt: later, revokedAt: earlier, replacedBy: null }, now)).to.equal("revoked");
		});

		it("calls an already rotated token reused", () => {
			expect(judgeRefreshToken({ expiresAt: later, revokedAt: null, replacedBy: crypto.randomUUID() }, now)).to.equal("reused");
		});

		it("treats reuse as reuse even when the token was also revoked or expired", () => {
			expect(judgeRefreshToken({ expiresAt: later, revokedAt: earlier, replacedBy: crypto.randomUUID() }, now)).to.equal("reused");
			expect(judgeRefreshToken({ expiresAt: earlier, revokedAt: earlier, replacedBy: crypto.randomUUID() }, now)).to.equal("reused");
		});
	});
});

describe("login counters", () => {
	const rules = { maxFailures: 5, windowSeconds: 900, addressMaxFailures: 50, accountMaxFailures: 20 };

	it("counts per account and address, and per address, for an address the account knows", () => {
		const counters = loginCounters("Ana@Example.com", "203.0.113.7", true, rules);
		expect(counters.map(c => c.key).sort()).to.deep.equal(["account-address:ana@example.com|203.0.113.7", "address:203.0.113.7"]);
		expect(counters.find(c => c.key.startsWith("account-address"))!.max).to.equal(5);
	});

	it("also counts per account, progressively, from an address the account never signed in from", () => {
		const account = loginCounters("ana@example.com", "198.51.100.9", false, rules).find(c => c.key === "account:ana@example.com");
		expect(account).to.include({ max: 20, progressive: true });
	});

	it("takes the counters in one fixed order, whatever the call", () => {
		const keys = loginCounters("zed@example.com", "10.0.0.1", false, rules).map(c => c.key);
		expect(keys).to.deep.equal([...keys].sort());
	});

	it("spaces attempts past the progressive limit further and further apart, at most a window", () => {
		expect(progressiveDelaySeconds(19, 20, 900)).to.equal(0);
		expect(progressiveDelaySeconds(20, 20, 900)).to.equal(2);
		expect(progressiveDelaySeconds(23, 20, 900)).to.equal(16);
		expect(progressiveDelaySeconds(40, 20, 900)).to.equal(900);
	});
});
