import type { Migration } from "../../lib/database";

/** The `inventory` schema. Append new migrations; never edit one that has shipped. */
export const inventoryMigrations: Migration[] = [
	{
		name: "0001-stock-ledger-reservations",
		up: async ({ sql }) => {
			// The CHECKs are the last line of defence: the service refuses such changes before they get here.
			await sql(`
				CREATE TABLE stock (
					product_id uuid PRIMARY KEY,
					on_hand integer NOT NULL DEFAULT 0,
					reserved integer NOT NULL DEFAULT 0,
					updated_at timestamptz NOT NULL DEFAULT now(),
					CONSTRAINT stock_on_hand_not_negative CHECK (on_hand >= 0),
					CONSTRAINT stock_reserved_within_on_hand CHECK (reserved >= 0 AND reserved <= on_hand)
				)`);
			await sql(`
				CREATE TABLE adjustments (
					id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
					seq bigint GENERATED ALWAYS AS IDENTITY,
					product_id uuid NOT NULL,
					delta integer NOT NULL CHECK (delta <> 0),
					reason text NOT NULL,
					on_hand_after integer NOT NULL CHECK (on_hand_after >= 0),
					actor_id uuid,
					created_at timestamptz NOT NULL DEFAULT clock_timestamp()
				)`);
			await sql(`CREATE INDEX adjustments_product_idx ON adjustments (product_id, seq DESC)`);
			// FAILED records an attempt that reserved nothing, so a retry answers the same shortages.
			await sql(`
				CREATE TABLE reservations (
					order_id uuid PRIMARY KEY,
					status text NOT NULL CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED', 'EXPIRED', 'FAILED')),
					items jsonb NOT NULL,
					shortages jsonb,
					created_at timestamptz NOT NULL DEFAULT now(),
					expires_at timestamptz NOT NULL,
					committed_at timestamptz,
					released_at timestamptz
				)`);
			await sql(`CREATE INDEX reservations_due_idx ON reservations (expires_at) WHERE status = 'RESERVED'`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE reservations, adjustments, stock`);
		}
	},
	{
		name: "0002-returned-and-cancelled-reservations",
		up: async ({ sql }) => {
			// RETURNED: an order cancelled after its reservation was committed had its units put back on hand.
			await sql(`ALTER TABLE reservations DROP CONSTRAINT reservations_status_check`);
			await sql(`
				ALTER TABLE reservations ADD CONSTRAINT reservations_status_check
				CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED', 'EXPIRED', 'FAILED', 'RETURNED'))`);
			// Set once order.cancelled has been handled: a confirmation handled later (a retry, a replayed
			// dead letter) must never take stock for a cancelled order.
			await sql(`ALTER TABLE reservations ADD COLUMN cancelled_at timestamptz`);
		},
		down: async ({ sql }) => {
			await sql(`ALTER TABLE reservations DROP COLUMN cancelled_at`);
			await sql(`ALTER TABLE reservations DROP CONSTRAINT reservations_status_check`);
			await sql(`
				ALTER TABLE reservations ADD CONSTRAINT reservations_status_check
				CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED', 'EXPIRED', 'FAILED'))`);
		}
	},
	{
		name: "0003-finished-reservations-index",
		up: async ({ sql }) => {
			// Retention finds reservations that can change no more by when they ended (a failed one: when it was tried).
			await sql(`
				CREATE INDEX reservations_finished_idx ON reservations ((coalesce(released_at, created_at)))
				WHERE status IN ('RELEASED', 'EXPIRED', 'RETURNED', 'FAILED')`);
		},
		down: async ({ sql }) => {
			await sql(`DROP INDEX reservations_finished_idx`);
		}
	}
];
