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
	}
];
