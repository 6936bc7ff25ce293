import { expect } from "chai";
import { Bulkhead } from "../../../lib/bulkhead";

/** Work that ends when the test says so. */
function gate() {
	let open!: () => void;
	const opened = new Promise<void>(resolve => (open = resolve));
	return { open, work: () => opened };
}

describe("bulkhead", () => {
	it("runs at most maxInFlight at once, queues maxQueue and refuses the rest with 503 SERVER_BUSY", async () => {
		const b = new Bulkhead(2, 1);
		const g = gate();
		const running = [b.run(g.work), b.run(g.work), b.run(g.work)];
		expect(b.inFlight).to.equal(2);
		expect(b.queued).to.equal(1);
		const refused = await b.run(g.work).catch((e: { code?: number; type?: string; data?: unknown }) => e);
		expect(refused).to.include({ code: 503, type: "SERVER_BUSY" });
		expect((refused as { data: unknown }).data).to.deep.equal({ retryAfter: 1 });
		g.open();
		await Promise.all(running);
		expect(b.inFlight).to.equal(0);
		expect(b.queued).to.equal(0);
	});

	it("gives a free slot to priority work first, and keeps a queue for it while the ordinary one is full", async () => {
		const b = new Bulkhead(1, 1);
		const order: string[] = [];
		const first = gate();
		const busy = b.run(first.work);
		const ordinary = b.run(async () => void order.push("ordinary"));
		await b.run(async () => undefined).catch(() => order.push("refused"));
		const priority = b.run(async () => void order.push("priority"), true);
		first.open();
		await Promise.all([busy, ordinary, priority]);
		expect(order).to.deep.equal(["refused", "priority", "ordinary"]);
	});

	it("frees its slot when the work fails", async () => {
		const b = new Bulkhead(1, 0);
		await b.run(() => Promise.reject(new Error("boom"))).catch(() => undefined);
		expect(await b.run(async () => "ran")).to.equal("ran");
	});
});
