import crypto from "node:crypto";
import type { Logger, ServiceBroker } from "moleculer";
import type { Transaction } from "sequelize";
import type { Migration, ServiceDatabase } from "./database";
import { Pump } from "./pump";
import { routesOf, type EventEnvelope } from "./events";

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
	}
];

interface OutboxRow {
	id: string;
	event: string;
	payload: EventEnvelope;
	delivered_to: string[];
}

/**
 * The producer side. `add` writes an event in the caller's transaction; the relay publishes committed
 * rows with balanced events, one group at a time, and keeps a row until every service that must receive
 * it (lib/events.ts) has been handed it. Rows survive restarts; several instances of a service share the
 * work without publishing a row twice at once (FOR UPDATE SKIP LOCKED).
 */
export class Outbox {
	private readonly pump: Pump;

	constructor(
		private readonly db: ServiceDatabase,
		private readonly broker: ServiceBroker,
		private readonly logger: Logger,
		private readonly source: string,
		pollMs: number,
		/** How long a row waits for a missing consumer before the next look (a consumer showing up wakes it sooner). */
		private readonly retryMs = 5000
	) {
		this.pump = new Pump(stopping => this.relay(100, stopping), pollMs, err => this.logger.warn("Outbox relay pass failed; will try again:", err));
	}

	/** Writes `event` in transaction `t`; it is published once `t` commits. Answers the event id. */
	async add<T>(t: Transaction, event: string, data: T): Promise<string> {
		const envelope: EventEnvelope<T> = { id: crypto.randomUUID(), event, source: this.source, occurredAt: new Date().toISOString(), data };
		await this.db.execute(`INSERT INTO outbox (id, event, payload) VALUES ($1, $2, $3)`, [envelope.id, event, JSON.stringify(envelope)], t);
		t.afterCommit(() => this.kick());
		return envelope.id;
	}

	start(): void {
		this.pump.start();
	}

	/** Stops polling and waits for a pass in progress. */
	stop(): Promise<void> {
		return this.pump.stop();
	}

	/** Runs a pass now (or right after the one in progress). */
	kick(): void {
		this.pump.kick();
	}

	/** One pass: publishes what is due. Answers how many rows are now fully published. */
	async relay(batch = 100, stopping: () => boolean = () => false): Promise<number> {
		let done = 0;
		while (!stopping()) {
			const published = await this.db.transaction(async t => {
				const rows = await this.db.query<OutboxRow>(
					`SELECT id, event, payload, delivered_to FROM outbox
					 WHERE published_at IS NULL AND next_attempt_at <= now()
					 ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
					[batch],
					t
				);
				let complete = 0;
				for (const row of rows) {
					const delivered = await this.publish(row);
					const expected = routesOf(row.event);
					const finished = expected ? expected.every(g => delivered.includes(g)) : delivered.length > 0;
					if (finished) complete++;
					await this.db.execute(
						`UPDATE outbox SET delivered_to = $2::text[], published_at = CASE WHEN $3::boolean THEN now() END,
						   next_attempt_at = CASE WHEN $3::boolean THEN next_attempt_at ELSE now() + make_interval(secs => $4::double precision / 1000) END
						 WHERE id = $1`,
						[row.id, delivered, finished, this.retryMs],
						t
					);
				}
				return { rows: rows.length, complete };
			});
			done += published.complete;
			if (published.rows < batch) break;
		}
		return done;
	}

	/** Hands the event to every group that must have it and has not yet, if it is up. Answers who has it now. */
	private async publish(row: OutboxRow): Promise<string[]> {
		const listening = this.broker.getEventGroups(row.event);
		const wanted = routesOf(row.event) ?? listening;
		const delivered = [...row.delivered_to];
		for (const group of wanted) {
			if (delivered.includes(group) || !listening.includes(group)) continue;
			try {
				await this.broker.emit(row.event, row.payload, { groups: [group] });
				delivered.push(group);
			} catch (err) {
				this.logger.warn(`Could not hand ${row.event} ${row.id} to ${group}; will try again:`, err);
			}
		}
		return delivered;
	}

	/**
	 * A service appeared or left somewhere in the cluster: rows waiting for a consumer are looked at now
	 * rather than at their next retry.
	 */
	async wake(): Promise<void> {
		await this.db.execute(`UPDATE outbox SET next_attempt_at = now() WHERE published_at IS NULL AND next_attempt_at > now()`);
		this.kick();
	}

	/** Rows not yet handed to everyone (for operators and tests). */
	async pending(): Promise<number> {
		const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`);
		return row.n;
	}
}
