import type { ServiceDatabase } from "../../lib/database";
import type { Transaction } from "sequelize";

/** The only code that touches the `cart` schema. Answers plain objects. */

export interface StoredLine {
	productId: string;
	quantity: number;
}

export class CartRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/** The user's lines, oldest first (the order the shopper added them). */
	async lines(userId: string): Promise<StoredLine[]> {
		const rows = await this.db.query<{ product_id: string; quantity: number }>(
			`SELECT product_id, quantity FROM items WHERE user_id = $1 ORDER BY added_at, product_id`,
			[userId]
		);
		return rows.map(r => ({ productId: r.product_id, quantity: r.quantity }));
	}

	async line(userId: string, productId: string): Promise<StoredLine | undefined> {
		const [row] = await this.db.query<{ quantity: number }>(`SELECT quantity FROM items WHERE user_id = $1 AND product_id = $2`, [userId, productId]);
		return row && { productId, quantity: row.quantity };
	}

	async countLines(userId: string): Promise<number> {
		const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM items WHERE user_id = $1`, [userId]);
		return row.n;
	}

	/**
	 * Adds `quantity` to the line (creating it), unless the result would pass `max`: then nothing changes
	 * and the answer is undefined. One statement, so two concurrent adds cannot pass the limit together.
	 */
	async increment(userId: string, productId: string, quantity: number, max: number): Promise<number | undefined> {
		const [row] = await this.db.execute<{ quantity: number }>(
			`INSERT INTO items (user_id, product_id, quantity) SELECT $1::uuid, $2::uuid, $3::int WHERE $3::int <= $4::int
			 ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = items.quantity + EXCLUDED.quantity, updated_at = now()
			   WHERE items.quantity + EXCLUDED.quantity <= $4::int
			 RETURNING quantity`,
			[userId, productId, quantity, max]
		);
		return row?.quantity;
	}

	/** Sets the quantity of an existing line; false when there is no such line. */
	async setQuantity(userId: string, productId: string, quantity: number): Promise<boolean> {
		const rows = await this.db.execute(`UPDATE items SET quantity = $3, updated_at = now() WHERE user_id = $1 AND product_id = $2 RETURNING 1`, [
			userId,
			productId,
			quantity
		]);
		return rows.length > 0;
	}

	async remove(userId: string, productId: string): Promise<void> {
		await this.db.execute(`DELETE FROM items WHERE user_id = $1 AND product_id = $2`, [userId, productId]);
	}

	async clear(userId: string): Promise<void> {
		await this.db.execute(`DELETE FROM items WHERE user_id = $1`, [userId]);
	}

	/**
	 * Takes an order's units out of the user's cart, once per order: a line the shopper changed since the
	 * snapshot keeps whatever is beyond the ordered quantity. Answers false when the order was taken out before.
	 */
	async removeOrdered(userId: string, orderId: string, lines: readonly StoredLine[], transaction?: Transaction): Promise<boolean> {
		const run = async (t: Transaction) => {
			const fresh = await this.db.execute(
				`INSERT INTO checkouts (order_id, user_id) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING RETURNING 1`,
				[orderId, userId],
				t
			);
			if (fresh.length === 0) return false;
			// one statement: lines ordered whole are deleted, the others lowered (two disjoint sets of rows)
			await this.db.execute(
				`WITH d AS (SELECT * FROM unnest($2::uuid[], $3::int[]) AS d (product_id, quantity)),
				 gone AS (DELETE FROM items i USING d WHERE i.user_id = $1 AND i.product_id = d.product_id AND i.quantity <= d.quantity)
				 UPDATE items i SET quantity = i.quantity - d.quantity, updated_at = now() FROM d
				 WHERE i.user_id = $1 AND i.product_id = d.product_id AND i.quantity > d.quantity`,
				[userId, lines.map(l => l.productId), lines.map(l => l.quantity)],
				t
			);
			return true;
		};
		return transaction ? run(transaction) : this.db.transaction(run);
	}

	/** Drops a product from every cart (it was archived). */
	async removeProductEverywhere(productId: string): Promise<number> {
		const rows = await this.db.execute(`DELETE FROM items WHERE product_id = $1 RETURNING 1`, [productId]);
		return rows.length;
	}
}
