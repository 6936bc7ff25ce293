import { expect } from "chai";
import { hashLinkToken, judgeLinkToken, MAIL_LIMITS, mailRetryAfter, newLinkToken, sameEmail } from "../../../services/identity/identity.account-rules";
import { accountCounterKeys, loginCounters } from "../../../services/identity/identity.tokens";

describe("account lifecycle rules", () => {
	describe("link tokens", () => {
		it("are 256 random bits in URL-safe text, kept only as their SHA-256", () => {
			const a = newLinkToken();
			const b = newLinkToken();
			expect(a.token).to.match(/^[A-Za-z0-9_-]{43}$/);
			expect(a.token).not.to.equal(b.token);
			expect(a.hash)
				.to.match(/^[0-9a-f]{64}$/)
				.and.to.equal(hashLinkToken(a.token));
			expect(a.hash).not.to.contain(a.token);
		});

		it("work once, and not from the moment they expire", () => {
			const now = new Date("2030-01-01T12:00:00Z");
			expect(judgeLinkToken({ expiresAt: new Date("2030-01-01T12:00:01Z"), usedAt: null }, now)).to.equal("valid");
			expect(judgeLinkToken({ expiresAt: new Date("2030-01-01T12:00:00Z"), usedAt: null }, now)).to.equal("expired");
			expect(judgeLinkToken({ expiresAt: new Date("2030-01-02T00:00:00Z"), usedAt: new Date("2030-01-01T11:00:00Z") }, now)).to.equal("used");
		});
	});

	describe("mail limits", () => {
		it("lets the first link go at once", () => {
			expect(mailRetryAfter([])).to.equal(0);
		});

		it("waits a minute after the last link", () => {
			expect(mailRetryAfter([0.2])).to.equal(60);
			expect(mailRetryAfter([45.5])).to.equal(15);
			expect(mailRetryAfter([60])).to.equal(0);
		});

		it("lets five through an hour, then waits until the oldest of them leaves the hour", () => {
			expect(mailRetryAfter([61, 200, 300, 400])).to.equal(0);
			expect(mailRetryAfter([61, 200, 300, 400, 3000])).to.equal(600);
			expect(mailRetryAfter([61, 200, 300, 400, 3600])).to.equal(0);
			expect(MAIL_LIMITS).to.deep.equal({ minIntervalSeconds: 60, maxPerWindow: 5, windowSeconds: 3600 });
		});
	});

	it("treats e-mail addresses that differ only in case as one", () => {
		expect(sameEmail("Ana@Example.com", "ana@example.com")).to.equal(true);
		expect(sameEmail("ana@example.com", "ana@example.org")).to.equal(false);
	});

	it("names the login counters of one account, and no other account's", () => {
		const keys = accountCounterKeys("A_b@Example.com");
		const rules = { maxFailures: 5, windowSeconds: 900, addressMaxFailures: 50, accountMaxFailures: 20 };
		const own = loginCounters("a_b@example.com", "10.0.0.1", false, rules).map(c => c.key);
		expect(own).to.include(keys.account);
		expect(own.filter(k => k.startsWith(keys.accountAddressPrefix))).to.have.length(1);
		const other = loginCounters("aXb@example.com", "10.0.0.1", false, rules).map(c => c.key);
		expect(other.some(k => k === keys.account || k.startsWith(keys.accountAddressPrefix))).to.equal(false);
	});
});
