import crypto from "node:crypto";
import { Utils, type Logger, type ServiceBroker } from "moleculer";
import type { Transaction } from "sequelize";
import { whenCommitted, type Migration, type ServiceDatabase } from "./database";
import { Pump } from "./pump";
import type { EventMetrics } from "./event-metrics";
import { parentSpanOf, RECEIVE_ACTION, traceContext, type EventContract, type EventEnvelope, type EventRoutes } from "./events";

/** Tables of the reliable events, in every schema that produces or consumes them. */
export const eventTableMigrations: Migration[] = [
	{
		name: "events-0001-outbox-inbox",
		up: async ({ sql }) => {
			await sql(`
				CREATE TABLE outbox (
					id uuid PRIMARY KEY,
					event text NOT NULL,
					payload jsonb NOT NULL,
					created_at timestamptz NOT NULL DEFAULT now(),
					delivered_to text[] NOT NULL DEFAULT '{}',
					published_at timestamptz,
					next_attempt_at timestamptz NOT NULL DEFAULT now()
				)`);
			await sql(`CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE published_at IS NULL`);
			await sql(`
				CREATE TABLE inbox (
					event_id uuid PRIMARY KEY,
					event text NOT NULL,
					payload jsonb NOT NULL,
					status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'HANDLED', 'DEAD')),
					attempts integer NOT NULL DEFAULT 0,
					last_error text,
					received_at timestamptz NOT NULL DEFAULT now(),
					next_attempt_at timestamptz NOT NULL DEFAULT now(),
					handled_at timestamptz
				)`);
			await sql(`CREATE INDEX inbox_due_idx ON inbox (next_attempt_at) WHERE status = 'PENDING'`);
		}
	},
	{
		// the saga's events all name their order: operators follow one order across services (REPL `saga`)
		name: "events-0002-order-trail",
		up: async ({ sql }) => {
			await sql(`CREATE INDEX outbox_order_idx ON outbox ((payload->'data'->>'orderId'))`);
			await sql(`CREATE INDEX inbox_order_idx ON inbox ((payload->'data'->>'orderId'))`);
		}
	},
	{
		// which node handled an event: operators see how work spreads over a service's instances
		name: "events-0003-handled-by",
		up: async ({ sql }) => {
			await sql(`ALTER TABLE inbox ADD COLUMN handled_by text`);
		}
	},
	{
		// The relay's and the inbox's claims walk an index in the order they take rows, with LIMIT: an index
		// scan stops at the first due rows and marks entries of rows that left the queue as dead, so later
		// claims skip them. The first indexes (next_attempt_at only) were read with bitmap scans, which visit
		// every entry the last vacuum left behind: thousands of heap pages per claim on a busy shop.
		name: "events-0004-claim-order-indexes",
		up: async ({ sql }) => {
			await sql(`DROP INDEX outbox_pending_idx`);
			await sql(`CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, created_at, id) WHERE published_at IS NULL`);
			await sql(`DROP INDEX inbox_due_idx`);
			await sql(`CREATE INDEX inbox_due_idx ON inbox (next_attempt_at, received_at, event_id) WHERE status = 'PENDING'`);
		}
	},
	{
		// Retention (lib/event-retention.ts) finds delivered and handled rows by age without a scan.
		name: "events-0005-retention-indexes",
		up: async ({ sql }) => {
			await sql(`CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL`);
			await sql(`CREATE INDEX inbox_handled_idx ON inbox (handled_at) WHERE status = 'HANDLED'`);
		}
	},
	{
		// Envelopes carry a correlation id (lib/events.ts): trails and scrubbing find rows by it. Rows written
		// before that named their process in the payload: the checkout saga's by order, identity's by user.
		name: "events-0006-correlation-id",
		up: async ({ sql }) => {
			for (const table of ["outbox", "inbox"]) {
				await sql(`ALTER TABLE ${table} ADD COLUMN correlation_id text`);
				await sql(`UPDATE ${table} SET correlation_id = coalesce(payload->'data'->>'orderId', payload->'data'->>'userId', payload->>'id')`);
				await sql(`ALTER TABLE ${table} ALTER COLUMN correlation_id SET NOT NULL`);
				await sql(`CREATE INDEX ${table}_correlation_idx ON ${table} (correlation_id)`);
			}
			await sql(`DROP INDEX outbox_order_idx`);
			await sql(`DROP INDEX inbox_order_idx`);
		}
	}
];

/** One event of a process (an order's saga) as one service saw it: sent (outbox) or received (inbox). */
export interface TrailEntry {
	service: string;
	direction: "sent" | "received";
	eventId: string;
	event: string;
	at: string;
	/** sent: PUBLISHED or WAITING (for a consumer); received: PENDING, HANDLED or DEAD. */
	status: string;
	/** sent: the services that have it. */
	deliveredTo?: string[];
	attempts?: number;
	lastError?: string | null;
	/** received: the node that handled it. */
	handledBy?: string | null;
}

/** What one service's outbox and inbox hold with one correlation id, oldest first. */
export async function eventTrail(db: ServiceDatabase, service: string, correlationId: string): Promise<TrailEntry[]> {
	const [sent, received] = await Promise.all([
		db.query<{ id: string; event: string; created_at: Date; published_at: Date | null; delivered_to: string[] }>(
			`SELECT id, event, created_at, published_at, delivered_to FROM outbox WHERE correlation_id = $1 ORDER BY created_at, id`,
			[correlationId]
		),
		db.query<{
			event_id: string;
			event: string;
			received_at: Date;
			status: string;
			attempts: number;
			last_error: string | null;
			handled_by: string | null;
		}>(
			`SELECT event_id, event, received_at, status, attempts, last_error, handled_by FROM inbox WHERE correlation_id = $1 ORDER BY received_at, event_id`,
			[correlationId]
		)
	]);
	return [
		...sent.map(r => ({
			service,
			direction: "sent" as const,
			eventId: r.id,
			event: r.event,
			at: r.created_at.toISOString(),
			status: r.published_at ? "PUBLISHED" : "WAITING",
			deliveredTo: r.delivered_to
		})),
		...received.map(r => ({
			service,
			direction: "received" as const,
			eventId: r.event_id,
			event: r.event,
			at: r.received_at.toISOString(),
			status: r.status,
			attempts: r.attempts,
			lastError: r.last_error,
			handledBy: r.handled_by
		}))
	].sort((a, b) => a.at.localeCompare(b.at));
}

/** Hand-offs in flight at once to one consuming service (of different correlations). */
export const HAND_OFF_WINDOW = 4;

/** What a pass did with a row: who has it now, whether that is everyone, and whether it is due again at once (its pass ran out of time). */
interface Outcome {
	id: string;
	delivered: string[];
	finished: boolean;
	dueNow: boolean;
}

interface OutboxRow {
	id: string;
	event: string;
	payload: EventEnvelope;
	delivered_to: string[];
}

/**
 * The producer side. `add` writes an event in the caller's transaction; the relay publishes committed
 * rows with balanced events, one group at a time, and keeps a row until every service that must receive
 * it (the routes derived from every service's subscriptions) has been handed it. Rows survive restarts; several instances of a service share the
 * work without publishing a row twice at once (claims with FOR UPDATE SKIP LOCKED, held by a lease).
 */
export class Outbox<M = Record<never, never>> {
	private readonly pump: Pump;
	private stopped = false;
	/** How long a claimed row is left to the relay that claimed it. */
	private readonly leaseMs: number;
	/** Counts failed hand-offs (lib/event-metrics.ts); set by the reliable-events mixin. */
	metrics?: EventMetrics;

	constructor(
		private readonly db: ServiceDatabase,
		private readonly broker: ServiceBroker,
		private readonly logger: Logger,
		private readonly source: string,
		/** The events this service writes; `add` takes only these. */
		private readonly contract: EventContract<M> | undefined,
		/** Who must receive each event; an event without a route goes to whoever listens at the time. */
		private readonly routes: EventRoutes,
		pollMs: number,
		/** How long a row waits for a missing consumer before the next look (a consumer showing up wakes it sooner). */
		private readonly retryMs = 2000,
		/**
		 * How long a consumer may take to acknowledge an event before the hand-off counts as failed. Taking an
		 * event only stores it in the consumer's inbox: milliseconds, unless the consumer is in trouble.
		 */
		private readonly handOffTimeoutMs = 2000
	) {
		// Long enough for a pass whose consumers all time out once (each is skipped for the rest of the pass),
		// short enough that rows claimed by a relay that died or froze (kill -9, SIGSTOP) go out again within
		// seconds from another instance. A row handed over twice is one event to its consumer.
		this.leaseMs = Math.max(6000, 3 * handOffTimeoutMs);
		this.pump = new Pump(
			stopping => this.relay(100, stopping),
			pollMs,
			err => this.logger.warn("Outbox relay pass failed; will try again:", err)
		);
	}

	/**
	 * Writes `event` in transaction `t`, with the correlation id its definition names and the trace context of
	 * the call or event being handled; it is published once `t` commits. Answers the event id.
	 */
	async add<K extends keyof M & string>(t: Transaction, event: K, data: M[K]): Promise<string> {
		const definition = this.contract?.events[event];
		if (!definition) throw new Error(`${this.source} does not declare the event ${event}`);
		const correlationId = String(data[definition.correlateBy]);
		const trace = traceContext();
		const envelope: EventEnvelope<M[K]> = {
			id: crypto.randomUUID(),
			event,
			source: this.source,
			occurredAt: new Date().toISOString(),
			correlationId,
			...(trace ? { trace } : {}),
			data
		};
		await this.db.execute(
			`INSERT INTO outbox (id, event, payload, correlation_id) VALUES ($1, $2, $3, $4)`,
			[envelope.id, event, JSON.stringify(envelope), correlationId],
			t
		);
		whenCommitted(t, () => this.kick());
		return envelope.id;
	}

	/**
	 * Removes the declared secret fields from this correlation's events in the outbox (in `t`), and withdraws
	 * those still waiting for a consumer: an event stripped of its secret is no longer of use to anyone.
	 * Answers how many rows it changed.
	 */
	async scrub(correlationId: string, t: Transaction): Promise<number> {
		let changed = 0;
		for (const [event, definition] of Object.entries(this.contract?.events ?? {}) as [string, { secrets?: readonly string[] }][]) {
			if (!definition.secrets?.length) continue;
			const rows = await this.db.execute(
				`UPDATE outbox SET payload = jsonb_set(payload, '{data}', (payload->'data') - $3::text[]), published_at = coalesce(published_at, now())
				 WHERE correlation_id = $1 AND event = $2 AND (payload->'data') - $3::text[] <> payload->'data' RETURNING 1`,
				[correlationId, event, definition.secrets],
				t
			);
			changed += rows.length;
		}
		return changed;
	}

	start(): void {
		this.pump.start();
	}

	/** Stops polling and waits for a pass in progress. */
	stop(): Promise<void> {
		this.stopped = true;
		return this.pump.stop();
	}

	/** Runs a pass now (or right after the one in progress). */
	kick(): void {
		this.pump.kick();
	}

	/**
	 * One pass: publishes what is due. Answers how many rows are now fully published.
	 *
	 * Rows are claimed with a lease (their next attempt pushed past the hand-offs) in one statement, handed
	 * over with no transaction or lock held, then settled in one statement. A claimed row is not locked
	 * while its consumers are called, so nothing else that touches it (the order service scrubbing a card
	 * token once payment has answered) waits on a network call. A relay that dies mid-way leaves its rows
	 * to be taken again when the lease ends; a row handed over twice is one event to the consumer (its inbox
	 * keys by event id).
	 */
	async relay(batch = 100, stopping: () => boolean = () => false): Promise<number> {
		let done = 0;
		while (!stopping()) {
			const rows = await this.claim(batch);
			if (rows.length === 0) break;
			const outcomes = await this.handOver(rows);
			await this.settle(outcomes);
			done += outcomes.filter(o => o.finished).length;
			if (rows.length < batch) break;
		}
		return done;
	}

	/**
	 * Takes up to `batch` due rows, longest due first (a new row is due when it is written, so that is the
	 * order they were written in), leasing them for as long as their hand-offs may take. Answers them in
	 * the order they were written.
	 */
	private async claim(batch: number): Promise<OutboxRow[]> {
		return this.db.query<OutboxRow>(
			`WITH due AS (
			   SELECT id FROM outbox WHERE published_at IS NULL AND next_attempt_at <= now()
			   ORDER BY next_attempt_at, created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
			 ), claimed AS (
			   UPDATE outbox o SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
			   FROM due WHERE o.id = due.id
			   RETURNING o.id, o.event, o.payload, o.delivered_to, o.created_at
			 )
			 SELECT id, event, payload, delivered_to FROM claimed ORDER BY created_at, id`,
			[batch, this.leaseMs]
		);
	}

	/**
	 * Records who has each row now. Deliveries are added to what is recorded (another relay may have handed
	 * the row on meanwhile), and a row someone else finished (or the order service closed) stays finished.
	 */
	private async settle(outcomes: Outcome[]): Promise<void> {
		await this.db.execute(
			`UPDATE outbox o SET
			   delivered_to = o.delivered_to || ARRAY(SELECT g FROM unnest(u.delivered) AS g WHERE g <> ALL (o.delivered_to)),
			   published_at = coalesce(o.published_at, CASE WHEN u.finished THEN now() END),
			   next_attempt_at = CASE WHEN u.finished THEN o.next_attempt_at WHEN u."dueNow" THEN now()
			     ELSE now() + make_interval(secs => $2::double precision / 1000) END
			 FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, delivered text[], finished boolean, "dueNow" boolean)
			 WHERE o.id = u.id AND o.id = ANY($3::uuid[])`,
			// the id list lets the planner find the rows by primary key (it cannot see into the JSON)
			[JSON.stringify(outcomes), this.retryMs, outcomes.map(o => o.id)]
		);
	}

	/**
	 * Hands each row to every group that must have it and has not yet, if it is up. Answers who has each row
	 * now. Each group has its own lane, and the lanes proceed side by side (one slow consumer does not hold up
	 * the others). In a lane, the rows of one correlation go one at a time in the order they were written (a
	 * consumer that handles events as it receives them sees an order's events in that order), up to
	 * HAND_OFF_WINDOW correlations at once (a hand-off waits for its handler). A group that fails a hand-off is
	 * not tried again in this pass (each try may wait for a timeout).
	 */
	private async handOver(rows: OutboxRow[]): Promise<Outcome[]> {
		// hand-offs wait for handlers: a lane stops well before the claim's lease ends (the rest is due again at once)
		const until = Date.now() + this.leaseMs / 2;
		const delivered = rows.map(r => [...r.delivered_to]);
		const cutShort = new Set<number>();
		const lanes = new Map<string, number[]>();
		rows.forEach((row, i) => {
			for (const group of this.recipients(row)) {
				if (delivered[i].includes(group)) continue;
				const lane = lanes.get(group) ?? [];
				lane.push(i);
				lanes.set(group, lane);
			}
		});
		await Promise.all(
			[...lanes].map(async ([group, lane]) => {
				// a lane's rows of one correlation (an order's saga) go one after another, in the order they were
				// written; up to HAND_OFF_WINDOW correlations at once
				const chains = new Map<string, number[]>();
				for (const i of lane) {
					const key = rows[i].payload.correlationId ?? rows[i].id;
					const chain = chains.get(key) ?? [];
					chain.push(i);
					chains.set(key, chain);
				}
				const queue = [...chains.values()];
				let failed = false;
				const worker = async () => {
					for (let chain = queue.shift(); chain; chain = queue.shift()) {
						for (const i of chain) {
							if (failed) return;
							if (Date.now() > until) {
								cutShort.add(i);
								continue;
							}
							if (!(await this.handTo(rows[i], group))) {
								// the group is not tried again in this pass (each try may wait for a timeout)
								failed = true;
								return;
							}
							delivered[i].push(group);
						}
					}
				};
				await Promise.all(Array.from({ length: Math.min(HAND_OFF_WINDOW, queue.length) }, worker));
			})
		);
		return rows.map((row, i) => {
			const expected = this.routes[row.event];
			const finished = expected ? expected.every(g => delivered[i].includes(g)) : delivered[i].length > 0;
			return { id: row.id, delivered: delivered[i], finished, dueNow: !finished && cutShort.has(i) };
		});
	}

	/** The groups to hand a row to: its route's (or, without a route, whoever listens), those with someone up to take it. */
	private recipients(row: OutboxRow): string[] {
		const listening = this.listeningGroups(row.event);
		const wanted = this.routes[row.event] ?? listening;
		return wanted.filter(group => this.broker.registry.actions.isAvailable(`${group}.${RECEIVE_ACTION}`) || listening.includes(group));
	}

	/**
	 * Hands one row to one group. A service with an inbox takes it through its `receiveEvent` action: a
	 * balanced request to one of its instances, answered once the event is in that instance's inbox (most
	 * often handled too), so a consumer dying with the event in hand leaves it undelivered here (and tried
	 * again) rather than lost. Other listeners get a balanced event. Answers whether the group has it.
	 */
	private async handTo(row: OutboxRow, group: string): Promise<boolean> {
		const receiver = `${group}.${RECEIVE_ACTION}`;
		try {
			// the hand-off is part of the trace of the call that wrote the event
			const trace = row.payload.trace ? { parentSpan: parentSpanOf(row.payload.trace) } : {};
			if (this.broker.registry.actions.isAvailable(receiver))
				await this.broker.call(receiver, row.payload, { timeout: this.handOffTimeoutMs, retries: 0, ...trace });
			else await this.broker.emit(row.event, row.payload, { groups: [group] });
			return true;
		} catch (err) {
			this.metrics?.handOffFailed(row.event, group);
			this.logger.warn(`Could not hand ${row.event} ${row.id} to ${group}; will try again:`, err);
			return false;
		}
	}

	/**
	 * Groups with a live listener for `event`. (`broker.getEventGroups` also names groups whose every
	 * instance has left, and an event emitted to such a group is dropped without an error.)
	 */
	private listeningGroups(event: string): string[] {
		const lists = (this.broker.registry.events as unknown as { events: { name: string; group: string; hasAvailable(): boolean }[] }).events;
		return [...new Set(lists.filter(l => Utils.match(event, l.name) && l.hasAvailable()).map(l => l.group))];
	}

	/**
	 * A service appeared or left somewhere in the cluster: rows waiting for a consumer are looked at now
	 * rather than at their next retry.
	 */
	async wake(): Promise<void> {
		// the cluster changes while this node leaves too; its database may be closed by then
		if (this.stopped) return;
		await this.db.execute(`UPDATE outbox SET next_attempt_at = now() WHERE published_at IS NULL AND next_attempt_at > now()`);
		this.kick();
	}

	/** Rows not yet handed to everyone (for operators and tests). */
	async pending(): Promise<number> {
		const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`);
		return row.n;
	}
}
