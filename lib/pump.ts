/**
 * Runs `pass` every `pollMs` and whenever kicked, never two at once: a kick during a pass runs one more
 * right after it. Used by the outbox relay and the inbox so new work goes out at once and nothing
 * waits longer than one poll.
 */
export class Pump {
	private timer?: NodeJS.Timeout;
	private running?: Promise<unknown>;
	private again = false;
	private stopped = true;

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
		this.running = this.pass(() => this.stopped)
			.catch(this.onError)
			.finally(() => {
				this.running = undefined;
				if (this.again) {
					this.again = false;
					this.kick();
				}
			});
	}
}
