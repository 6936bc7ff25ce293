import { expect } from "chai";
import type { ServiceSchema } from "moleculer";
import type { AppConfig } from "../../app/config";
import { defineEvents, subscriptions, type IncomingEnvelope } from "../../lib/events";
import { ReliableEventsMixin } from "../../lib/mixins/reliable-events.mixin";
import { adminToken, newCustomer } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { until } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

const EVENT = "test.deadLetterWanted";
const testEvents = defineEvents<{ [EVENT]: { n: number; ref: string } }>("test", {
	[EVENT]: {
		summary: "A test fact.",
		correlateBy: "ref",
		schema: { type: "object", properties: { n: { type: "integer" }, ref: { type: "string" } }, required: ["n", "ref"] }
	}
});

describe("REST dead letters (admin)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let broken = true;
	const handled: number[] = [];

	/** A consumer whose handler fails until it is "fixed". */
	const wanted = subscriptions<unknown>("order").on(testEvents, {
		async [EVENT](event) {
			if (broken) throw new Error("the handler is broken");
			handled.push(event.data.n);
		}
	});
	const consumer = (config: AppConfig): ServiceSchema => ({
		name: "order",
		mixins: [ReliableEventsMixin({ service: "order", config: config.events, database: config.database, migrations: [], subscriptions: wanted, routes: {} })]
	});

	before(async () => {
		db = await createTestDatabase();
		const config = testConfig(db, {
			SERVICES: "gateway,identity",
			EVENT_POLL_MS: "50",
			EVENT_MAX_ATTEMPTS: "2",
			EVENT_RETRY_BASE_MS: "10",
			EVENT_RETRY_MAX_MS: "20"
		});
		shop = await startShop(config, [consumer(config)]);
		request = httpClient(shop.baseUrl);
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("lists dead letters for admins only, and replays one once the fault is fixed", async () => {
		const envelope: IncomingEnvelope<{ n: number; ref: string }> = {
			id: "7d4c1f0e-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
			event: EVENT,
			source: "test",
			occurredAt: new Date().toISOString(),
			data: { n: 42, ref: "r42" }
		};
		await shop.broker.emit(EVENT, envelope, { groups: ["order"] });

		const admin = await adminToken(request);
		const list = await until(
			"the dead letter to be listed",
			() => request("GET", "/api/admin/dead-letters", { token: admin }),
			l => l.body.items?.length !== 0
		);
		expect(list.status).to.equal(200);
		expect(list.body.items).to.have.length(1);
		expect(list.body.items[0]).to.include({ id: `order:${envelope.id}`, service: "order", event: EVENT, attempts: 2, lastError: "the handler is broken" });

		const customer = await newCustomer(request);
		expect((await request("GET", "/api/admin/dead-letters", { token: customer.token })).status).to.equal(403);
		expect((await request("GET", "/api/admin/dead-letters")).status).to.equal(401);
		expect((await request("POST", `/api/admin/dead-letters/order:${envelope.id}/replay`, { token: customer.token })).status).to.equal(403);

		expect((await request("POST", "/api/admin/dead-letters/not-an-id/replay", { token: admin })).status).to.equal(422);
		expect((await request("POST", "/api/admin/dead-letters/order:00000000-0000-4000-8000-000000000000/replay", { token: admin })).status).to.equal(404);

		broken = false;
		const replay = await request("POST", `/api/admin/dead-letters/order:${envelope.id}/replay`, { token: admin });
		expect(replay.status).to.equal(200);
		await until(
			"the replayed event to be handled",
			() => handled,
			h => h.length > 0
		);
		expect(handled).to.deep.equal([42]);
		expect((await request("GET", "/api/admin/dead-letters", { token: admin })).body.items).to.deep.equal([]);
	});
});
