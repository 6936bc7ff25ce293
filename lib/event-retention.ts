import type { ServiceDatabase } from "./database";

/** Rows deleted per statement: short statements that take few locks, so the saga never waits behind a purge. */
const BATCH = 500;

/**
 * Deletes what the reliable events no longer need: outbox rows delivered to every consumer, and inbox rows
 * handled, more than `days` ago. Pending rows and dead letters stay whatever their age (an operator deals
 * with those). A duplicate of a purged event arriving later is still harmless: every consumer is also
 * idempotent per order. Answers how many rows went.
 */
export async function purgeDeliveredEvents(
	db: ServiceDatabase,
	days: number,
	stopping: () => boolean = () => false
): Promise<{ outbox: number; inbox: number }> {
	const purged = { outbox: 0, inbox: 0 };
	const batches = async (sql: string): Promise<number> => {
		let total = 0;
		while (!stopping()) {
			const rows = await db.execute(sql, [days]);
			total += rows.length;
			if (rows.length < BATCH) break;
		}
		return total;
	};
	purged.outbox = await batches(
		`DELETE FROM outbox WHERE id IN (
		   SELECT id FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(days => $1) LIMIT ${BATCH}
		 ) RETURNING 1 AS n`
	);
	purged.inbox = await batches(
		`DELETE FROM inbox WHERE event_id IN (
		   SELECT event_id FROM inbox WHERE status = 'HANDLED' AND handled_at < now() - make_interval(days => $1) LIMIT ${BATCH}
		 ) RETURNING 1 AS n`
	);
	return purged;
}
