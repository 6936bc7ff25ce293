import crypto from "node:crypto";
import { expect } from "chai";
import type { Context, Service, ServiceSchema } from "moleculer";
import type { AppConfig } from "../../app/config";
import { defineEvents, routesFrom, subscriptions, type EventEnvelope, type IncomingEnvelope } from "../../lib/events";
import type { DbThis } from "../../lib/mixins/db.mixin";
import { ReliableEventsMixin, type ReliableEventsThis } from "../../lib/mixins/reliable-events.mixin";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { until } from "../support/eventually";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/**
 * The outbox / inbox machinery on its own, with two stand-in services on a real PostgreSQL: a producer
 * ("order") that writes facts in its transactions, and a consumer ("payment") whose handler records an
 * effect. Several brokers share the Fake transporter, as nodes of one cluster would.
 */

const EVENT = "test.happened";
interface TestEvents {
	[EVENT]: { n: number; label: string };
}
/** The stand-in producer's contract; `n` correlates its events. */
const testEvents = defineEvents<TestEvents>("order", {
	[EVENT]: {
		summary: "Something happened (a test fact).",
		correlateBy: "label",
		schema: { type: "object", properties: { n: { type: "integer" }, label: { type: "string" } }, required: ["n", "label"] }
	}
});
type Svc = Service & DbThis & ReliableEventsThis<TestEvents>;

/** How the consumer's handler behaves for a given `n`: fail this many times first, or always. */
const failures = new Map<number, number | "always">();
/** For a given `n`, the handler waits for this before it returns (a slow handler, a held one). */
const holds = new Map<number, Promise<unknown>>();
/** The `n`s whose handler has started. */
const entered = new Set<number>();

function producer(config: AppConfig): ServiceSchema {
	return {
		name: "order",
		mixins: [ReliableEventsMixin({ service: "order", config: config.events, database: config.database, migrations: [], produces: testEvents, routes })],
		actions: {
			happen: {
				params: {
					n: "number",
					label: { type: "string", optional: true },
					rollback: { type: "boolean", optional: true },
					publish: { type: "boolean", optional: true }
				},
				async handler(this: Svc, ctx: Context<{ n: number; label?: string; rollback?: boolean }>) {
					await this.db
						.transaction(async t => {
							await this.outbox.add(t, EVENT, { n: ctx.params.n, label: ctx.params.label ?? `n${ctx.params.n}` });
							if (ctx.params.rollback) throw new Error("rolled back on purpose");
						})
						.catch(err => {
							if (!ctx.params.rollback) throw err;
						});
				}
			}
		}
	} as unknown as ServiceSchema;
}

/** The consumer's handler: the effect is written first, so when the handler then fails it must be undone. */
const consumerSubscriptions = subscriptions<Svc>("payment").on(testEvents, {
	async [EVENT](event, t) {
		await this.db.execute("INSERT INTO effects (event_id, n) VALUES ($1, $2)", [event.id, event.data.n], t);
		entered.add(event.data.n);
		await holds.get(event.data.n);
		const left = failures.get(event.data.n);
		if (left === "always") throw new Error(`handler for ${event.data.n} always fails`);
		if (left && left > 0) {
			failures.set(event.data.n, left - 1);
			throw new Error(`handler for ${event.data.n} fails ${left} more time(s)`);
		}
	}
});

/** Who must receive the test event: the consumer, once it subscribes (some tests run without one). */
let routes = routesFrom([]);

function consumer(config: AppConfig): ServiceSchema {
	return {
		name: "payment",
		mixins: [
			ReliableEventsMixin({
				service: "payment",
				config: config.events,
				database: config.database,
				migrations: [{ name: "test-0001-effects", up: ({ sql }) => sql("CREATE TABLE effects (seq bigserial, event_id uuid, n integer)") }],
				subscriptions: consumerSubscriptions,
				routes
			})
		],
		actions: {
			effects: {
				async handler(this: Svc) {
					return this.db.query<{ event_id: string; n: number }>("SELECT event_id, n FROM effects ORDER BY n");
				}
			},
			/** The effects in the order the handler had them. */
			effectsInOrder: {
				async handler(this: Svc) {
					return (await this.db.query<{ n: number }>("SELECT n FROM effects ORDER BY seq")).map(r => r.n);
				}
			},
			inboxStatus: {
				params: { eventId: "string" },
				async handler(this: Svc, ctx: Context<{ eventId: string }>) {
					return this.inbox.status(ctx.params.eventId);
				}
			}
		}
	} as unknown as ServiceSchema;
}

describe("reliable events (outbox, inbox, retries, dead letters)", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	const running: RunningShop[] = [];
	const config = (env: Record<string, string> = {}) =>
		testConfig(db, {
			SERVICES: "",
			TRANSPORTER: "Fake",
			EVENT_POLL_MS: "50",
			EVENT_MAX_ATTEMPTS: "3",
			EVENT_RETRY_BASE_MS: "20",
			EVENT_RETRY_MAX_MS: "100",
			...env
		});
	const node = async (...schemas: ((c: AppConfig) => ServiceSchema)[]) => nodeWith({}, ...schemas);
	const nodeWith = async (env: Record<string, string>, ...schemas: ((c: AppConfig) => ServiceSchema)[]) => {
		const c = config(env);
		const shop = await startShop(
			c,
			schemas.map(s => s(c))
		);
		running.push(shop);
		return shop;
	};
	const effects = (shop: RunningShop) => shop.broker.call<{ event_id: string; n: number }[]>("payment.effects");
	/**
	 * Waits until nothing more can happen: every fact the producer committed has been handed over and every
	 * event the consumer took in is handled (the consumers share one database). A second effect, had there
	 * been one coming, is written by then.
	 */
	const settled = (consumerNode: RunningShop, producerNode?: RunningShop) =>
		until(
			"the outbox and the inbox to have nothing left",
			async () => {
				const payment = consumerNode.broker.getLocalService("payment") as Svc;
				const [inbox] = await payment.db.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox WHERE status = 'PENDING'");
				const outbox = producerNode ? await (producerNode.broker.getLocalService("order") as Svc).outbox.pending() : 0;
				return { inbox: inbox.n, outbox };
			},
			left => left.inbox === 0 && left.outbox === 0
		);

	before(async () => {
		db = await createTestDatabase();
		routes = routesFrom([consumerSubscriptions]);
	});
	afterEach(async () => {
		await Promise.all(running.splice(0).map(s => s.stop()));
	});
	after(async () => {
		routes = routesFrom([]);
		await db?.drop();
	});

	it("publishes a fact only when its transaction commits, and the consumer has its effect once", async () => {
		const shop = await node(producer, consumer);
		await shop.broker.call("order.happen", { n: 1, rollback: true });
		await shop.broker.call("order.happen", { n: 2 });
		const rows = await until(
			"the committed fact's effect",
			() => effects(shop),
			r => r.length >= 1
		);
		await settled(shop, shop);
		expect((await effects(shop)).map(r => r.n)).to.deep.equal([2]);
		expect(rows).to.have.length(1);
	});

	it("gives the same event delivered twice one effect", async () => {
		const shop = await node(consumer);
		const envelope: IncomingEnvelope<{ n: number; label: string }> = {
			id: "0b9f2c1e-6f2a-4c53-9d3e-2a4b5c6d7e80",
			event: EVENT,
			source: "test",
			occurredAt: new Date().toISOString(),
			data: { n: 3, label: "n3" }
		};
		await shop.broker.emit(EVENT, envelope);
		await shop.broker.emit(EVENT, envelope);
		await until(
			"the event to be handled",
			() => shop.broker.call("payment.inboxStatus", { eventId: envelope.id }),
			s => s === "HANDLED"
		);
		await settled(shop);
		expect((await effects(shop)).filter(r => r.n === 3)).to.have.length(1);
	});

	it("retries a failing handler with backoff and keeps only the successful attempt's effect", async () => {
		failures.set(4, 2);
		const shop = await node(producer, consumer);
		await shop.broker.call("order.happen", { n: 4 });
		const rows = await until(
			"the effect of event 4",
			() => effects(shop),
			r => r.some(e => e.n === 4)
		);
		expect(rows.filter(r => r.n === 4)).to.have.length(1);
		expect(failures.get(4)).to.equal(0);
	});

	it("dead-letters an event that always fails, and its replay completes it", async () => {
		failures.set(5, "always");
		const shop = await node(producer, consumer);
		await shop.broker.call("order.happen", { n: 5 });
		const dead = await until(
			"the dead letter",
			() => shop.broker.call<{ eventId: string; attempts: number; lastError: string; payload: EventEnvelope<{ n: number }> }[]>("payment.deadLetters"),
			d => d.length > 0
		);
		expect(dead).to.have.length(1);
		expect(dead[0].attempts).to.equal(3);
		expect(dead[0].lastError).to.contain("always fails");
		expect(dead[0].payload.data).to.deep.equal({ n: 5, label: "n5" });
		expect((await effects(shop)).filter(r => r.n === 5)).to.have.length(0);

		failures.delete(5); // the fault is fixed
		expect(await shop.broker.call("payment.replayDeadLetter", { eventId: dead[0].eventId })).to.deep.equal({ replayed: true });
		await until(
			"the replayed event's effect",
			() => effects(shop),
			r => r.some(e => e.n === 5)
		);
		expect(await shop.broker.call("payment.deadLetters")).to.deep.equal([]);
	});

	it("delivers a committed fact after a restart when the process stopped before publishing it", async () => {
		const c = config();
		const shop = await startShop(c, [producer(c)]);
		// stop the relay, as if the process died right after the commit
		const order = shop.broker.getLocalService("order") as Svc;
		await order.outbox.stop();
		await shop.broker.call("order.happen", { n: 6 });
		expect(await order.outbox.pending()).to.equal(1);
		await shop.stop();

		const consumerNode = await node(consumer);
		await node(producer);
		const rows = await until(
			"the effect of event 6",
			() => effects(consumerNode),
			r => r.some(e => e.n === 6)
		);
		expect(rows.filter(r => r.n === 6)).to.have.length(1);
	});

	it("keeps an event while every instance of its consumer is down, and delivers it when one comes back", async () => {
		const producerNode = await node(producer);
		const order = producerNode.broker.getLocalService("order") as Svc;
		// the relay's passes run one at a time: once a pass begun after the commit has ended, the fact was tried
		const passes = { begun: 0, ended: 0 };
		const relay = order.outbox.relay.bind(order.outbox);
		order.outbox.relay = async (...args) => {
			const pass = ++passes.begun;
			try {
				return await relay(...args);
			} finally {
				passes.ended = pass;
			}
		};
		await producerNode.broker.call("order.happen", { n: 7 });
		const committed = passes.begun;
		await until(
			"a relay pass begun after the commit",
			() => passes.ended,
			ended => ended > committed
		);
		expect(await order.outbox.pending()).to.equal(1);

		const consumerNode = await node(consumer);
		const rows = await until(
			"the effect of event 7",
			() => effects(consumerNode),
			r => r.some(e => e.n === 7)
		);
		expect(rows.filter(r => r.n === 7)).to.have.length(1);
		expect(
			await until(
				"the outbox to empty",
				() => order.outbox.pending(),
				n => n === 0
			)
		).to.equal(0);
	});

	it("gives twenty events exactly one effect each when the consumer runs twice", async () => {
		const producerNode = await node(producer);
		const a = await node(consumer);
		await node(consumer);
		for (let n = 100; n < 120; n++) await producerNode.broker.call("order.happen", { n });
		const rows = await until(
			"twenty effects",
			() => effects(a),
			r => r.filter(e => e.n >= 100).length >= 20
		);
		await settled(a, producerNode);
		const mine = (await effects(a)).filter(e => e.n >= 100);
		expect(mine.map(e => e.n)).to.deep.equal(Array.from({ length: 20 }, (_, i) => 100 + i));
		expect(rows.length).to.be.at.least(20);
	});

	it("hands a backlog to its consumer, which handles each correlation's events in the order they were written", async () => {
		// the producer's relay is stopped while 40 facts of four correlations (say, four orders) commit, as if the
		// consumer had been away
		const producerNode = await node(producer);
		const order = producerNode.broker.getLocalService("order") as Svc;
		await order.outbox.stop();
		const labels = ["a", "b", "c", "d"];
		for (let n = 200; n < 240; n++) await producerNode.broker.call("order.happen", { n, label: labels[n % 4] });
		await producerNode.stop();
		running.splice(running.indexOf(producerNode), 1);

		// one handler at a time, so the order of the effects is the order of handling
		const consumerNode = await nodeWith({ EVENT_CONCURRENCY: "1" }, consumer);
		await node(producer);
		await until(
			"forty effects",
			() => effects(consumerNode),
			r => r.filter(e => e.n >= 200).length >= 40
		);
		const handled = (await consumerNode.broker.call<number[]>("payment.effectsInOrder")).filter(n => n >= 200);
		expect([...handled].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 40 }, (_, i) => 200 + i));
		for (const [k, label] of labels.entries()) {
			const mine = handled.filter(n => n % 4 === k);
			expect(mine, `the events of correlation ${label}`).to.deep.equal(Array.from({ length: 10 }, (_, i) => 200 + k + 4 * i));
		}
	});

	describe("handling on receipt", () => {
		const envelopeOf = (n: number): IncomingEnvelope<{ n: number; label: string }> => ({
			id: crypto.randomUUID(),
			event: EVENT,
			source: "order",
			occurredAt: new Date().toISOString(),
			data: { n, label: `n${n}` }
		});
		const receive = (shop: RunningShop, envelope: IncomingEnvelope) =>
			shop.broker.call<{ accepted: boolean }, IncomingEnvelope>("payment.receiveEvent", envelope);
		const status = (shop: RunningShop, envelope: IncomingEnvelope) =>
			shop.broker.call<string | undefined, { eventId: string }>("payment.inboxStatus", { eventId: envelope.id });
		afterEach(() => holds.clear());

		it("answers the producer once the event's effect is committed, in the transaction that records it", async () => {
			const shop = await node(consumer);
			const envelope = envelopeOf(300);
			expect(await receive(shop, envelope)).to.deep.equal({ accepted: true });
			// no waiting: the answer came after the commit
			expect(await status(shop, envelope)).to.equal("HANDLED");
			expect((await effects(shop)).filter(e => e.n === 300)).to.have.length(1);
		});

		it("gives a copy handed over while the first is being handled one effect: it waits, then is a duplicate", async () => {
			const shop = await node(consumer);
			let release!: (v?: unknown) => void;
			holds.set(301, new Promise(resolve => (release = resolve)));
			const envelope = envelopeOf(301);
			const first = receive(shop, envelope);
			await until(
				"the first handling to have started",
				async () => entered.has(301),
				started => started
			);
			const second = receive(shop, envelope);
			release();
			const answers = (await Promise.all([first, second])).map(a => a.accepted);
			expect(answers).to.deep.equal([true, false]);
			expect((await effects(shop)).filter(e => e.n === 301)).to.have.length(1);
		});

		it("answers at once for an event type whose handling has become slow, and handles it afterwards", async () => {
			const shop = await node(consumer);
			// a handling slower than the budget (HANDLE_ON_RECEIPT_BUDGET_MS) makes the type slow
			holds.set(302, new Promise(resolve => setTimeout(resolve, 400)));
			expect(await receive(shop, envelopeOf(302))).to.deep.equal({ accepted: true });
			// the next one is answered while its handler is still held: recorded, not yet handled
			let release!: (v?: unknown) => void;
			holds.set(303, new Promise(resolve => (release = resolve)));
			const held = envelopeOf(303);
			expect(await receive(shop, held)).to.deep.equal({ accepted: true });
			expect(await status(shop, held)).to.equal("PENDING");
			release();
			await until(
				"the held event to be handled",
				() => status(shop, held),
				s => s === "HANDLED"
			);
			expect((await effects(shop)).filter(e => e.n === 303)).to.have.length(1);
		});

		it("records a first attempt that fails on receipt for the retries, and keeps only the successful attempt's effect", async () => {
			failures.set(304, 1);
			const shop = await node(consumer);
			// what the metrics (inbox_handling_attempts_total, inbox_handling_failures_total) are told
			const counted = { attempted: 0, failed: 0 };
			(shop.broker.getLocalService("payment") as Svc).inbox.metrics = {
				attempted: () => void counted.attempted++,
				failed: () => void counted.failed++,
				handOffFailed: () => undefined
			};
			const envelope = envelopeOf(304);
			expect(await receive(shop, envelope)).to.deep.equal({ accepted: true });
			expect(await status(shop, envelope)).to.equal("PENDING");
			await until(
				"the retry to handle it",
				() => status(shop, envelope),
				s => s === "HANDLED"
			);
			expect((await effects(shop)).filter(e => e.n === 304)).to.have.length(1);
			expect(counted).to.deep.equal({ attempted: 2, failed: 1 });
		});
	});
});
