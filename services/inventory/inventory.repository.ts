import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "../../lib/database";
import { levelOf, type StoredStatus } from "./inventory.rules";
import type { Adjustment, ReservationLine, Shortage, StockLevel } from "./inventory.types";

/** The only code that touches the `inventory` schema. Answers plain objects. */

interface StockRow {
	product_id: string;
	on_hand: number;
	reserved: number;
}

interface AdjustmentRow {
	id: string;
	product_id: string;
	delta: number;
	reason: string;
	on_hand_after: number;
	actor_id: string | null;
	created_at: Date;
}

interface ReservationRow {
	order_id: string;
	status: StoredStatus;
	items: ReservationLine[];
	shortages: Shortage[] | null;
	created_at: Date;
	expires_at: Date;
	past_expiry: boolean;
	cancelled: boolean;
}

/** A reservation as stored, with what the public shape leaves out. */
export interface StoredReservation {
	orderId: string;
	status: StoredStatus;
	items: ReservationLine[];
	shortages: Shortage[];
	createdAt: string;
	expiresAt: string;
	/** Judged by the database clock, the same one the sweep uses. */
	pastExpiry: boolean;
	/** `order.cancelled` was handled for this order. */
	cancelled: boolean;
}

export interface NewAdjustment {
	productId: string;
	delta: number;
	reason: string;
	onHandAfter: number;
	actorId: string | null;
}

const RESERVATION_COLUMNS =
	"order_id, status, items, shortages, created_at, expires_at, expires_at <= now() AS past_expiry, cancelled_at IS NOT NULL AS cancelled";
const ADJUSTMENT_COLUMNS = "id, product_id, delta, reason, on_hand_after, actor_id, created_at";

const toLevel = (r: StockRow): StockLevel => levelOf(r.product_id, r.on_hand, r.reserved);

function toAdjustment(r: AdjustmentRow): Adjustment {
	return {
		id: r.id,
		productId: r.product_id,
		delta: r.delta,
		reason: r.reason,
		onHandAfter: r.on_hand_after,
		actorId: r.actor_id,
		createdAt: r.created_at.toISOString()
	};
}

function toReservation(r: ReservationRow): StoredReservation {
	return {
		orderId: r.order_id,
		status: r.status,
		items: r.items,
		shortages: r.shortages ?? [],
		createdAt: r.created_at.toISOString(),
		expiresAt: r.expires_at.toISOString(),
		pastExpiry: r.past_expiry,
		cancelled: r.cancelled
	};
}

/** Columns for `unnest`: one array of product ids and one of quantities. */
function unzip(lines: readonly ReservationLine[]): [string[], number[]] {
	return [lines.map(l => l.productId), lines.map(l => l.quantity)];
}

export class InventoryRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/** Levels of the products that have a stock record, by product id. */
	async levels(productIds: readonly string[], transaction?: Transaction): Promise<Map<string, StockLevel>> {
		const rows = await this.db.query<StockRow>(
			`SELECT product_id, on_hand, reserved FROM stock WHERE product_id = ANY($1::uuid[])`,
			[productIds],
			transaction
		);
		return new Map(rows.map(r => [r.product_id, toLevel(r)]));
	}

	/**
	 * Locks the stock records of these products until `transaction` ends. Always in product id order, so
	 * two transactions locking overlapping sets wait for each other instead of deadlocking.
	 */
	async lockLevels(productIds: readonly string[], transaction: Transaction): Promise<Map<string, StockLevel>> {
		const rows = await this.db.query<StockRow>(
			`SELECT product_id, on_hand, reserved FROM stock WHERE product_id = ANY($1::uuid[]) ORDER BY product_id FOR UPDATE`,
			[productIds],
			transaction
		);
		return new Map(rows.map(r => [r.product_id, toLevel(r)]));
	}

	/** Creates an empty stock record if the product has none, then locks it. */
	async lockOrCreateLevel(productId: string, transaction: Transaction): Promise<StockLevel> {
		return (await this.lockOrCreateLevels([productId], transaction)).get(productId)!;
	}

	/** Creates empty stock records for the products that have none, then locks them all (in product id order). */
	async lockOrCreateLevels(productIds: readonly string[], transaction: Transaction): Promise<Map<string, StockLevel>> {
		await this.db.execute(
			`INSERT INTO stock (product_id) SELECT DISTINCT unnest($1::uuid[]) ORDER BY 1 ON CONFLICT (product_id) DO NOTHING`,
			[productIds],
			transaction
		);
		return this.lockLevels(productIds, transaction);
	}

	async setOnHand(productId: string, onHand: number, transaction: Transaction): Promise<StockLevel> {
		const [row] = await this.db.execute<StockRow>(
			`UPDATE stock SET on_hand = $2, updated_at = now() WHERE product_id = $1 RETURNING product_id, on_hand, reserved`,
			[productId, onHand],
			transaction
		);
		return toLevel(row);
	}

	async insertAdjustment(a: NewAdjustment, transaction: Transaction): Promise<void> {
		await this.db.execute(
			`INSERT INTO adjustments (product_id, delta, reason, on_hand_after, actor_id) VALUES ($1, $2, $3, $4, $5)`,
			[a.productId, a.delta, a.reason, a.onHandAfter, a.actorId],
			transaction
		);
	}

	/** One product's ledger, newest first. */
	async listAdjustments(productId: string, limit: number, offset: number): Promise<{ items: Adjustment[]; total: number }> {
		const [rows, [count]] = await Promise.all([
			this.db.query<AdjustmentRow>(`SELECT ${ADJUSTMENT_COLUMNS} FROM adjustments WHERE product_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3`, [
				productId,
				limit,
				offset
			]),
			this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM adjustments WHERE product_id = $1`, [productId])
		]);
		return { items: rows.map(toAdjustment), total: count.total };
	}

	/**
	 * Reserves every line's units if all of them are available, or none: one statement that locks the
	 * products' stock records (in product id order, as `lockLevels`), checks them and changes them. Answers
	 * the levels as they were when locked and, when it reserved, the new ones. A checkout takes a popular
	 * product's lock here and keeps it only for this statement and what follows it in the transaction.
	 */
	async reserveIfAvailable(
		lines: readonly ReservationLine[],
		transaction: Transaction
	): Promise<{ levels: Map<string, StockLevel>; reserved?: StockLevel[] }> {
		const [ids, quantities] = unzip(lines);
		const rows = await this.db.execute<StockRow & { new_reserved: number | null }>(
			`WITH wanted AS (
			   SELECT * FROM unnest($1::uuid[], $2::int[]) AS d (product_id, quantity)
			 ), locked AS (
			   SELECT product_id, on_hand, reserved FROM stock WHERE product_id = ANY($1::uuid[]) ORDER BY product_id FOR UPDATE
			 ), enough AS (
			   SELECT count(l.product_id) = count(*) AND coalesce(bool_and(l.on_hand - l.reserved >= w.quantity), false) AS ok
			   FROM wanted w LEFT JOIN locked l USING (product_id)
			 ), changed AS (
			   UPDATE stock s SET reserved = s.reserved + w.quantity, updated_at = now()
			   FROM wanted w, enough e
			   WHERE e.ok AND s.product_id = w.product_id
			   RETURNING s.product_id, s.reserved
			 )
			 SELECT l.product_id, l.on_hand, l.reserved, c.reserved AS new_reserved FROM locked l LEFT JOIN changed c USING (product_id)`,
			[ids, quantities],
			transaction
		);
		const levels = new Map(rows.map(r => [r.product_id, toLevel(r)]));
		const reserved = rows.every(r => r.new_reserved !== null) && rows.length === lines.length;
		return { levels, reserved: reserved ? rows.map(r => toLevel({ ...r, reserved: r.new_reserved! })) : undefined };
	}

	/** Adds `sign` x quantity to the reserved units of each line (rows must be locked). Answers the new levels. */
	async changeReserved(lines: readonly ReservationLine[], sign: 1 | -1, transaction: Transaction): Promise<StockLevel[]> {
		const [ids, quantities] = unzip(lines);
		const rows = await this.db.execute<StockRow>(
			`UPDATE stock s SET reserved = s.reserved + $3 * d.quantity, updated_at = now()
			 FROM unnest($1::uuid[], $2::int[]) AS d (product_id, quantity)
			 WHERE s.product_id = d.product_id
			 RETURNING s.product_id, s.on_hand, s.reserved`,
			[ids, quantities, sign],
			transaction
		);
		return rows.map(toLevel);
	}

	/**
	 * Turns reserved units into units gone: both on hand and reserved drop by each line's quantity, and
	 * each change is written to the ledger. Locks the stock records itself, in product id order (as
	 * `lockLevels`), in the same statement. Answers the new levels.
	 */
	async consumeReserved(lines: readonly ReservationLine[], reason: string, transaction: Transaction): Promise<StockLevel[]> {
		const [ids, quantities] = unzip(lines);
		const rows = await this.db.execute<StockRow>(
			`WITH locked AS (
			   SELECT product_id FROM stock WHERE product_id = ANY($1::uuid[]) ORDER BY product_id FOR UPDATE
			 ), changed AS (
			   UPDATE stock s SET on_hand = s.on_hand - d.quantity, reserved = s.reserved - d.quantity, updated_at = now()
			   FROM unnest($1::uuid[], $2::int[]) AS d (product_id, quantity), locked l
			   WHERE s.product_id = d.product_id AND l.product_id = d.product_id
			   RETURNING s.product_id, s.on_hand, s.reserved, d.quantity
			 ), logged AS (
			   INSERT INTO adjustments (product_id, delta, reason, on_hand_after, actor_id)
			   SELECT product_id, -quantity, $3, on_hand, NULL FROM changed ORDER BY product_id
			 )
			 SELECT product_id, on_hand, reserved FROM changed`,
			[ids, quantities, reason],
			transaction
		);
		return rows.map(toLevel);
	}

	/**
	 * Adds `sign` x quantity to the units on hand of each line, reserved units unchanged, and writes each
	 * change to the ledger as the system. Rows must be locked. Answers the new levels.
	 */
	async changeOnHand(lines: readonly ReservationLine[], sign: 1 | -1, reason: string, transaction: Transaction): Promise<StockLevel[]> {
		const [ids, quantities] = unzip(lines);
		const rows = await this.db.execute<StockRow>(
			`WITH changed AS (
			   UPDATE stock s SET on_hand = s.on_hand + $3 * d.quantity, updated_at = now()
			   FROM unnest($1::uuid[], $2::int[]) AS d (product_id, quantity)
			   WHERE s.product_id = d.product_id
			   RETURNING s.product_id, s.on_hand, s.reserved, d.quantity
			 ), logged AS (
			   INSERT INTO adjustments (product_id, delta, reason, on_hand_after, actor_id)
			   SELECT product_id, $3 * quantity, $4, on_hand, NULL FROM changed ORDER BY product_id
			 )
			 SELECT product_id, on_hand, reserved FROM changed`,
			[ids, quantities, sign, reason],
			transaction
		);
		return rows.map(toLevel);
	}

	/**
	 * Records a new reservation for `orderId`, answering undefined when the order already has one (then
	 * the caller answers that stored outcome). A concurrent attempt for the same order waits here until
	 * the first one ends.
	 */
	async insertReservation(
		orderId: string,
		lines: readonly ReservationLine[],
		ttlSeconds: number,
		transaction: Transaction
	): Promise<StoredReservation | undefined> {
		const [row] = await this.db.execute<ReservationRow>(
			`INSERT INTO reservations (order_id, status, items, expires_at)
			 VALUES ($1, 'RESERVED', $2::jsonb, now() + make_interval(secs => $3))
			 ON CONFLICT (order_id) DO NOTHING
			 RETURNING ${RESERVATION_COLUMNS}`,
			[orderId, JSON.stringify(lines), ttlSeconds],
			transaction
		);
		return row && toReservation(row);
	}

	/** A reservation, locked until `transaction` ends. */
	async lockReservation(orderId: string, transaction: Transaction): Promise<StoredReservation | undefined> {
		const [row] = await this.db.query<ReservationRow>(
			`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE order_id = $1 FOR UPDATE`,
			[orderId],
			transaction
		);
		return row && toReservation(row);
	}

	/**
	 * Records that `orderId` was cancelled before it had a reservation: a released one holding nothing, so a
	 * later attempt answers it instead of reserving. Answers undefined when a reservation appeared meanwhile.
	 */
	async insertTombstone(orderId: string, lines: readonly ReservationLine[], transaction: Transaction): Promise<StoredReservation | undefined> {
		const [row] = await this.db.execute<ReservationRow>(
			`INSERT INTO reservations (order_id, status, items, expires_at, released_at, cancelled_at)
			 VALUES ($1, 'RELEASED', $2::jsonb, now(), now(), now())
			 ON CONFLICT (order_id) DO NOTHING
			 RETURNING ${RESERVATION_COLUMNS}`,
			[orderId, JSON.stringify(lines)],
			transaction
		);
		return row && toReservation(row);
	}

	async markFailed(orderId: string, shortages: readonly Shortage[], transaction: Transaction): Promise<void> {
		await this.db.execute(
			`UPDATE reservations SET status = 'FAILED', shortages = $2::jsonb WHERE order_id = $1`,
			[orderId, JSON.stringify(shortages)],
			transaction
		);
	}

	async markCommitted(orderId: string, transaction: Transaction): Promise<StoredReservation> {
		const [row] = await this.db.execute<ReservationRow>(
			`UPDATE reservations SET status = 'COMMITTED', committed_at = now() WHERE order_id = $1 RETURNING ${RESERVATION_COLUMNS}`,
			[orderId],
			transaction
		);
		return toReservation(row);
	}

	async markReleased(orderIds: readonly string[], status: "RELEASED" | "EXPIRED", transaction: Transaction): Promise<StoredReservation[]> {
		const rows = await this.db.execute<ReservationRow>(
			`UPDATE reservations SET status = $2, released_at = now() WHERE order_id = ANY($1::uuid[]) RETURNING ${RESERVATION_COLUMNS}`,
			[orderIds, status],
			transaction
		);
		return rows.map(toReservation);
	}

	/** Committed units that went back on hand. */
	async markReturned(orderId: string, transaction: Transaction): Promise<StoredReservation> {
		const [row] = await this.db.execute<ReservationRow>(
			`UPDATE reservations SET status = 'RETURNED', released_at = now() WHERE order_id = $1 RETURNING ${RESERVATION_COLUMNS}`,
			[orderId],
			transaction
		);
		return toReservation(row);
	}

	/** Remembers that the order was cancelled (the first time counts). */
	async markCancelled(orderId: string, transaction: Transaction): Promise<StoredReservation> {
		const [row] = await this.db.execute<ReservationRow>(
			`UPDATE reservations SET cancelled_at = coalesce(cancelled_at, now()) WHERE order_id = $1 RETURNING ${RESERVATION_COLUMNS}`,
			[orderId],
			transaction
		);
		return toReservation(row);
	}

	/** Gives a reservation's units back to `available` and marks it released or expired, in `transaction`. */
	async giveBack(
		r: StoredReservation,
		status: "RELEASED" | "EXPIRED",
		transaction: Transaction
	): Promise<{ reservation: StoredReservation; changed: StockLevel[] }> {
		await this.lockLevels(
			r.items.map(l => l.productId),
			transaction
		);
		const changed = await this.changeReserved(r.items, -1, transaction);
		const [reservation] = await this.markReleased([r.orderId], status, transaction);
		return { reservation, changed };
	}

	/**
	 * Deletes up to `limit` reservations that can change no more and ended more than `days` ago: released,
	 * expired, returned, or failed. Committed ones stay (a later cancellation puts their units back). Answers
	 * how many went. What a purged row guarded against is bounded: a duplicate `order.created` arriving weeks
	 * later holds stock only until the reservation's expiry, and a stale `order.confirmed` finds no
	 * reservation and takes nothing.
	 */
	async purgeFinished(days: number, limit: number): Promise<number> {
		const rows = await this.db.execute(
			`DELETE FROM reservations WHERE order_id IN (
			   SELECT order_id FROM reservations
			   WHERE status IN ('RELEASED', 'EXPIRED', 'RETURNED', 'FAILED')
			     AND coalesce(released_at, created_at) < now() - make_interval(days => $1)
			   LIMIT $2
			 ) RETURNING 1 AS n`,
			[days, limit]
		);
		return rows.length;
	}

	/**
	 * Claims up to `limit` reservations past their expiry, locked until `transaction` ends. Rows another
	 * instance (or a concurrent commit) holds are skipped, so no reservation is released twice.
	 */
	async claimExpired(limit: number, transaction: Transaction): Promise<StoredReservation[]> {
		const rows = await this.db.query<ReservationRow>(
			`SELECT ${RESERVATION_COLUMNS} FROM reservations
			 WHERE status = 'RESERVED' AND expires_at <= now()
			 ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
			[limit],
			transaction
		);
		return rows.map(toReservation);
	}
}
