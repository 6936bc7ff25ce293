import type { Migration } from "../../lib/database";

/** The `notification` schema. Append new migrations; never edit one that has shipped. */
export const notificationMigrations: Migration[] = [
	{
		name: "0001-notifications",
		up: async ({ sql }) => {
			// dedupe_key names the fact and the channel: the same fact is recorded, and so sent, once.
			await sql(`
				CREATE TABLE notifications (
					id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
					seq bigint GENERATED ALWAYS AS IDENTITY,
					user_id uuid NOT NULL,
					channel text NOT NULL CHECK (channel IN ('email', 'sms')),
					template text NOT NULL,
					recipient text,
					subject text,
					body text NOT NULL,
					html text,
					status text NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'SKIPPED')),
					attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
					last_error text,
					dedupe_key text NOT NULL UNIQUE,
					next_attempt_at timestamptz,
					created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
					sent_at timestamptz,
					CONSTRAINT notifications_pending_has_recipient CHECK (status <> 'PENDING' OR recipient IS NOT NULL)
				)`);
			await sql(`CREATE INDEX notifications_user_idx ON notifications (user_id, seq DESC)`);
			await sql(`CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'PENDING'`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE notifications`);
		}
	},
	{
		// A mailed link's token waits here, apart from the stored text (which shows it masked), until the
		// message is sent or fails for good; the constraint makes sure no finished message keeps one.
		name: "0002-link-token-secrets",
		up: async ({ sql }) => {
			await sql(`ALTER TABLE notifications ADD COLUMN secret text`);
			await sql(`ALTER TABLE notifications ADD CONSTRAINT notifications_secret_pending CHECK (secret IS NULL OR status = 'PENDING')`);
		},
		down: async ({ sql }) => {
			await sql(`ALTER TABLE notifications DROP COLUMN secret`);
		}
	}
];
