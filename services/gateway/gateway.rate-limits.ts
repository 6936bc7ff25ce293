import type { ServiceDatabase } from "../../lib/database";
import type { RateHit, RateStore, RateTotal } from "../../lib/rate-limit";

/** The rate limits' shared counters in the gateway's schema: one statement per report, whatever its size. */
export class PgRateStore implements RateStore {
	constructor(private readonly db: ServiceDatabase) {}

	async add(hits: RateHit[]): Promise<RateTotal[]> {
		// rows are sorted by key, so two gateways reporting at once lock them in the same order
		const rows = await this.db.execute<{ key: string; window_index: string; hits: number }>(
			`INSERT INTO rate_limits AS r (key, window_index, hits, expires_at)
			 SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::timestamptz[])
			 ON CONFLICT (key, window_index) DO UPDATE SET hits = r.hits + EXCLUDED.hits
			 RETURNING key, window_index, hits`,
			[hits.map(h => h.key), hits.map(h => h.window), hits.map(h => h.hits), hits.map(h => h.expiresAt)]
		);
		return rows.map(r => ({ key: r.key, window: Number(r.window_index), hits: r.hits }));
	}

	async totals(rows: { key: string; window: number }[]): Promise<RateTotal[]> {
		const found = await this.db.query<{ key: string; window_index: string; hits: number }>(
			`SELECT r.key, r.window_index, r.hits FROM rate_limits r JOIN unnest($1::text[], $2::bigint[]) AS w (key, window_index) USING (key, window_index)`,
			[rows.map(r => r.key), rows.map(r => r.window)]
		);
		return found.map(r => ({ key: r.key, window: Number(r.window_index), hits: r.hits }));
	}

	/** Deletes counters whose windows are over, a batch at a time. */
	async purge(): Promise<number> {
		let total = 0;
		for (;;) {
			const rows = await this.db.execute(
				`DELETE FROM rate_limits WHERE (key, window_index) IN (SELECT key, window_index FROM rate_limits WHERE expires_at < now() LIMIT 1000) RETURNING 1 AS n`
			);
			total += rows.length;
			if (rows.length < 1000) return total;
		}
	}
}
