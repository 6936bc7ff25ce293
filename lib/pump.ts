import { withTrace } from "./events";
/**
 * Runs `pass` every `pollMs` and whenever kicked, never two at once: a kick during a pass runs one more
 * right after it. Used by the outbox relay and the inbox so new work goes out at once and nothing
 * waits longer than one poll. A pass that fails (the database is down, say) makes the next wait: twice as
 * long after each failure in a row, at most `MAX_BACKOFF_MS`; the first pass that works resets it.
 */
/** The longest a failing pump waits between passes. */
export const MAX_BACKOFF_MS = 5_000;

export class Pump {
	private timer?: NodeJS.Timeout;
	private running?: Promise<unknown>;
	private again = false;
	private stopped = true;
	/** Failed passes in a row, and no pass before this time (backing off). */
	private failures = 0;
	private pausedUntil = 0;

	constructor(
		private readonly pass: (stopping: () => boolean) => Promise<unknown>,
		private readonly pollMs: number,
		private readonly onError: (err: unknown) => void
	) {}

	start(): void {
		this.stopped = false;
		this.timer = setInterval(() => this.kick(), this.pollMs);
		this.kick();
	}

	/** Stops polling and waits for a pass in progress. */
	async stop(): Promise<void> {
		this.stopped = true;
		clearInterval(this.timer);
		await this.running?.catch(() => undefined);
	}

	/** Runs a pass now (or right after the one in progress). */
	kick(): void {
		if (this.stopped) return;
		if (this.running) {
			this.again = true;
			return;
		}
		if (Date.now() < this.pausedUntil) return;
		// A pass is nobody's request: it must not run in the trace of whichever call happened to kick it.
		this.running = withTrace(undefined, () => this.pass(() => this.stopped))
			.then(
				() => {
					this.failures = 0;
					this.pausedUntil = 0;
				},
				err => {
					this.failures++;
					this.pausedUntil = Date.now() + Math.min(MAX_BACKOFF_MS, this.pollMs * 2 ** Math.min(this.failures, 16));
					this.again = false;
					this.onError(err);
				}
			)
			.finally(() => {
				this.running = undefined;
				if (this.again) {
					this.again = false;
					this.kick();
				}
			});
	}
}
