import type { Migration } from "../../lib/database";

/** The `cart` schema. Append new migrations; never edit one that has shipped. */
export const cartMigrations: Migration[] = [
	{
		name: "0001-cart-items",
		up: async ({ sql }) => {
			await sql(`
				CREATE TABLE items (
					user_id uuid NOT NULL,
					product_id uuid NOT NULL,
					quantity integer NOT NULL CHECK (quantity > 0),
					added_at timestamptz NOT NULL DEFAULT now(),
					updated_at timestamptz NOT NULL DEFAULT now(),
					PRIMARY KEY (user_id, product_id)
				)`);
			await sql(`CREATE INDEX items_product_idx ON items (product_id)`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE items`);
		}
	},
	{
		name: "0002-checkouts",
		up: async ({ sql }) => {
			// the orders whose lines have left the cart: taking them out twice would eat newer additions
			await sql(`
				CREATE TABLE checkouts (
					order_id uuid PRIMARY KEY,
					user_id uuid NOT NULL,
					created_at timestamptz NOT NULL DEFAULT now()
				)`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE checkouts`);
		}
	}
];
