import type { Migration } from "../../lib/database";

/** The `catalog` schema. Append new migrations; never edit one that has shipped. */
export const catalogMigrations: Migration[] = [
	{
		name: "0001-products",
		up: async ({ sql }) => {
			// Prices carry no currency: the store sells in one (config.store.currency).
			// search_vector is kept by PostgreSQL itself, so no write path can forget it.
			await sql(`
				CREATE TABLE products (
					id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
					sku text NOT NULL CHECK (sku ~ '^[A-Za-z0-9._-]{1,64}$'),
					name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
					description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 5000),
					price_cents integer NOT NULL CHECK (price_cents >= 0),
					category text NOT NULL CHECK (char_length(category) BETWEEN 1 AND 100),
					image_url text,
					active boolean NOT NULL DEFAULT true,
					created_at timestamptz NOT NULL DEFAULT now(),
					updated_at timestamptz NOT NULL DEFAULT now(),
					search_vector tsvector GENERATED ALWAYS AS (
						setweight(to_tsvector('english'::regconfig, name), 'A') ||
						setweight(to_tsvector('english'::regconfig, description), 'B')
					) STORED
				)`);
			// SKUs stay unique across archived products too: orders keep referring to them.
			await sql(`CREATE UNIQUE INDEX products_sku_key ON products (lower(sku))`);
			await sql(`CREATE INDEX products_search_idx ON products USING gin (search_vector)`);
			await sql(`CREATE INDEX products_category_idx ON products (lower(category)) WHERE active`);
			await sql(`CREATE INDEX products_price_idx ON products (price_cents, id) WHERE active`);
			await sql(`CREATE INDEX products_created_idx ON products (created_at DESC, id) WHERE active`);
		},
		down: async ({ sql }) => {
			await sql(`DROP TABLE products`);
		}
	},
	{
		// Every listing shape walks an index in its own order and stops after its page (or, for the total, after
		// MAX_LISTING_DEPTH products): sorting by name, and each sort within a category, had to read and sort the
		// whole table or category. Measured and explained in bench/findings.md ("Catalog at scale").
		name: "0002-listing-indexes",
		up: async ({ sql }) => {
			await sql(`CREATE INDEX products_name_idx ON products (lower(name), id) WHERE active`);
			await sql(`CREATE INDEX products_category_price_idx ON products (lower(category), price_cents, id) WHERE active`);
			await sql(`CREATE INDEX products_category_name_idx ON products (lower(category), lower(name), id) WHERE active`);
			await sql(`CREATE INDEX products_category_created_idx ON products (lower(category), created_at DESC, id) WHERE active`);
			// the partial index on lower(category) gives the planner no statistics: it guessed 0.5 % of the table for
			// every category (500 of 100,000 for one of 15,000) and sorted whole categories instead of walking an index
			await sql(`CREATE STATISTICS products_category_stats ON (lower(category)) FROM products`);
			await sql(`ANALYZE products`);
		},
		down: async ({ sql }) => {
			await sql(`DROP STATISTICS products_category_stats`);
			for (const index of ["products_name_idx", "products_category_price_idx", "products_category_name_idx", "products_category_created_idx"]) {
				await sql(`DROP INDEX ${index}`);
			}
		}
	}
];
