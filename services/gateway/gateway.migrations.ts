import type { Migration } from "../../lib/database";

/** The `gateway` schema: what every gateway of a cluster shares. Append new migrations; never edit one that has shipped. */
export const gatewayMigrations: Migration[] = [
	{
		name: "0001-rate-limits",
		up: async ({ sql }) => {
			// Hits per client and window, added up by every gateway (lib/rate-limit.ts).
			await sql(`
				CREATE TABLE rate_limits (
					key text NOT NULL,
					window_index bigint NOT NULL,
					hits integer NOT NULL,
					expires_at timestamptz NOT NULL,
					PRIMARY KEY (key, window_index)
				)`);
			await sql(`CREATE INDEX rate_limits_expires_idx ON rate_limits (expires_at)`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE rate_limits`);
		}
	}
];
