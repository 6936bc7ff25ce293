import { Errors } from "moleculer";
import { registerErrors } from "./errors";

/** 503 with Retry-After: this node is doing as much of this work as it can; try again in a moment. */
export class ServerBusyError extends Errors.MoleculerError {
	constructor(retryAfterSeconds = 1) {
		super("The server is busy; please try again shortly", 503, "SERVER_BUSY", { retryAfter: retryAfterSeconds });
	}
}
registerErrors(ServerBusyError);

/**
 * Bounds CPU-heavy work (bcrypt) on one node: at most `maxInFlight` run at once and `maxQueue` wait; past
 * that a caller is refused at once with ServerBusyError instead of queueing without limit, so a flood cannot
 * push every login to seconds, and the excess is told when to come back. Work marked `priority` (a login
 * to an account from an address it signed in from before) has a queue of its own, of the same size, and
 * takes every free slot first: a flood of strangers, which keeps the ordinary queue full, does not keep
 * the shop's own users out.
 */
export class Bulkhead {
	private active = 0;
	private readonly waiting: (() => void)[] = [];
	private readonly waitingFirst: (() => void)[] = [];

	constructor(
		private readonly maxInFlight: number,
		private readonly maxQueue: number
	) {}

	async run<T>(work: () => Promise<T>, priority = false): Promise<T> {
		if (this.active >= this.maxInFlight) {
			const queue = priority ? this.waitingFirst : this.waiting;
			if (queue.length >= this.maxQueue) throw new ServerBusyError();
			await new Promise<void>(resolve => queue.push(resolve));
		} else {
			this.active++;
		}
		try {
			return await work();
		} finally {
			// hand the slot straight to the next in line, priority first, or free it
			const next = this.waitingFirst.shift() ?? this.waiting.shift();
			if (next) next();
			else this.active--;
		}
	}

	get inFlight(): number {
		return this.active;
	}

	get queued(): number {
		return this.waiting.length + this.waitingFirst.length;
	}
}
