import type { Logger } from "moleculer";

/**
 * The last line of defence of a node: a promise rejection nobody handled is a bug, but it must not end a
 * process that is serving orders (Node's default is to exit). It is logged with its stack and counted
 * (`unhandledRejections()`), so it is seen and fixed, never hidden; the test suite fails on any it meets.
 */
let count = 0;

export function installProcessGuard(logger: Logger): void {
	process.on("unhandledRejection", reason => {
		count++;
		logger.error(`Unhandled promise rejection #${count} (a bug; the node keeps running):`, reason);
	});
}

/** Unhandled rejections this process has logged since it started. */
export function unhandledRejections(): number {
	return count;
}

/** How long a node that failed to start may take to stop before it exits anyway. */
export const START_FAILURE_EXIT_MS = 5000;
