import type { Migration } from "../../lib/database";

/** The `identity` schema. Append new migrations; never edit one that has shipped. */
export const identityMigrations: Migration[] = [
	{
		name: "0001-users-and-tokens",
		up: async ({ sql }) => {
			await sql(`
				CREATE TABLE users (
					id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
					email text NOT NULL,
					name text NOT NULL,
					phone text,
					password_hash text NOT NULL,
					roles text[] NOT NULL DEFAULT '{customer}',
					created_at timestamptz NOT NULL DEFAULT now(),
					updated_at timestamptz NOT NULL DEFAULT now()
				)`);
			await sql(`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`);
			await sql(`
				CREATE TABLE refresh_tokens (
					id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
					user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
					family_id uuid NOT NULL,
					token_hash text NOT NULL UNIQUE,
					expires_at timestamptz NOT NULL,
					created_at timestamptz NOT NULL DEFAULT now(),
					revoked_at timestamptz,
					replaced_by uuid
				)`);
			await sql(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);
			await sql(`
				CREATE TABLE login_failures (
					key text PRIMARY KEY,
					failures integer NOT NULL,
					window_started_at timestamptz NOT NULL
				)`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE login_failures, refresh_tokens, users`);
		}
	},
	{
		name: "0002-login-counters-and-addresses",
		up: async ({ sql }) => {
			// A progressive counter spaces attempts out from the last one.
			await sql(`ALTER TABLE login_failures ADD COLUMN last_attempt_at timestamptz NOT NULL DEFAULT now()`);
			await sql(`CREATE INDEX login_failures_window_idx ON login_failures (window_started_at)`);
			// Where each account signed in from: its owner is never slowed down there by someone else's guesses.
			await sql(`
				CREATE TABLE login_addresses (
					user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
					address text NOT NULL,
					last_login_at timestamptz NOT NULL DEFAULT now(),
					PRIMARY KEY (user_id, address)
				)`);
			await sql(`CREATE INDEX login_addresses_last_login_idx ON login_addresses (last_login_at)`);
			// The purge looks for dead tokens by expiry and by revocation.
			await sql(`CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at)`);
			// Access tokens name their session (the family): resolving one asks whether the family is still live.
			await sql(`CREATE INDEX refresh_tokens_live_family_idx ON refresh_tokens (family_id) WHERE revoked_at IS NULL`);
		},
		down: async ({ sql }) => {
			await sql(`DROP INDEX refresh_tokens_live_family_idx, refresh_tokens_expires_idx`);
			await sql(`DROP TABLE login_addresses`);
			await sql(`ALTER TABLE login_failures DROP COLUMN last_attempt_at`);
			await sql(`DROP INDEX IF EXISTS login_failures_window_idx`);
		}
	},
	{
		name: "0004-account-lifecycle",
		up: async ({ sql }) => {
			// accounts that exist before verification does count as verified: nobody is locked out of checkout
			await sql(`ALTER TABLE users ADD COLUMN email_verified_at timestamptz`);
			await sql(`UPDATE users SET email_verified_at = created_at`);
			// Links mailed to a user (verify an address, reset a password): only a hash of each token is kept.
			// `email` is where the link went; for a verification, the address it verifies.
			await sql(`
				CREATE TABLE account_tokens (
					id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
					user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
					purpose text NOT NULL CHECK (purpose IN ('verifyEmail', 'resetPassword')),
					token_hash text NOT NULL UNIQUE,
					email text NOT NULL,
					created_at timestamptz NOT NULL DEFAULT now(),
					expires_at timestamptz NOT NULL,
					used_at timestamptz
				)`);
			// the mail limits count a user's recent tokens of a purpose; the purge finds old ones by age
			await sql(`CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose, created_at DESC)`);
			await sql(`CREATE INDEX account_tokens_created_idx ON account_tokens (created_at)`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE account_tokens`);
			await sql(`ALTER TABLE users DROP COLUMN email_verified_at`);
		}
	}
];
