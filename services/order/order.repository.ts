import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "../../lib/database";
import type { CancelReason, OrderCustomer, OrderDto, OrderHistoryEntry, OrderLine, OrderPaymentStatus, OrderStatus, ShippingAddress } from "./order.types";

/** The only code that touches the `order` schema. Answers plain objects. */

interface OrderRow {
	id: string;
	user_id: string;
	status: OrderStatus;
	cancel_reason: CancelReason | null;
	items: OrderLine[];
	total_cents: string;
	currency: string;
	customer: OrderCustomer;
	shipping_address: ShippingAddress | null;
	payment_token: string | null;
	payment_status: OrderPaymentStatus | null;
	reservation_expires_at: Date | null;
	history: OrderHistoryEntry[];
	idempotency_key: string | null;
	request_hash: string | null;
	created_response: { order: OrderDto };
	nudges: number;
	created_at: Date;
	updated_at: Date;
}

/** An order as stored, with what the public shape leaves out. */
export interface StoredOrder extends OrderDto {
	customer: OrderCustomer;
	paymentToken: string | null;
	reservationExpiresAt: string | null;
	requestHash: string | null;
	/** The body of the 201 that created it, answered again to a repeat with the same Idempotency-Key. */
	createdResponse: { order: OrderDto };
	nudges: number;
}

export interface NewOrder {
	id: string;
	userId: string;
	items: OrderLine[];
	totalCents: number;
	currency: string;
	customer: OrderCustomer;
	shippingAddress: ShippingAddress | null;
	paymentToken: string;
	history: OrderHistoryEntry[];
	idempotencyKey: string | null;
	requestHash: string | null;
	createdResponse: { order: OrderDto };
}

export interface Transition {
	status: OrderStatus;
	cancelReason: CancelReason | null;
	entry: OrderHistoryEntry;
	/** The card token is dropped once payment has answered or the order has ended. */
	dropToken: boolean;
	/** What payment said, when its answer is what moves the order (recorded in the same statement). */
	paymentStatus?: OrderPaymentStatus;
	/** When inventory's hold ends, when its reservation is what moves the order. */
	reservationExpiresAt?: string;
}

const COLUMNS = `id, user_id, status, cancel_reason, items, total_cents, currency, customer, shipping_address, payment_token,
	payment_status, reservation_expires_at, history, idempotency_key, request_hash, created_response, nudges, created_at, updated_at`;

function toOrder(r: OrderRow): StoredOrder {
	return {
		id: r.id,
		userId: r.user_id,
		status: r.status,
		cancelReason: r.cancel_reason,
		items: r.items,
		totalCents: Number(r.total_cents),
		currency: r.currency,
		shippingAddress: r.shipping_address,
		paymentStatus: r.payment_status,
		history: r.history,
		createdAt: r.created_at.toISOString(),
		updatedAt: r.updated_at.toISOString(),
		customer: r.customer,
		paymentToken: r.payment_token,
		reservationExpiresAt: r.reservation_expires_at?.toISOString() ?? null,
		requestHash: r.request_hash,
		createdResponse: r.created_response,
		nudges: r.nudges
	};
}

/** The public shape of a stored order. */
export function publicOrder(o: StoredOrder): OrderDto {
	return {
		id: o.id,
		userId: o.userId,
		status: o.status,
		cancelReason: o.cancelReason,
		items: o.items,
		totalCents: o.totalCents,
		currency: o.currency,
		shippingAddress: o.shippingAddress,
		paymentStatus: o.paymentStatus,
		history: o.history,
		createdAt: o.createdAt,
		updatedAt: o.updatedAt
	};
}

export class OrderRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/**
	 * Records a new order; undefined when the user already has an order with this Idempotency-Key (a
	 * concurrent request with the same key waits here until the first one's transaction ends).
	 */
	async insert(o: NewOrder, t: Transaction): Promise<StoredOrder | undefined> {
		const [row] = await this.db.execute<OrderRow>(
			`INSERT INTO orders (id, user_id, status, items, total_cents, currency, customer, shipping_address, payment_token, history,
			   idempotency_key, request_hash, created_response, created_at, updated_at, step_started_at, cart_cleared)
			 VALUES ($1, $2, 'PENDING', $3::jsonb, $4, $5, $6::jsonb, $7::jsonb, $8, $9::jsonb, $10, $11, $12::jsonb, $13, $13, $13, false)
			 ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			 RETURNING ${COLUMNS}`,
			[
				o.id,
				o.userId,
				JSON.stringify(o.items),
				o.totalCents,
				o.currency,
				JSON.stringify(o.customer),
				o.shippingAddress && JSON.stringify(o.shippingAddress),
				o.paymentToken,
				JSON.stringify(o.history),
				o.idempotencyKey,
				o.requestHash,
				JSON.stringify(o.createdResponse),
				o.createdResponse.order.createdAt
			],
			t
		);
		return row && toOrder(row);
	}

	/** The user's orders whose lines may still be in their cart (taking them out has not been confirmed). */
	async cartsToClear(userId: string): Promise<{ id: string; items: { productId: string; quantity: number }[] }[]> {
		return this.db.query<{ id: string; items: { productId: string; quantity: number }[] }>(
			`SELECT id, items FROM orders WHERE user_id = $1 AND NOT cart_cleared ORDER BY created_at`,
			[userId]
		);
	}

	async markCartCleared(id: string): Promise<void> {
		await this.db.execute(`UPDATE orders SET cart_cleared = true WHERE id = $1 AND NOT cart_cleared`, [id]);
	}

	async byId(id: string): Promise<StoredOrder | undefined> {
		const [row] = await this.db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
		return row && toOrder(row);
	}

	/**
	 * How many orders are in flight, counted up to `limit` (no more rows than that). Walks the saga's partial
	 * index in its order, so the scan marks entries of orders that have settled as dead for the next count.
	 */
	async inFlight(limit: number): Promise<number> {
		const [row] = await this.db.query<{ n: number }>(
			`SELECT count(*)::int AS n FROM (SELECT 1 FROM orders WHERE status IN ('PENDING', 'STOCK_RESERVED') ORDER BY step_started_at LIMIT $1) o`,
			[limit]
		);
		return row.n;
	}

	async byKey(userId: string, key: string): Promise<StoredOrder | undefined> {
		const [row] = await this.db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE user_id = $1 AND idempotency_key = $2`, [userId, key]);
		return row && toOrder(row);
	}

	/** An order, locked until `t` ends: every change to an order goes through this lock, one at a time. */
	async lock(id: string, t: Transaction): Promise<StoredOrder | undefined> {
		const [row] = await this.db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [id], t);
		return row && toOrder(row);
	}

	/** Orders newest first, of one user (everyone's when `userId` is undefined), optionally in one status. */
	async list(filter: { userId?: string; status?: OrderStatus }, limit: number, offset: number): Promise<{ items: StoredOrder[]; total: number }> {
		const where = `($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)`;
		const bind = [filter.userId ?? null, filter.status ?? null];
		const [rows, [count]] = await Promise.all([
			this.db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE ${where} ORDER BY seq DESC LIMIT $3 OFFSET $4`, [...bind, limit, offset]),
			this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM orders WHERE ${where}`, bind)
		]);
		return { items: rows.map(toOrder), total: count.total };
	}

	/** Moves a locked order to a new status, appending to its history. */
	async transition(id: string, change: Transition, t: Transaction): Promise<StoredOrder> {
		const [row] = await this.db.execute<OrderRow>(
			`UPDATE orders SET status = $2, cancel_reason = $3, history = history || $4::jsonb,
			   payment_token = CASE WHEN $5::boolean THEN NULL ELSE payment_token END,
			   updated_at = $6, step_started_at = $6, last_nudge_at = NULL,
			   payment_status = coalesce($7, payment_status), reservation_expires_at = coalesce($8::timestamptz, reservation_expires_at)
			 WHERE id = $1 RETURNING ${COLUMNS}`,
			[
				id,
				change.status,
				change.cancelReason,
				JSON.stringify([change.entry]),
				change.dropToken || change.paymentStatus !== undefined,
				change.entry.at,
				change.paymentStatus ?? null,
				change.reservationExpiresAt ?? null
			],
			t
		);
		return toOrder(row);
	}

	async setReservationExpiry(id: string, expiresAt: string, t: Transaction): Promise<void> {
		await this.db.execute(`UPDATE orders SET reservation_expires_at = $2 WHERE id = $1`, [id, expiresAt], t);
	}

	/** Records what payment said; the token is no longer needed once it has answered. */
	async setPaymentStatus(id: string, status: OrderPaymentStatus, t: Transaction): Promise<void> {
		await this.db.execute(`UPDATE orders SET payment_status = $2, payment_token = NULL, updated_at = now() WHERE id = $1`, [id, status], t);
	}

	/**
	 * Claims in-flight orders that have heard nothing for `quietSeconds` (since their last step or last
	 * nudge) or are older than `giveUpSeconds`, locked until `t` ends. Orders another instance holds are
	 * skipped.
	 */
	async claimStuck(quietSeconds: number, giveUpSeconds: number, limit: number, t: Transaction): Promise<(StoredOrder & { giveUp: boolean })[]> {
		const rows = await this.db.query<OrderRow & { give_up: boolean }>(
			`SELECT ${COLUMNS}, created_at <= now() - make_interval(secs => $2) AS give_up FROM orders
			 WHERE status IN ('PENDING', 'STOCK_RESERVED')
			   AND (coalesce(last_nudge_at, step_started_at) <= now() - make_interval(secs => $1) OR created_at <= now() - make_interval(secs => $2))
			 ORDER BY step_started_at LIMIT $3 FOR UPDATE SKIP LOCKED`,
			[quietSeconds, giveUpSeconds, limit],
			t
		);
		return rows.map(r => ({ ...toOrder(r), giveUp: r.give_up }));
	}

	async markNudged(id: string, t: Transaction): Promise<void> {
		await this.db.execute(`UPDATE orders SET nudges = nudges + 1, last_nudge_at = now() WHERE id = $1`, [id], t);
	}
}
