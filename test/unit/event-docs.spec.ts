import fs from "node:fs";
import path from "node:path";
import { Parser } from "@asyncapi/parser";
import { expect } from "chai";
import { generatedAsyncApi, generatedReadme } from "../../app/docs";
import { EVENT_ROUTES } from "../../app/services";
import { projectRoot } from "../../lib/paths";

const root = projectRoot();

describe("the event documents", () => {
	it("describe every reliable event in a valid AsyncAPI 3.0 document", async () => {
		const { document, diagnostics } = await new Parser().parse(generatedAsyncApi());
		const errors = diagnostics.filter(d => d.severity === 0).map(d => `${d.path.join(".")}: ${d.message}`);
		expect(errors).to.deep.equal([]);
		expect(document).to.not.equal(undefined);
		const channels = document!
			.channels()
			.all()
			.map(c => c.address());
		expect(channels).to.include.members(["order.created", "order.paymentRequested", "inventory.reserved", "payment.refunded", "identity.emailVerified"]);
		for (const [event, consumers] of Object.entries(EVENT_ROUTES)) {
			const ops = document!
				.operations()
				.all()
				.filter(o =>
					o
						.channels()
						.all()
						.some(c => c.address() === event)
				);
			expect(
				ops.filter(o => o.action() === "send"),
				event
			).to.have.length(1);
			expect(
				ops.filter(o => o.action() === "receive").map(o => o.id()!.split(".receive.")[0]),
				event
			).to.have.members([...consumers]);
		}
		const token = document!
			.messages()
			.all()
			.find(m => m.name() === "order.paymentRequested")!
			.payload()!
			.properties()!
			.data.properties()!.paymentToken;
		expect(token.description()).to.match(/^Secret/);
	});

	it("are the ones in the repository (regenerate with npm run docs)", () => {
		expect(fs.readFileSync(path.join(root, "docs", "asyncapi.json"), "utf8")).to.equal(generatedAsyncApi());
		const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
		expect(readme).to.equal(generatedReadme(readme));
		expect(readme).to.contain('order -- "order.paymentRequested<br/>order.cancelled" --> payment');
	});
});
