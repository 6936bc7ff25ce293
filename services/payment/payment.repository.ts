import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "../../lib/database";
import type { PaymentFacts } from "./payment.rules";
import type { PaymentDto, PaymentStatus } from "./payment.types";

/** The only code that touches the `payment` schema. Answers plain objects. */

interface PaymentRow {
	id: string;
	order_id: string;
	user_id: string;
	amount_cents: number;
	currency: string;
	status: PaymentStatus;
	decline_code: string | null;
	provider_ref: string;
	refund_ref: string | null;
	created_at: Date;
	updated_at: Date;
}

/** A payment as stored, with the provider references the public shape leaves out. */
export interface StoredPayment extends PaymentFacts {
	providerRef: string;
	refundRef: string | null;
	createdAt: string;
	updatedAt: string;
}

export interface NewPayment {
	orderId: string;
	userId: string;
	amountCents: number;
	currency: string;
	status: "SUCCEEDED" | "DECLINED";
	declineCode: string | null;
	providerRef: string;
}

const COLUMNS = "id, order_id, user_id, amount_cents, currency, status, decline_code, provider_ref, refund_ref, created_at, updated_at";

function toPayment(r: PaymentRow): StoredPayment {
	return {
		id: r.id,
		orderId: r.order_id,
		userId: r.user_id,
		amountCents: r.amount_cents,
		currency: r.currency,
		status: r.status,
		declineCode: r.decline_code,
		providerRef: r.provider_ref,
		refundRef: r.refund_ref,
		createdAt: r.created_at.toISOString(),
		updatedAt: r.updated_at.toISOString()
	};
}

/** The public shape of a stored payment. */
export function publicPayment(p: StoredPayment): PaymentDto {
	return {
		id: p.id,
		orderId: p.orderId,
		amountCents: p.amountCents,
		currency: p.currency,
		status: p.status,
		declineCode: p.declineCode,
		createdAt: p.createdAt,
		updatedAt: p.updatedAt
	};
}

export class PaymentRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/**
	 * Serialises everything that decides about one order's money (charge, refund, void) until `t` ends:
	 * without it a cancellation could void an order while its charge is at the provider.
	 */
	async lockOrder(orderId: string, t: Transaction): Promise<void> {
		await this.db.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`payment:order:${orderId}`], t);
	}

	async byOrder(orderId: string, t?: Transaction): Promise<StoredPayment | undefined> {
		const [row] = await this.db.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE order_id = $1`, [orderId], t);
		return row && toPayment(row);
	}

	/** Records an order's charge; undefined when the order already has one (then that one stands). */
	async insert(p: NewPayment, t?: Transaction): Promise<StoredPayment | undefined> {
		const [row] = await this.db.execute<PaymentRow>(
			`INSERT INTO payments (order_id, user_id, amount_cents, currency, status, decline_code, provider_ref)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)
			 ON CONFLICT (order_id) DO NOTHING
			 RETURNING ${COLUMNS}`,
			[p.orderId, p.userId, p.amountCents, p.currency, p.status, p.declineCode, p.providerRef],
			t
		);
		return row && toPayment(row);
	}

	/** SUCCEEDED -> REFUNDED; undefined when the payment was not SUCCEEDED any more (a concurrent refund won). */
	async markRefunded(orderId: string, refundRef: string, t?: Transaction): Promise<StoredPayment | undefined> {
		const [row] = await this.db.execute<PaymentRow>(
			`UPDATE payments SET status = 'REFUNDED', refund_ref = $2, updated_at = clock_timestamp()
			 WHERE order_id = $1 AND status = 'SUCCEEDED'
			 RETURNING ${COLUMNS}`,
			[orderId, refundRef],
			t
		);
		return row && toPayment(row);
	}

	async isVoided(orderId: string, t?: Transaction): Promise<boolean> {
		const rows = await this.db.query<{ one: number }>(`SELECT 1 AS one FROM voided_orders WHERE order_id = $1`, [orderId], t);
		return rows.length > 0;
	}

	/** Marks an order never to be charged. Answers false when it already was. */
	async markVoided(orderId: string, reason: string | null, t?: Transaction): Promise<boolean> {
		const rows = await this.db.execute(
			`INSERT INTO voided_orders (order_id, reason) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING RETURNING 1`,
			[orderId, reason],
			t
		);
		return rows.length > 0;
	}

	/**
	 * Drops the card token from this service's inbox copy of an event once it has been used, so it is not
	 * kept (the inbox table belongs to the reliable-events mixin; this is the one write payment makes to it).
	 */
	async scrubInboxToken(eventId: string, t: Transaction): Promise<void> {
		await this.db.execute(`UPDATE inbox SET payload = payload #- '{data,paymentToken}' WHERE event_id = $1`, [eventId], t);
	}

	/** Payments newest first, of one user (or everyone's when `userId` is undefined), optionally of one order. */
	async list(filter: { userId?: string; orderId?: string }, limit: number, offset: number): Promise<{ items: StoredPayment[]; total: number }> {
		const where = `($1::uuid IS NULL OR user_id = $1) AND ($2::uuid IS NULL OR order_id = $2)`;
		const bind = [filter.userId ?? null, filter.orderId ?? null];
		const [rows, [count]] = await Promise.all([
			this.db.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE ${where} ORDER BY seq DESC LIMIT $3 OFFSET $4`, [...bind, limit, offset]),
			this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM payments WHERE ${where}`, bind)
		]);
		return { items: rows.map(toPayment), total: count.total };
	}
}
