import { expect } from "chai";
import { ProviderUnavailableError, SimulatedProvider, createProvider, type ChargeRequest } from "../../../services/payment/payment.provider";

const charge = (over: Partial<ChargeRequest> = {}): ChargeRequest => ({
	idempotencyKey: `order:${Math.random()}`,
	amountCents: 5000,
	currency: "BRL",
	token: "tok_visa",
	description: "Order test",
	...over
});

async function failure(p: Promise<unknown>): Promise<Error> {
	try {
		await p;
	} catch (err) {
		return err as Error;
	}
	throw new Error("expected the request to fail");
}

describe("SimulatedProvider", () => {
	describe("test tokens", () => {
		for (const token of ["tok_visa", "tok_mastercard"]) {
			it(`charges ${token}`, async () => {
				const outcome = await new SimulatedProvider().charge(charge({ token }));
				expect(outcome.status).to.equal("SUCCEEDED");
				expect(outcome.declineCode).to.equal(undefined);
				expect(outcome.providerRef).to.match(/^ch_sim_/);
			});
		}

		for (const [token, declineCode] of [
			["tok_chargeDeclined", "card_declined"],
			["tok_insufficientFunds", "insufficient_funds"],
			["tok_unknown", "invalid_token"],
			["", "invalid_token"],
			["toString", "invalid_token"],
			["__proto__", "invalid_token"]
		]) {
			it(`declines ${JSON.stringify(token)} as ${declineCode}`, async () => {
				const outcome = await new SimulatedProvider().charge(charge({ token }));
				expect(outcome).to.include({ status: "DECLINED", declineCode });
			});
		}
	});

	describe("idempotency", () => {
		it("charges once per idempotency key and answers the first result to a repeat, whatever the repeat carries", async () => {
			const provider = new SimulatedProvider();
			const first = await provider.charge(charge({ idempotencyKey: "order:1" }));
			const again = await provider.charge(charge({ idempotencyKey: "order:1", token: "tok_chargeDeclined", amountCents: 1 }));
			expect(again).to.deep.equal(first);
			expect(provider.stats).to.include({ chargeRequests: 2, charges: 1 });
		});

		it("charges once when many requests with one key arrive together, even with latency", async () => {
			const provider = new SimulatedProvider({ latencyMs: 20 });
			const outcomes = await Promise.all(Array.from({ length: 10 }, () => provider.charge(charge({ idempotencyKey: "order:same" }))));
			expect(new Set(outcomes.map(o => o.providerRef)).size).to.equal(1);
			expect(provider.stats).to.include({ chargeRequests: 10, charges: 1 });
		});

		it("keeps a declined result for its key too", async () => {
			const provider = new SimulatedProvider();
			const first = await provider.charge(charge({ idempotencyKey: "order:d", token: "tok_chargeDeclined" }));
			expect(await provider.charge(charge({ idempotencyKey: "order:d", token: "tok_visa" }))).to.deep.equal(first);
			expect(provider.stats.charges).to.equal(1);
		});

		it("treats different keys as different charges", async () => {
			const provider = new SimulatedProvider();
			const a = await provider.charge(charge({ idempotencyKey: "order:a" }));
			const b = await provider.charge(charge({ idempotencyKey: "order:b" }));
			expect(a.providerRef).to.not.equal(b.providerRef);
			expect(provider.stats.charges).to.equal(2);
		});

		it("refunds a succeeded charge once per key", async () => {
			const provider = new SimulatedProvider();
			const { providerRef } = await provider.charge(charge({ idempotencyKey: "order:r" }));
			const [first, second] = await Promise.all([
				provider.refund({ idempotencyKey: "refund:r", providerRef, amountCents: 5000 }),
				provider.refund({ idempotencyKey: "refund:r", providerRef, amountCents: 5000 })
			]);
			expect(first.refundRef).to.match(/^re_sim_/);
			expect(second).to.deep.equal(first);
			expect(provider.stats).to.include({ refundRequests: 2, refunds: 1 });
		});

		it("refuses to refund a declined or unknown charge, or more than was charged", async () => {
			const provider = new SimulatedProvider();
			const declined = await provider.charge(charge({ token: "tok_chargeDeclined" }));
			const ok = await provider.charge(charge());
			for (const req of [
				{ idempotencyKey: "refund:1", providerRef: declined.providerRef, amountCents: 5000 },
				{ idempotencyKey: "refund:2", providerRef: "ch_sim_nope", amountCents: 5000 },
				{ idempotencyKey: "refund:3", providerRef: ok.providerRef, amountCents: 5001 }
			]) {
				const err = await failure(provider.refund(req));
				expect(err).to.not.be.instanceOf(ProviderUnavailableError);
			}
			expect(provider.stats.refunds).to.equal(0);
		});
	});

	describe("fault injection", () => {
		it("fails with a retryable ProviderUnavailableError at the configured rate, charging nothing", async () => {
			const provider = new SimulatedProvider({ failureRate: 0.5, random: () => 0.4 });
			const err = await failure(provider.charge(charge({ idempotencyKey: "order:f" })));
			expect(err).to.be.instanceOf(ProviderUnavailableError);
			expect((err as ProviderUnavailableError).retryable).to.equal(true);
			expect(provider.stats).to.include({ chargeRequests: 1, charges: 0 });
		});

		it("succeeds when the draw is above the failure rate, and a retry after a fault charges once", async () => {
			let draw = 0;
			const provider = new SimulatedProvider({ failureRate: 0.5, random: () => [0.1, 0.9, 0.9][draw++] });
			await failure(provider.charge(charge({ idempotencyKey: "order:retry" })));
			const first = await provider.charge(charge({ idempotencyKey: "order:retry" }));
			const second = await provider.charge(charge({ idempotencyKey: "order:retry" }));
			expect(first.status).to.equal("SUCCEEDED");
			expect(second).to.deep.equal(first);
			expect(provider.stats).to.include({ chargeRequests: 3, charges: 1 });
		});

		it("fails refunds transiently too, refunding nothing", async () => {
			let failing = false;
			const provider = new SimulatedProvider({ failureRate: 1, random: () => (failing ? 0 : 1) });
			const { providerRef } = await provider.charge(charge());
			failing = true;
			expect(await failure(provider.refund({ idempotencyKey: "refund:x", providerRef, amountCents: 5000 }))).to.be.instanceOf(ProviderUnavailableError);
			expect(provider.stats.refunds).to.equal(0);
		});

		it("never fails at rate 0 and always fails at rate 1", async () => {
			const never = new SimulatedProvider({ failureRate: 0 });
			for (let i = 0; i < 20; i++) await never.charge(charge());
			const always = new SimulatedProvider({ failureRate: 1 });
			for (let i = 0; i < 5; i++) expect(await failure(always.charge(charge()))).to.be.instanceOf(ProviderUnavailableError);
		});

		it("adds the configured latency", async () => {
			const provider = new SimulatedProvider({ latencyMs: 30 });
			const start = Date.now();
			await provider.charge(charge());
			expect(Date.now() - start).to.be.at.least(25);
		});

		it("is what the configuration builds by default", async () => {
			const provider = createProvider({ provider: "simulated", latencyMs: 0, failureRate: 0 });
			expect(provider).to.be.instanceOf(SimulatedProvider);
		});
	});
});
