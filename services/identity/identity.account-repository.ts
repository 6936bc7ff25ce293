import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "../../lib/database";
import type { LinkPurpose, StoredLinkToken } from "./identity.account-rules";
import { accountCounterKeys } from "./identity.tokens";
import type { SessionDto } from "./identity.types";

/** The account lifecycle's SQL in the `identity` schema: mailed links, addresses, passwords, sessions. Answers plain objects. */

export interface LinkTokenRecord extends StoredLinkToken {
	id: string;
	userId: string;
	purpose: LinkPurpose;
	/** Where the link went; for a verification, the address it verifies. */
	email: string;
}

interface LinkTokenRow {
	id: string;
	user_id: string;
	purpose: LinkPurpose;
	email: string;
	expires_at: Date;
	used_at: Date | null;
}

/** The parts of a user the account actions decide on. */
export interface AccountUser {
	id: string;
	email: string;
	name: string;
	phone: string | null;
	emailVerified: boolean;
}

const LINK_COLUMNS = "id, user_id, purpose, email, expires_at, used_at";

function toLink(r: LinkTokenRow): LinkTokenRecord {
	return { id: r.id, userId: r.user_id, purpose: r.purpose, email: r.email, expiresAt: r.expires_at, usedAt: r.used_at };
}

/** PostgreSQL's unique_violation: another account took the address first. */
const UNIQUE_VIOLATION = "23505";

export class AccountRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/** The user, with their row locked until `transaction` ends: changes to one account (and its mails) queue up. */
	async lockUser(userId: string, transaction: Transaction): Promise<AccountUser | undefined> {
		const [row] = await this.db.query<{ id: string; email: string; name: string; phone: string | null; email_verified_at: Date | null }>(
			`SELECT id, email, name, phone, email_verified_at FROM users WHERE id = $1 FOR UPDATE`,
			[userId],
			transaction
		);
		return row && { id: row.id, email: row.email, name: row.name, phone: row.phone, emailVerified: row.email_verified_at !== null };
	}

	/** The user with this e-mail (any case), if any. */
	async findByEmail(email: string): Promise<{ id: string } | undefined> {
		const [row] = await this.db.query<{ id: string }>(`SELECT id FROM users WHERE lower(email) = lower($1)`, [email]);
		return row;
	}

	/** True when an account other than `exceptUserId` has this e-mail. */
	async emailTaken(email: string, exceptUserId: string, transaction?: Transaction): Promise<boolean> {
		const rows = await this.db.query(`SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2`, [email, exceptUserId], transaction);
		return rows.length > 0;
	}

	/** What checking a user's password needs: their e-mail (for the login counters), hash, and whether they signed in from `address` before. */
	async credentialsOf(userId: string, address: string): Promise<{ email: string; passwordHash: string; knownAddress: boolean } | undefined> {
		const [row] = await this.db.query<{ email: string; password_hash: string; known_address: boolean }>(
			`SELECT email, password_hash, EXISTS (SELECT 1 FROM login_addresses a WHERE a.user_id = users.id AND a.address = $2) AS known_address
			 FROM users WHERE id = $1`,
			[userId, address]
		);
		return row && { email: row.email, passwordHash: row.password_hash, knownAddress: row.known_address };
	}

	/** Ages in seconds (newest first) of the links of `purpose` mailed to the user within the last `windowSeconds`, at most `limit`. */
	async recentLinkAges(userId: string, purpose: LinkPurpose, windowSeconds: number, limit: number, transaction: Transaction): Promise<number[]> {
		const rows = await this.db.query<{ age: number }>(
			`SELECT extract(epoch FROM now() - created_at)::float8 AS age FROM account_tokens
			 WHERE user_id = $1 AND purpose = $2 AND created_at > now() - make_interval(secs => $3)
			 ORDER BY created_at DESC LIMIT $4`,
			[userId, purpose, windowSeconds, limit],
			transaction
		);
		return rows.map(r => r.age);
	}

	/** Stores a new link by its hash; every older link of the same purpose stops working. Answers its id. */
	async insertLinkToken(
		l: { userId: string; purpose: LinkPurpose; email: string; hash: string; expiresAt: Date },
		transaction: Transaction
	): Promise<string> {
		await this.useLinkTokens(l.userId, l.purpose, transaction);
		const [row] = await this.db.execute<{ id: string }>(
			`INSERT INTO account_tokens (user_id, purpose, email, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			[l.userId, l.purpose, l.email, l.hash, l.expiresAt],
			transaction
		);
		return row.id;
	}

	/** The link with this token hash; with `lock`, its row stays locked until the transaction ends. */
	async findLinkToken(hash: string, purpose: LinkPurpose, transaction?: Transaction, lock = false): Promise<LinkTokenRecord | undefined> {
		const [row] = await this.db.query<LinkTokenRow>(
			`SELECT ${LINK_COLUMNS} FROM account_tokens WHERE token_hash = $1 AND purpose = $2${lock ? " FOR UPDATE" : ""}`,
			[hash, purpose],
			transaction
		);
		return row && toLink(row);
	}

	/** Every live link of `purpose` of the user stops working. */
	async useLinkTokens(userId: string, purpose: LinkPurpose, transaction: Transaction): Promise<void> {
		await this.db.execute(
			`UPDATE account_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`,
			[userId, purpose],
			transaction
		);
	}

	/** A change of address that waits is called off: its verification links stop working. */
	async cancelEmailChange(userId: string, transaction: Transaction): Promise<void> {
		await this.db.execute(
			`UPDATE account_tokens t SET used_at = now() FROM users u
			 WHERE u.id = t.user_id AND t.user_id = $1 AND t.purpose = 'verifyEmail' AND t.used_at IS NULL AND lower(t.email) <> lower(u.email)`,
			[userId],
			transaction
		);
	}

	/** The address a change waits on: that of the newest live verification link to another address than the account's. */
	async pendingEmail(userId: string, transaction?: Transaction): Promise<string | null> {
		const [row] = await this.db.query<{ email: string }>(
			`SELECT t.email FROM account_tokens t JOIN users u ON u.id = t.user_id
			 WHERE t.user_id = $1 AND t.purpose = 'verifyEmail' AND t.used_at IS NULL AND t.expires_at > now() AND lower(t.email) <> lower(u.email)
			 ORDER BY t.created_at DESC LIMIT 1`,
			[userId],
			transaction
		);
		return row?.email ?? null;
	}

	/** Marks the address verified; answers false when it already was. */
	async markVerified(userId: string, transaction?: Transaction): Promise<boolean> {
		const rows = await this.db.execute(
			`UPDATE users SET email_verified_at = now(), updated_at = now() WHERE id = $1 AND email_verified_at IS NULL RETURNING 1`,
			[userId],
			transaction
		);
		return rows.length > 0;
	}

	/**
	 * Switches the account to a new address, verified. Answers "taken" when another account holds it; the
	 * transaction is then unusable (a statement failed) and must be rolled back.
	 */
	async changeEmail(userId: string, email: string, transaction: Transaction): Promise<"changed" | "taken"> {
		if (await this.emailTaken(email, userId, transaction)) return "taken";
		try {
			await this.db.execute(`UPDATE users SET email = $2, email_verified_at = now(), updated_at = now() WHERE id = $1`, [userId, email], transaction);
			return "changed";
		} catch (err) {
			// someone registered the address between the check and the update
			if ((err as { parent?: { code?: string } }).parent?.code === UNIQUE_VIOLATION) return "taken";
			throw err;
		}
	}

	/** Changes the name and the phone (`phone: null` removes it); fields left undefined stay as they are. */
	async updateProfile(userId: string, p: { name?: string; phone?: string | null }, transaction?: Transaction): Promise<void> {
		if (p.name === undefined && p.phone === undefined) return;
		await this.db.execute(
			`UPDATE users SET name = coalesce($2, name), phone = CASE WHEN $3 THEN $4 ELSE phone END, updated_at = now() WHERE id = $1`,
			[userId, p.name ?? null, p.phone !== undefined, p.phone ?? null],
			transaction
		);
	}

	async setPasswordHash(userId: string, passwordHash: string, transaction: Transaction): Promise<void> {
		await this.db.execute(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [userId, passwordHash], transaction);
	}

	/** Forgets the failed logins counted against this account (from every address); per-address counters stay. */
	async clearLoginCounters(email: string, transaction: Transaction): Promise<void> {
		const { account, accountAddressPrefix } = accountCounterKeys(email);
		await this.db.execute(`DELETE FROM login_failures WHERE key = $1 OR starts_with(key, $2)`, [account, accountAddressPrefix], transaction);
	}

	/** Ends every session of the user but `keep` (the caller's); answers the sessions (families) ended. */
	async revokeOtherSessions(userId: string, keep: string | undefined, transaction: Transaction): Promise<string[]> {
		const rows = await this.db.execute<{ family_id: string }>(
			`UPDATE refresh_tokens SET revoked_at = now()
			 WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR family_id <> $2::uuid)
			 RETURNING family_id`,
			[userId, keep ?? null],
			transaction
		);
		return [...new Set(rows.map(r => r.family_id))];
	}

	/** Ends one live session of the user; answers false when the user has no such live session. */
	async revokeSession(userId: string, familyId: string): Promise<boolean> {
		const rows = await this.db.execute(
			`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING 1`,
			[familyId, userId]
		);
		return rows.length > 0;
	}

	/**
	 * The user's live sessions, most recently used first, at most `limit`: a family with an unrevoked, unexpired
	 * token. It began with its oldest kept token and was last used when its live token was issued.
	 */
	async listSessions(userId: string, limit: number): Promise<Omit<SessionDto, "current">[]> {
		const rows = await this.db.query<{ id: string; created_at: Date; last_used_at: Date; expires_at: Date }>(
			`SELECT family_id AS id, min(created_at) AS created_at,
			        max(created_at) FILTER (WHERE revoked_at IS NULL) AS last_used_at,
			        max(expires_at) FILTER (WHERE revoked_at IS NULL) AS expires_at
			 FROM refresh_tokens WHERE user_id = $1
			 GROUP BY family_id
			 HAVING bool_or(revoked_at IS NULL AND expires_at > now())
			 ORDER BY last_used_at DESC, family_id
			 LIMIT $2`,
			[userId, limit]
		);
		return rows.map(r => ({
			id: r.id,
			createdAt: r.created_at.toISOString(),
			lastUsedAt: r.last_used_at.toISOString(),
			expiresAt: r.expires_at.toISOString()
		}));
	}
}
