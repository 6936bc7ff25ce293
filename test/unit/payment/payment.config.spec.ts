import { expect } from "chai";
import { configProblems as problems, loadTestConfig as load } from "../../support/config";

describe("payment configuration", () => {
	it("uses the simulated provider with no latency and no faults by default", () => {
		expect(load({}).payment).to.deep.equal({ provider: "simulated", latencyMs: 0, failureRate: 0 });
	});

	it("reads the simulator's latency and failure rate", () => {
		expect(load({ PAYMENT_SIM_LATENCY_MS: "250", PAYMENT_SIM_FAILURE_RATE: "0.25" }).payment).to.include({ latencyMs: 250, failureRate: 0.25 });
		expect(load({ PAYMENT_SIM_FAILURE_RATE: "1" }).payment.failureRate).to.equal(1);
	});

	for (const rate of ["1.5", "-0.1", "abc", "0.5x", "NaN"]) {
		it(`reports a PAYMENT_SIM_FAILURE_RATE of "${rate}"`, () => {
			expect(problems({ PAYMENT_SIM_FAILURE_RATE: rate }).join()).to.match(/PAYMENT_SIM_FAILURE_RATE must be a number from 0 to 1/);
		});
	}

	it("reports a latency that is not a whole number of milliseconds", () => {
		expect(problems({ PAYMENT_SIM_LATENCY_MS: "fast" }).join()).to.match(/PAYMENT_SIM_LATENCY_MS/);
		expect(problems({ PAYMENT_SIM_LATENCY_MS: "600000" }).join()).to.match(/PAYMENT_SIM_LATENCY_MS/);
	});
});
