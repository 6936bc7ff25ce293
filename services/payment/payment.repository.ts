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

	async byOrder(orderId: string): Promise<StoredPayment | undefined> {
		const [row] = await this.db.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE order_id = $1`, [orderId]);
		return row && toPayment(row);
	}

	/** Records an order's charge; undefined when the order already has one (then that one stands). */
	async insert(p: NewPayment): Promise<StoredPayment | undefined> {
		const [row] = await this.db.execute<PaymentRow>(
			`INSERT INTO payments (order_id, user_id, amount_cents, currency, status, decline_code, provider_ref)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)
			 ON CONFLICT (order_id) DO NOTHING
			 RETURNING ${COLUMNS}`,
			[p.orderId, p.userId, p.amountCents, p.currency, p.status, p.declineCode, p.providerRef]
		);
		return row && toPayment(row);
	}

	/** SUCCEEDED -> REFUNDED; undefined when the payment was not SUCCEEDED any more (a concurrent refund won). */
	async markRefunded(orderId: string, refundRef: string): Promise<StoredPayment | undefined> {
		const [row] = await this.db.execute<PaymentRow>(
			`UPDATE payments SET status = 'REFUNDED', refund_ref = $2, updated_at = clock_timestamp()
			 WHERE order_id = $1 AND status = 'SUCCEEDED'
			 RETURNING ${COLUMNS}`,
			[orderId, refundRef]
		);
		return row && toPayment(row);
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
