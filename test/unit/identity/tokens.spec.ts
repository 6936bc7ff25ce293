import crypto from "node:crypto";
import { expect } from "chai";
import jwt from "jsonwebtoken";
import {
	hashRefreshToken,
	judgeRefreshToken,
	loginRetryAfter,
	newRefreshToken,
	signAccessToken,
	verifyAccessToken,
	type TokenSettings
} from "../../../services/identity/identity.tokens";
import type { AuthUser } from "../../../services/identity/identity.types";

const settings = (): TokenSettings => ({
	jwtSecret: crypto.randomBytes(32).toString("hex"),
	jwtIssuer: "momentum",
	jwtAudience: "momentum-api",
	accessTokenTtlSeconds: 900,
	refreshTokenTtlSeconds: 3600
});

const user: AuthUser = { id: crypto.randomUUID(), email: "ana@example.com", roles: ["customer"] };

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
	it("verifies a token it signed and returns the caller", () => {
		const s = settings();
		const token = signAccessToken(user, s);
		expect(verifyAccessToken(token, s)).to.deep.equal(user);
	});

	it("keeps every role of the caller", () => {
		const s = settings();
		const admin: AuthUser = { ...user, roles: ["customer", "admin"] };
		expect(verifyAccessToken(signAccessToken(admin, s), s).roles).to.deep.equal(["customer", "admin"]);
	});

	it("is still valid just before it expires", () => {
		const s = settings();
		const issued = new Date("2030-01-01T00:00:00Z");
		const token = signAccessToken(user, s, issued);
		const justBefore = new Date(issued.getTime() + (s.accessTokenTtlSeconds - 1) * 1000);
		expect(verifyAccessToken(token, s, justBefore).id).to.equal(user.id);
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
			sub: user.id,
			email: user.email,
			roles: ["customer", "admin"],
			iss: s.jwtIssuer,
			aud: s.jwtAudience,
			iat: now,
			exp: now + 600
		});
		expectRejected(`${header}.${payload}.`, s);
	});

	it("rejects a token signed with the right secret but another algorithm (HS512)", () => {
		const s = settings();
		const token = jwt.sign({ email: user.email, roles: user.roles }, s.jwtSecret, {
			algorithm: "HS512",
			issuer: s.jwtIssuer,
			audience: s.jwtAudience,
			subject: user.id,
			expiresIn: 600
		});
		expectRejected(token, s);
	});

	it("rejects a well-signed token with an unknown role", () => {
		const s = settings();
		const token = jwt.sign({ email: user.email, roles: ["superuser"] }, s.jwtSecret, {
			algorithm: "HS256",
			issuer: s.jwtIssuer,
			audience: s.jwtAudience,
			subject: user.id,
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

describe("loginRetryAfter", () => {
	const rule = { maxFailures: 5, windowSeconds: 900 };
	const start = new Date("2030-06-01T12:00:00Z");
	const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);

	it("lets a caller without failures try", () => {
		expect(loginRetryAfter(undefined, rule, start)).to.equal(0);
	});

	it("lets a caller below the limit try", () => {
		expect(loginRetryAfter({ failures: rule.maxFailures - 1, windowStartedAt: start }, rule, at(10))).to.equal(0);
	});

	it("makes a caller at the limit wait for the rest of the window", () => {
		expect(loginRetryAfter({ failures: rule.maxFailures, windowStartedAt: start }, rule, at(100))).to.equal(rule.windowSeconds - 100);
	});

	it("rounds a partial second up so the caller never retries too early", () => {
		const now = new Date(start.getTime() + 100_500);
		expect(loginRetryAfter({ failures: rule.maxFailures, windowStartedAt: start }, rule, now)).to.equal(rule.windowSeconds - 100);
	});

	it("lets the caller try again once the window has passed", () => {
		const record = { failures: rule.maxFailures + 3, windowStartedAt: start };
		expect(loginRetryAfter(record, rule, at(rule.windowSeconds))).to.equal(0);
		expect(loginRetryAfter(record, rule, at(rule.windowSeconds + 60))).to.equal(0);
	});
});
