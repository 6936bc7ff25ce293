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
	}
];
