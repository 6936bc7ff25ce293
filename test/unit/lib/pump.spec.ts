import { expect } from "chai";
import { Pump } from "../../../lib/pump";
import { eventually } from "../../support/eventually";

describe("Pump", () => {
	it("backs off after failed passes, ignoring kicks meanwhile, and resets once a pass works", async () => {
		const calls: number[] = [];
		let failing = true;
		const errors: unknown[] = [];
		const pump = new Pump(
			async () => {
				calls.push(Date.now());
				if (failing) throw new Error("database down");
			},
			20,
			err => errors.push(err)
		);
		pump.start();
		try {
			await eventually(() => expect(calls).to.have.length(1));
			await eventually(() => expect(errors).to.have.length(1));
			// kicks while backing off run nothing
			for (let i = 0; i < 5; i++) pump.kick();
			expect(calls).to.have.length(1);
			await eventually(() => expect(calls.length).to.be.at.least(3), 5000, 5);
			// each wait at least twice the poll interval, growing
			expect(calls[1] - calls[0]).to.be.at.least(40);
			expect(calls[2] - calls[1]).to.be.at.least(80);
			failing = false;
			await eventually(() => expect(errors.length).to.equal(calls.length - 1), 5000, 5);
			const worked = calls.length;
			pump.kick();
			await eventually(() => expect(calls.length).to.be.greaterThan(worked), 1000, 5);
		} finally {
			await pump.stop();
		}
	});
});
