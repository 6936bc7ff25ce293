import type { Migration } from "../../lib/database";

/** The `order` schema. Append new migrations; never edit one that has shipped. */
export const orderMigrations: Migration[] = [
	{
		name: "0001-orders",
		up: async ({ sql }) => {
			// Lines, customer and address are snapshots taken when the order is placed: later catalog or
			// profile changes do not rewrite an order. `payment_token` is held only until payment answers.
			await sql(`
				CREATE TABLE orders (
					id uuid PRIMARY KEY,
					seq bigint GENERATED ALWAYS AS IDENTITY,
					user_id uuid NOT NULL,
					status text NOT NULL CHECK (status IN ('PENDING', 'STOCK_RESERVED', 'CONFIRMED', 'CANCELLED')),
					cancel_reason text CHECK (cancel_reason IN ('out_of_stock', 'payment_declined', 'customer_request', 'timeout')),
					items jsonb NOT NULL,
					total_cents bigint NOT NULL CHECK (total_cents >= 0),
					currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
					customer jsonb NOT NULL,
					shipping_address jsonb,
					payment_token text,
					payment_status text CHECK (payment_status IN ('SUCCEEDED', 'DECLINED', 'REFUNDED')),
					reservation_expires_at timestamptz,
					history jsonb NOT NULL,
					idempotency_key text,
					request_hash text,
					created_response jsonb NOT NULL,
					nudges integer NOT NULL DEFAULT 0,
					last_nudge_at timestamptz,
					created_at timestamptz NOT NULL DEFAULT now(),
					updated_at timestamptz NOT NULL DEFAULT now(),
					step_started_at timestamptz NOT NULL DEFAULT now(),
					CONSTRAINT orders_cancel_reason_iff_cancelled CHECK ((status = 'CANCELLED') = (cancel_reason IS NOT NULL)),
					CONSTRAINT orders_key_has_hash CHECK ((idempotency_key IS NULL) = (request_hash IS NULL))
				)`);
			// one order per user and key; concurrent requests with one key meet here
			await sql(`CREATE UNIQUE INDEX orders_idempotency_idx ON orders (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
			await sql(`CREATE INDEX orders_user_idx ON orders (user_id, seq DESC)`);
			// the watchdog looks only at orders still in flight
			await sql(`CREATE INDEX orders_in_flight_idx ON orders (step_started_at) WHERE status IN ('PENDING', 'STOCK_RESERVED')`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE orders`);
		}
	},
	{
		name: "0002-cart-cleared",
		up: async ({ sql }) => {
			// false while the order's lines may still sit in the shopper's cart (taking them out failed): the
			// shopper's next order takes them out first, so they are never bought twice
			await sql(`ALTER TABLE orders ADD COLUMN cart_cleared boolean NOT NULL DEFAULT true`);
			await sql(`CREATE INDEX orders_cart_pending_idx ON orders (user_id) WHERE NOT cart_cleared`);
		},
		down: async ({ sql }) => {
			await sql(`ALTER TABLE orders DROP COLUMN cart_cleared`);
		}
	}
];
