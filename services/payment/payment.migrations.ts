import type { Migration } from "../../lib/database";

/** The `payment` schema. Append new migrations; never edit one that has shipped. */
export const paymentMigrations: Migration[] = [
	{
		name: "0001-payments",
		up: async ({ sql }) => {
			// order_id UNIQUE: one charge per order whatever happens. No column ever holds a card token.
			await sql(`
				CREATE TABLE payments (
					id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
					seq bigint GENERATED ALWAYS AS IDENTITY,
					order_id uuid NOT NULL UNIQUE,
					user_id uuid NOT NULL,
					amount_cents integer NOT NULL CHECK (amount_cents > 0),
					currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
					status text NOT NULL CHECK (status IN ('SUCCEEDED', 'DECLINED', 'REFUNDED')),
					decline_code text,
					provider_ref text NOT NULL,
					refund_ref text,
					created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
					updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
					CONSTRAINT payments_decline_code_iff_declined CHECK ((status = 'DECLINED') = (decline_code IS NOT NULL)),
					CONSTRAINT payments_refund_ref_iff_refunded CHECK ((status = 'REFUNDED') = (refund_ref IS NOT NULL))
				)`);
			await sql(`CREATE INDEX payments_user_idx ON payments (user_id, seq DESC)`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE payments`);
		}
	},
	{
		name: "0002-voided-orders",
		up: async ({ sql }) => {
			// An order cancelled before payment was asked: a payment request arriving later charges nothing.
			await sql(`
				CREATE TABLE voided_orders (
					order_id uuid PRIMARY KEY,
					reason text,
					created_at timestamptz NOT NULL DEFAULT clock_timestamp()
				)`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE voided_orders`);
		}
	},
	{
		name: "0003-simulated-network-records",
		up: async ({ sql }) => {
			// What a real card provider keeps on its side: its charges and refunds by idempotency key, the same
			// for every payment instance and after restarts (the simulated provider's records).
			await sql(`
				CREATE TABLE simulated_charges (
					idempotency_key text PRIMARY KEY,
					provider_ref text NOT NULL UNIQUE,
					status text NOT NULL,
					decline_code text,
					amount_cents bigint NOT NULL,
					refunded_cents bigint NOT NULL DEFAULT 0 CHECK (refunded_cents <= amount_cents),
					created_at timestamptz NOT NULL DEFAULT now()
				)`);
			await sql(`
				CREATE TABLE simulated_refunds (
					idempotency_key text PRIMARY KEY,
					refund_ref text NOT NULL UNIQUE,
					provider_ref text NOT NULL REFERENCES simulated_charges (provider_ref),
					amount_cents bigint NOT NULL,
					created_at timestamptz NOT NULL DEFAULT now()
				)`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE simulated_refunds, simulated_charges`);
		}
	}
];
