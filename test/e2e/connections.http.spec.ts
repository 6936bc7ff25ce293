import http from "node:http";
import { expect } from "chai";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** What the gateway tells a client (or a load balancer) about its connections. */
describe("HTTP connections", () => {
	let db: TestDatabase;
	let shop: RunningShop;

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "gateway,catalog" }));
	});
	after(async () => {
		await shop?.stop().catch(() => undefined);
		await db?.drop();
	});

	/** Two requests on one kept-alive connection: the answers' Keep-Alive headers and the local ports they used. */
	async function twoOnOneConnection(): Promise<{ keepAlive: (string | undefined)[]; ports: number[] }> {
		const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
		const url = new URL("/health/live", shop.baseUrl);
		const one = () =>
			new Promise<{ keepAlive?: string; port: number }>((resolve, reject) => {
				const req = http.get(url, { agent }, res => {
					res.resume();
					res.on("end", () => resolve({ keepAlive: String(res.headers["keep-alive"]), port: req.socket!.localPort! }));
				});
				req.on("error", reject);
			});
		try {
			const first = await one();
			const second = await one();
			return { keepAlive: [first.keepAlive, second.keepAlive], ports: [first.port, second.port] };
		} finally {
			agent.destroy();
		}
	}

	it("keeps an idle connection 65 s (above a load balancer's 60 s idle timeout) and says so", async () => {
		const { keepAlive, ports } = await twoOnOneConnection();
		expect(keepAlive).to.deep.equal(["timeout=65", "timeout=65"]);
		// the second request went over the first one's connection
		expect(ports[1]).to.equal(ports[0]);
	});
});
