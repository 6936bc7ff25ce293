import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "../../lib/database";
import type { AttemptOutcome } from "./notification.rules";
import type { Channel, NotificationDto, NotificationStatus, TemplateName } from "./notification.types";

/** The only code that touches the `notification` schema. Answers plain objects. */

interface NotificationRow {
	id: string;
	user_id: string;
	channel: Channel;
	template: TemplateName;
	recipient: string | null;
	subject: string | null;
	body: string;
	html: string | null;
	status: NotificationStatus;
	attempts: number;
	last_error: string | null;
	dedupe_key: string;
	created_at: Date;
	sent_at: Date | null;
	secret: string | null;
}

/** A notification as stored, with the content to deliver. */
export interface StoredNotification extends NotificationDto {
	userId: string;
	body: string;
	html: string | null;
	dedupeKey: string;
	/** A link's token, put in place of its mask when the message is sent; null once it is SENT or FAILED. */
	secret: string | null;
}

export interface NewNotification {
	userId: string;
	channel: Channel;
	template: TemplateName;
	recipient: string | null;
	subject: string | null;
	body: string;
	html: string | null;
	/** PENDING (to be delivered) or SKIPPED (with `skipReason`). */
	status: "PENDING" | "SKIPPED";
	skipReason?: string;
	/** A link's token the stored text shows masked (only for a PENDING message). */
	secret?: string | null;
	dedupeKey: string;
}

const COLUMNS = "id, user_id, channel, template, recipient, subject, body, html, status, attempts, last_error, dedupe_key, created_at, sent_at, secret";

function toStored(r: NotificationRow): StoredNotification {
	return {
		id: r.id,
		userId: r.user_id,
		channel: r.channel,
		template: r.template,
		recipient: r.recipient,
		subject: r.subject,
		body: r.body,
		html: r.html,
		status: r.status,
		attempts: r.attempts,
		lastError: r.last_error,
		dedupeKey: r.dedupe_key,
		createdAt: r.created_at.toISOString(),
		sentAt: r.sent_at?.toISOString() ?? null,
		secret: r.secret
	};
}

/** The public shape of a stored notification. */
export function publicNotification(n: StoredNotification): NotificationDto {
	return {
		id: n.id,
		channel: n.channel,
		template: n.template,
		recipient: n.recipient,
		subject: n.subject,
		status: n.status,
		attempts: n.attempts,
		lastError: n.lastError,
		createdAt: n.createdAt,
		sentAt: n.sentAt
	};
}

export class NotificationRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/**
	 * Records the notifications whose dedupe key is new; answers only those. A concurrent insert of the same
	 * key waits for the first transaction and then inserts nothing.
	 */
	async insertNew(records: readonly NewNotification[], transaction: Transaction): Promise<StoredNotification[]> {
		const created: StoredNotification[] = [];
		for (const n of records) {
			const [row] = await this.db.execute<NotificationRow>(
				`INSERT INTO notifications (user_id, channel, template, recipient, subject, body, html, status, last_error, dedupe_key, next_attempt_at, secret)
				 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $8 = 'PENDING' THEN now() END, $11)
				 ON CONFLICT (dedupe_key) DO NOTHING
				 RETURNING ${COLUMNS}`,
				[n.userId, n.channel, n.template, n.recipient, n.subject, n.body, n.html, n.status, n.skipReason ?? null, n.dedupeKey, n.secret ?? null],
				transaction
			);
			if (row) created.push(toStored(row));
		}
		return created;
	}

	async byDedupeKeys(keys: readonly string[]): Promise<StoredNotification[]> {
		const rows = await this.db.query<NotificationRow>(`SELECT ${COLUMNS} FROM notifications WHERE dedupe_key = ANY($1::text[]) ORDER BY seq`, [keys]);
		return rows.map(toStored);
	}

	async byIds(ids: readonly string[]): Promise<StoredNotification[]> {
		const rows = await this.db.query<NotificationRow>(`SELECT ${COLUMNS} FROM notifications WHERE id = ANY($1::uuid[]) ORDER BY seq`, [ids]);
		return rows.map(toStored);
	}

	/**
	 * Claims one PENDING notification until `transaction` ends; undefined when it is no longer pending or
	 * another delivery holds it (that one sends it, not this).
	 */
	async claim(id: string, transaction: Transaction): Promise<StoredNotification | undefined> {
		const [row] = await this.db.query<NotificationRow>(
			`SELECT ${COLUMNS} FROM notifications WHERE id = $1 AND status = 'PENDING' FOR UPDATE SKIP LOCKED`,
			[id],
			transaction
		);
		return row && toStored(row);
	}

	/**
	 * Claims up to `limit` PENDING notifications whose next attempt is due, skipping those another pass holds
	 * and those in `exclude` (already attempted in this pass).
	 */
	async claimDue(limit: number, exclude: readonly string[], transaction: Transaction): Promise<StoredNotification[]> {
		const rows = await this.db.query<NotificationRow>(
			`SELECT ${COLUMNS} FROM notifications
			 WHERE status = 'PENDING' AND next_attempt_at <= now() AND NOT (id = ANY($2::uuid[]))
			 ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
			[limit, exclude],
			transaction
		);
		return rows.map(toStored);
	}

	/** Records the outcome of a delivery attempt on a claimed notification; a message that is done forgets its link token. */
	async recordAttempt(id: string, outcome: AttemptOutcome, transaction: Transaction): Promise<StoredNotification> {
		const [row] =
			outcome.status === "SENT"
				? await this.db.execute<NotificationRow>(
						`UPDATE notifications SET status = 'SENT', attempts = $2, last_error = NULL, next_attempt_at = NULL, sent_at = now(), secret = NULL
						 WHERE id = $1 RETURNING ${COLUMNS}`,
						[id, outcome.attempts],
						transaction
					)
				: await this.db.execute<NotificationRow>(
						`UPDATE notifications SET status = $3, attempts = $2, last_error = $4,
						   next_attempt_at = CASE WHEN $3 = 'PENDING' THEN now() + make_interval(secs => $5) END,
						   secret = CASE WHEN $3 = 'PENDING' THEN secret END
						 WHERE id = $1 RETURNING ${COLUMNS}`,
						[id, outcome.attempts, outcome.status, outcome.error, outcome.status === "PENDING" ? outcome.retryInSeconds : 0],
						transaction
					);
		return toStored(row);
	}

	/** A page of one user's notifications, newest first; everyone's when `userId` is undefined. */
	async listForUser(userId: string | undefined, limit: number, offset: number): Promise<{ items: StoredNotification[]; total: number }> {
		const where = `($1::uuid IS NULL OR user_id = $1)`;
		const [rows, [count]] = await Promise.all([
			this.db.query<NotificationRow>(`SELECT ${COLUMNS} FROM notifications WHERE ${where} ORDER BY seq DESC LIMIT $2 OFFSET $3`, [
				userId ?? null,
				limit,
				offset
			]),
			this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM notifications WHERE ${where}`, [userId ?? null])
		]);
		return { items: rows.map(toStored), total: count.total };
	}
}
