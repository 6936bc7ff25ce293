import type { Logger, Tracer } from "moleculer";
import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "./database";
import { Pump } from "./pump";
import type { EventMetrics } from "./event-metrics";
import {
	parentSpanOf,
	payloadProblems,
	redacted,
	retryDelayMs,
	withTrace,
	type EventEnvelope,
	type IncomingEnvelope,
	type Subscription,
	type Subscriptions,
	type TraceContext
} from "./events";

export interface RetryPolicy {
	/** Attempts before an event goes to the dead-letter store. */
	maxAttempts: number;
	/** Events handled at once (each claims its own row, each in its own transaction). */
	concurrency?: number;
	baseDelayMs: number;
	maxDelayMs: number;
}

export interface DeadLetter {
	eventId: string;
	event: string;
	payload: EventEnvelope;
	attempts: number;
	lastError: string | null;
	receivedAt: string;
}

/**
 * An event type whose recent handlings took longer than this (a moving average) is recorded and answered
 * first, then handled: its producer's hand-off, which waits for the answer, must stay well within its timeout.
 */
export const HANDLE_ON_RECEIPT_BUDGET_MS = 200;

interface InboxRow {
	event_id: string;
	event: string;
	payload: EventEnvelope;
	attempts: number;
}

/**
 * The consumer side. `receive` records an event (a duplicate id changes nothing) and handling follows:
 * the handler's writes and the "handled" mark commit together, so an event has its effect once. A failing
 * handler is retried with exponential backoff; after `maxAttempts` the event is dead-lettered with its
 * error, and can be replayed. Pending events survive restarts.
 *
 * This is where payloads are checked, once: an event whose payload does not match its schema is recorded
 * as a dead letter at once (no handler sees it, and retrying would not change it), so the producer's row is
 * acknowledged and an operator sees what came.
 *
 * Most events are handled on receipt: recording the event, marking it handled and the handler's writes are
 * one transaction (three statements besides the handler's own), committed before the producer is answered, so
 * an answered event is handled or recorded for a retry, never lost. The rest (this instance busy, or the
 * event's handling slow) are recorded and answered at once, then handled by the pass (`drain`), which also
 * takes retries and what a stopped instance left.
 */
export class Inbox {
	private readonly pump: Pump;
	/** Handlings on receipt in progress or waiting for a handler, by event id; waited for by `stop`. */
	private readonly onReceipt = new Map<string, Promise<boolean>>();
	/** Workers of the pass in progress, and handlings on receipt running: together at most `concurrency`. */
	private workers = 0;
	private active = 0;
	/** Handlings on receipt waiting for a free handler (in memory: no database connection held). */
	private readonly waiting: (() => void)[] = [];
	private stopping = false;
	/** A moving average of each event type's handling time on receipt, in milliseconds. */
	private readonly handlingMs = new Map<string, number>();
	/** Counts handling attempts and failures (lib/event-metrics.ts); set by the reliable-events mixin. */
	metrics?: EventMetrics;

	constructor(
		private readonly db: ServiceDatabase,
		private readonly logger: Logger,
		/** What this service handles, and how. */
		private readonly subscriptions: Subscriptions<unknown>,
		/** The service the handlers run as (`this`). */
		private readonly self: unknown,
		private readonly policy: RetryPolicy,
		pollMs: number,
		/** Recorded with each handled event. */
		private readonly nodeId = "",
		/** When tracing is on, each handling is a span, the child of the call that wrote the event. */
		private readonly tracer?: Tracer
	) {
		this.pump = new Pump(
			stopping => this.drain(stopping),
			pollMs,
			err => this.logger.warn("Inbox pass failed; will try again:", err)
		);
	}

	/**
	 * Records an event for handling. Answers false for a duplicate. Throws for an event this service does not
	 * subscribe to; records a payload that does not match its schema as a dead letter.
	 */
	async receive(incoming: IncomingEnvelope): Promise<boolean> {
		const subscription = this.subscriptions.find(incoming.event);
		if (!subscription) throw new Error(`${this.subscriptions.service} does not handle ${incoming.event}`);
		const problems = payloadProblems(subscription.definition, incoming.data);
		// an envelope from a producer older than correlation ids: the payload names it
		const correlation = (incoming.data as Record<string, unknown>)[subscription.definition.correlateBy];
		const correlationId = incoming.correlationId ?? (typeof correlation === "string" ? correlation : incoming.id);
		const envelope: EventEnvelope = { ...incoming, correlationId };
		// The same event handed over again while this instance handles it (its producer gave up waiting): it
		// waits for that handling here, holding no database connection, and is a duplicate once it commits.
		const inHand = this.onReceipt.get(envelope.id);
		if (inHand) return inHand.then(() => false);
		if (problems.length === 0 && this.mayHandleNow(envelope.event)) return this.handleOnReceipt(envelope, subscription);
		const rows = await this.db.execute(
			`INSERT INTO inbox (event_id, event, payload, correlation_id, status, last_error) VALUES ($1, $2, $3, $4, $5, $6)
			 ON CONFLICT (event_id) DO NOTHING RETURNING 1`,
			[
				envelope.id,
				envelope.event,
				JSON.stringify(envelope),
				correlationId,
				problems.length > 0 ? "DEAD" : "PENDING",
				problems.length > 0 ? `Malformed ${envelope.event} ${envelope.id}: ${problems.join("; ")}` : null
			]
		);
		if (rows.length > 0 && problems.length > 0) {
			this.logger.error(`${envelope.event} ${envelope.id} from ${envelope.source} does not match its schema; dead-lettered: ${problems.join("; ")}`);
		} else if (rows.length > 0) this.kick();
		return rows.length > 0;
	}

	/**
	 * Removes the declared secret fields from this correlation's events in the inbox (in `t`), except from
	 * rows another handler is working on. Answers how many rows changed.
	 */
	async scrub(correlationId: string, t: Transaction): Promise<number> {
		let changed = 0;
		for (const { event, definition } of this.subscriptions.list) {
			if (!definition.secrets?.length) continue;
			// Rows another handler holds are left to it (it scrubs its own when it is done): waiting for them here,
			// while holding what this handler locked, is how two handlers of one order would deadlock.
			const rows = await this.db.execute(
				`UPDATE inbox SET payload = jsonb_set(payload, '{data}', (payload->'data') - $3::text[])
				 WHERE event_id IN (
				   SELECT event_id FROM inbox WHERE correlation_id = $1 AND event = $2 AND (payload->'data') - $3::text[] <> payload->'data'
				   FOR UPDATE SKIP LOCKED
				 ) RETURNING 1`,
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

	/** Stops polling and handling on receipt; waits for a pass and handlings in progress. */
	async stop(): Promise<void> {
		this.stopping = true;
		await Promise.all([this.pump.stop(), ...[...this.onReceipt.values()].map(p => p.catch(() => undefined))]);
	}

	private get maxHandlers(): number {
		return Math.max(1, this.policy.concurrency ?? 1);
	}

	/**
	 * Whether an event may be handled as it is received: its handling is quick, and a handler is free or will be
	 * soon (at most twice `concurrency` wait for one; past that, events are recorded and handled by the pass).
	 */
	private mayHandleNow(event: string): boolean {
		return (
			!this.stopping &&
			(this.handlingMs.get(event) ?? 0) <= HANDLE_ON_RECEIPT_BUDGET_MS &&
			(this.active + this.workers < this.maxHandlers || this.waiting.length < 2 * this.maxHandlers)
		);
	}

	/** Takes a handler for a handling on receipt, waiting in line for one when all are busy. */
	private async takeHandler(): Promise<void> {
		if (this.waiting.length === 0 && this.active + this.workers < this.maxHandlers) {
			this.active++;
			return;
		}
		await new Promise<void>(resolve => this.waiting.push(resolve));
	}

	/** Gives free handlers to handlings waiting in line (a handling ended, or a worker of the pass). */
	private handOutHandlers(): void {
		while (this.waiting.length > 0 && this.active + this.workers < this.maxHandlers) {
			this.active++;
			this.waiting.shift()!();
		}
	}

	/**
	 * Records the event as handled and runs its handler in one transaction; answers once it commits (false for
	 * a duplicate, which changes nothing: its INSERT waits for a copy being handled elsewhere, then finds it).
	 * A failing handler's writes and record are undone, and the failure is recorded as a pass's would be:
	 * pending with a backoff, or dead after the last attempt. Throws only when neither could be recorded
	 * (the database is down): the producer keeps the event and hands it over again.
	 */
	private handleOnReceipt(envelope: EventEnvelope, subscription: Subscription<unknown>): Promise<boolean> {
		const work = this.handleEnvelope(envelope, subscription);
		this.onReceipt.set(envelope.id, work);
		void work.finally(() => this.onReceipt.delete(envelope.id)).catch(() => undefined);
		return work;
	}

	private async handleEnvelope(envelope: EventEnvelope, subscription: Subscription<unknown>): Promise<boolean> {
		await this.takeHandler();
		try {
			return await this.handleInOneTransaction(envelope, subscription);
		} finally {
			this.active--;
			this.handOutHandlers();
		}
	}

	private async handleInOneTransaction(envelope: EventEnvelope, subscription: Subscription<unknown>): Promise<boolean> {
		const started = performance.now();
		const span = this.handlingSpan(envelope.event, envelope.id, 1, envelope);
		let recorded = false;
		try {
			const fresh = await this.db.transaction(async t => {
				const rows = await this.db.execute(
					`INSERT INTO inbox (event_id, event, payload, correlation_id, status, attempts, handled_at, handled_by)
					 VALUES ($1, $2, $3, $4, 'HANDLED', 1, now(), $5) ON CONFLICT (event_id) DO NOTHING RETURNING 1`,
					[envelope.id, envelope.event, JSON.stringify(envelope), envelope.correlationId, this.nodeId || null],
					t
				);
				if (rows.length === 0) return false;
				recorded = true;
				this.metrics?.attempted(envelope.event);
				const trace: TraceContext | undefined = span ? { traceId: span.traceID, spanId: span.id, sampled: span.sampled } : envelope.trace;
				await withTrace(trace, () => subscription.handle.call(this.self, envelope, t));
				return true;
			});
			span?.finish();
			return fresh;
		} catch (err) {
			span?.setError(err as Error).finish();
			// not recorded: the database failed (the producer hands it over again); recorded: the handler failed
			if (!recorded) throw err;
			await this.recordFirstFailure(envelope, err);
			return true;
		} finally {
			this.noteHandling(envelope.event, performance.now() - started);
		}
	}

	/** Keeps the moving average of an event type's handling time (from handlings on receipt and by the pass alike). */
	private noteHandling(event: string, ms: number): void {
		const before = this.handlingMs.get(event);
		this.handlingMs.set(event, before === undefined ? ms : before * 0.8 + ms * 0.2);
	}

	/** The first attempt, made on receipt, failed and was undone: the event is kept for the retries (or dead, after one attempt). */
	private async recordFirstFailure(envelope: EventEnvelope, err: unknown): Promise<void> {
		const message = err instanceof Error ? err.message : String(err);
		this.metrics?.failed(envelope.event);
		const dead = this.policy.maxAttempts <= 1;
		const delay = dead ? 0 : retryDelayMs(1, this.policy.baseDelayMs, this.policy.maxDelayMs);
		if (dead) this.logger.error(`${envelope.event} ${envelope.id} failed 1 time; dead-lettered: ${message}`);
		else this.logger.warn(`${envelope.event} ${envelope.id} failed (attempt 1); retrying in ${delay} ms: ${message}`);
		// a copy handled meanwhile (another delivery of the same event) wins: nothing to record then
		await this.db.execute(
			`INSERT INTO inbox (event_id, event, payload, correlation_id, status, attempts, last_error, next_attempt_at)
			 VALUES ($1, $2, $3, $4, $5, 1, $6, now() + make_interval(secs => $7::double precision / 1000)) ON CONFLICT (event_id) DO NOTHING`,
			[envelope.id, envelope.event, JSON.stringify(envelope), envelope.correlationId, dead ? "DEAD" : "PENDING", message, delay]
		);
	}

	/** Runs a pass now (or right after the one in progress). */
	kick(): void {
		this.pump.kick();
	}

	/**
	 * Handles every event that is due, longest due first (new events in the order received), up to
	 * `concurrency` at a time (each worker claims the next row nobody holds). A pass starts one worker and
	 * adds another each time a claim finds work, so a wake for one event costs one claim, not `concurrency`
	 * transactions that mostly find nothing. Answers how many it took.
	 */
	async drain(stop: () => boolean = () => false): Promise<number> {
		const max = Math.max(1, this.policy.concurrency ?? 1);
		let taken = 0;
		let running = 0;
		let failure: unknown;
		const workers: Promise<void>[] = [];
		// Each worker's failure is caught the moment it happens: a later worker failing while this pass still
		// waits for an earlier one must not be an unhandled rejection (which ends the process).
		const startWorker = () => {
			running++;
			this.workers++;
			workers.push(worker().catch(err => void (failure ??= err)));
		};
		// handlings on receipt take their share of the handlers
		const oneMore = () => {
			if (running + this.active < max) startWorker();
		};
		const worker = async () => {
			try {
				while (!stop() && (await this.handleNext(oneMore))) taken++;
			} finally {
				running--;
				this.workers--;
				this.handOutHandlers();
			}
		};
		startWorker();
		// every worker is waited for (the list grows while this waits), and the first failure is passed on
		for (let i = 0; i < workers.length; i++) await workers[i];
		if (failure !== undefined) throw failure;
		return taken;
	}

	/**
	 * Claims the longest due event and handles it (`claimed` runs once it holds one). Answers false when none
	 * is due. The claim marks the event handled in the same statement: the mark commits with the handler's
	 * writes, or is replaced by the failure's own record when the handler throws, so the transaction ends
	 * right after the handler's last statement. Locks the handler takes (a hot product's stock row) are
	 * held only for the handler's own work and the COMMIT.
	 */
	private async handleNext(claimed: () => void): Promise<boolean> {
		return this.db.transaction(async t => {
			const [row] = await this.db.query<InboxRow>(
				`UPDATE inbox SET status = 'HANDLED', attempts = attempts + 1, handled_at = now(), last_error = NULL, handled_by = $1
				 WHERE event_id = (
				   SELECT event_id FROM inbox WHERE status = 'PENDING' AND next_attempt_at <= now()
				   ORDER BY next_attempt_at, received_at, event_id LIMIT 1 FOR UPDATE SKIP LOCKED
				 )
				 RETURNING event_id, event, payload, attempts`,
				[this.nodeId || null],
				t
			);
			if (!row) return false;
			claimed();
			this.metrics?.attempted(row.event);
			const subscription = this.subscriptions.find(row.event);
			const span = this.handlingSpan(row.event, row.event_id, row.attempts, row.payload);
			const started = performance.now();
			try {
				if (!subscription) throw new Error(`No handler for ${row.event}`);
				// A savepoint: a failing handler's writes are undone, the failure itself is kept. The handling
				// continues the trace of the call that wrote the event, and the events it writes carry it on.
				const trace: TraceContext | undefined = span ? { traceId: span.traceID, spanId: span.id, sampled: span.sampled } : row.payload.trace;
				await withTrace(trace, () =>
					this.db.sequelize.transaction({ transaction: t }, inner => subscription.handle.call(this.self, row.payload, inner))
				);
				span?.finish();
				this.noteHandling(row.event, performance.now() - started);
			} catch (err) {
				span?.setError(err as Error).finish();
				this.metrics?.failed(row.event);
				// the claim counted this attempt
				const attempts = row.attempts;
				const message = err instanceof Error ? err.message : String(err);
				if (attempts >= this.policy.maxAttempts) {
					this.logger.error(`${row.event} ${row.event_id} failed ${attempts} times; dead-lettered: ${message}`);
					await this.db.execute(
						`UPDATE inbox SET status = 'DEAD', last_error = $2, handled_at = NULL, handled_by = NULL WHERE event_id = $1`,
						[row.event_id, message],
						t
					);
				} else {
					const delay = retryDelayMs(attempts, this.policy.baseDelayMs, this.policy.maxDelayMs);
					this.logger.warn(`${row.event} ${row.event_id} failed (attempt ${attempts}); retrying in ${delay} ms: ${message}`);
					await this.db.execute(
						`UPDATE inbox SET status = 'PENDING', last_error = $2, handled_at = NULL, handled_by = NULL,
						   next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
						 WHERE event_id = $1`,
						[row.event_id, message, delay],
						t
					);
				}
			}
			return true;
		});
	}

	/** A span for one handling of an event, when tracing is on: tagged with the event and its correlation, never its payload. */
	private handlingSpan(event: string, eventId: string, attempt: number, payload: EventEnvelope): ReturnType<Tracer["startSpan"]> | undefined {
		if (!this.tracer?.isEnabled()) return undefined;
		const { trace, correlationId } = payload;
		const correlateBy = this.subscriptions.find(event)?.definition.correlateBy ?? "correlationId";
		return this.tracer.startSpan(`handle ${event}`, {
			...(trace ? { traceID: trace.traceId, parentID: trace.spanId, sampled: parentSpanOf(trace).sampled } : {}),
			type: "event",
			service: this.subscriptions.service,
			tags: { event, eventId, attempt, [correlateBy]: correlationId, nodeID: this.nodeId }
		});
	}

	async deadLetters(): Promise<DeadLetter[]> {
		const rows = await this.db.query<InboxRow & { last_error: string | null; received_at: Date }>(
			`SELECT event_id, event, payload, attempts, last_error, received_at FROM inbox WHERE status = 'DEAD' ORDER BY received_at DESC LIMIT 500`
		);
		return rows.map(r => ({
			eventId: r.event_id,
			event: r.event,
			payload: redacted(r.payload, this.subscriptions.find(r.event)?.definition.secrets),
			attempts: r.attempts,
			lastError: r.last_error,
			receivedAt: r.received_at.toISOString()
		}));
	}

	/** Puts a dead letter back in line with a fresh set of attempts. Answers false when there is none with that id. */
	async replay(eventId: string): Promise<boolean> {
		const rows = await this.db.execute(
			`UPDATE inbox SET status = 'PENDING', attempts = 0, next_attempt_at = now() WHERE event_id = $1 AND status = 'DEAD' RETURNING 1`,
			[eventId]
		);
		if (rows.length > 0) this.kick();
		return rows.length > 0;
	}

	/** Whether an event id has been handled here (for operators and tests). */
	async status(eventId: string): Promise<"PENDING" | "HANDLED" | "DEAD" | undefined> {
		const [row] = await this.db.query<{ status: "PENDING" | "HANDLED" | "DEAD" }>(`SELECT status FROM inbox WHERE event_id = $1`, [eventId]);
		return row?.status;
	}
}
