import { inspect } from "node:util";

/**
 * The one way tests wait: for a condition, never for a fixed time. `eventually` polls a check until it
 * stops throwing; `until` polls a probe until its value is what the test waits for, and names both on
 * timeout. A check that finds the condition can no longer come true (the process it waits for died) throws
 * `GiveUp`, which ends the wait at once.
 */

/** Thrown by a check when waiting longer cannot help: `eventually` (and `until`) pass it on at once. */
export class GiveUp extends Error {}

/** Polls until `check` stops throwing, then answers its value (for what events do in the background). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			return await check();
		} catch (err) {
			if (err instanceof GiveUp || Date.now() > deadline) throw err;
			await new Promise(r => setTimeout(r, intervalMs));
		}
	}
}

/**
 * Polls `probe` until `ok` holds for what it answers, then answers that value. On timeout the error names
 * `what` was waited for and the last value seen.
 */
export async function until<T>(what: string, probe: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
	const notYet = new Error(what);
	let last: T | undefined;
	try {
		return await eventually(
			async () => {
				last = await probe();
				if (!ok(last)) throw notYet;
				return last;
			},
			timeoutMs,
			intervalMs
		);
	} catch (err) {
		if (err !== notYet) throw err;
		throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${inspect(last, { depth: 4, breakLength: Infinity })}`);
	}
}
