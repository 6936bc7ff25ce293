/** Polls until `check` stops throwing, then answers its value (for what events do in the background). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			return await check();
		} catch (err) {
			if (Date.now() > deadline) throw err;
			await new Promise(r => setTimeout(r, intervalMs));
		}
	}
}
