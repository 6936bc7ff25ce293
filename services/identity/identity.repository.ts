import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "../../lib/database";
import { MAIL_LIMITS } from "./identity.account-rules";
import { progressiveDelaySeconds, type LoginCounter, type StoredRefreshToken } from "./identity.tokens";
import type { AuthUser, UserDto } from "./identity.types";

/** The only code that touches the `identity` schema. Answers plain objects. */

interface UserRow {
	id: string;
	email: string;
	name: string;
	phone: string | null;
	role: string;
	role_id: string;
	password_hash: string;
	created_at: Date;
	email_verified_at: Date | null;
}

export interface UserWithHash {
	user: UserDto;
	passwordHash: string;
	/** The account signed in from the address asked about before. */
	knownAddress: boolean;
}

/** A login attempt the counters refused: why not, and in how many seconds to try again. */
class LoginRefused extends Error {
	constructor(readonly retryAfter: number) {
		super("login attempt refused");
	}
}

/** Rows deleted per statement by the purge, so no statement holds many locks or runs long. */
const PURGE_BATCH = 1000;

export interface RefreshTokenRecord extends StoredRefreshToken {
	id: string;
	userId: string;
	familyId: string;
}

/** A user row with its role's name: `FROM users u JOIN roles r ON r.id = u.role_id`. */
export const USER_COLUMNS = "u.id, u.email, u.name, u.phone, u.role_id, r.name AS role, u.password_hash, u.created_at, u.email_verified_at";
export const USERS_WITH_ROLE = "users u JOIN roles r ON r.id = u.role_id";

/**
 * The names of the permissions a role holds, as an SQL expression over `r` (a role row): every permission
 * for a role that holds all of them, else its own.
 */
export const ROLE_PERMISSION_NAMES = `CASE WHEN r.all_permissions THEN ARRAY(SELECT p.name FROM permissions p ORDER BY p.name)
	ELSE ARRAY(SELECT p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = r.id ORDER BY p.name) END`;

export function toUser(row: UserRow): UserDto {
	return {
		id: row.id,
		email: row.email,
		name: row.name,
		phone: row.phone,
		role: row.role,
		roleId: row.role_id,
		createdAt: row.created_at.toISOString(),
		emailVerified: row.email_verified_at !== null
	};
}

export type { UserRow };

export class IdentityRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/** Inserts a user with the role named `role` (or with id `roleId`); answers undefined when the e-mail is taken (case-insensitively). */
	async insertUser(
		u: { email: string; name: string; phone: string | null; passwordHash: string; role?: string; roleId?: string; emailVerified?: boolean },
		transaction?: Transaction
	): Promise<UserDto | undefined> {
		const rows = await this.db.execute<UserRow>(
			`WITH inserted AS (
			   INSERT INTO users (email, name, phone, password_hash, role_id, email_verified_at)
			   VALUES ($1, $2, $3, $4, coalesce($6::uuid, (SELECT id FROM roles WHERE name = $5)), CASE WHEN $7::boolean THEN now() END)
			   ON CONFLICT ((lower(email))) DO NOTHING
			   RETURNING *
			 )
			 SELECT ${USER_COLUMNS} FROM inserted u JOIN roles r ON r.id = u.role_id`,
			[u.email, u.name, u.phone, u.passwordHash, u.role ?? null, u.roleId ?? null, u.emailVerified === true],
			transaction
		);
		return rows[0] && toUser(rows[0]);
	}

	/** The user with this e-mail, with their password hash and whether they signed in from `address` before. */
	async findByEmail(email: string, address = ""): Promise<UserWithHash | undefined> {
		const [row] = await this.db.query<UserRow & { known_address: boolean }>(
			`SELECT ${USER_COLUMNS}, EXISTS (SELECT 1 FROM login_addresses a WHERE a.user_id = u.id AND a.address = $2) AS known_address
			 FROM ${USERS_WITH_ROLE} WHERE lower(u.email) = lower($1)`,
			[email, address]
		);
		return row && { user: toUser(row), passwordHash: row.password_hash, knownAddress: row.known_address };
	}

	/**
	 * The caller an access token stands for, from current data: the user still exists, the session the
	 * token was issued in (its refresh-token family) has not ended (logout, reuse, password change), and
	 * what they may do is what their role holds now.
	 */
	async resolveSession(userId: string, sessionId: string): Promise<AuthUser | undefined> {
		const [row] = await this.db.query<{ id: string; email: string; role: string; permissions: string[]; email_verified: boolean }>(
			`SELECT u.id, u.email, r.name AS role, ${ROLE_PERMISSION_NAMES} AS permissions, u.email_verified_at IS NOT NULL AS email_verified FROM ${USERS_WITH_ROLE}
			 WHERE u.id = $1 AND EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = $2 AND t.user_id = u.id AND t.revoked_at IS NULL)`,
			[userId, sessionId]
		);
		return row && { id: row.id, email: row.email, role: row.role, permissions: row.permissions, sessionId, emailVerified: row.email_verified };
	}

	async findById(id: string, transaction?: Transaction): Promise<UserDto | undefined> {
		const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM ${USERS_WITH_ROLE} WHERE u.id = $1`, [id], transaction);
		return row && toUser(row);
	}

	/** A user with the names of the permissions their role holds now. */
	async findWithPermissions(id: string, transaction?: Transaction): Promise<(UserDto & { permissions: string[] }) | undefined> {
		const [row] = await this.db.query<UserRow & { permissions: string[] }>(
			`SELECT ${USER_COLUMNS}, ${ROLE_PERMISSION_NAMES} AS permissions FROM ${USERS_WITH_ROLE} WHERE u.id = $1`,
			[id],
			transaction
		);
		return row && { ...toUser(row), permissions: row.permissions };
	}

	/** Gives the user the role named `role`. */
	async setRoleByName(userId: string, role: string): Promise<void> {
		await this.db.execute(`UPDATE users SET role_id = (SELECT id FROM roles WHERE name = $2), updated_at = now() WHERE id = $1`, [userId, role]);
	}

	async insertRefreshToken(t: { userId: string; familyId?: string; hash: string; expiresAt: Date }, transaction?: Transaction): Promise<string> {
		const [row] = await this.db.execute<{ id: string }>(
			`INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
			 VALUES ($1, COALESCE($2::uuid, gen_random_uuid()), $3, $4) RETURNING id`,
			[t.userId, t.familyId ?? null, t.hash, t.expiresAt],
			transaction
		);
		return row.id;
	}

	/** Loads a refresh token and locks its row until `transaction` ends, so two rotations cannot both win. */
	async lockRefreshToken(hash: string, transaction: Transaction): Promise<RefreshTokenRecord | undefined> {
		const [row] = await this.db.query<{
			id: string;
			user_id: string;
			family_id: string;
			expires_at: Date;
			revoked_at: Date | null;
			replaced_by: string | null;
		}>(`SELECT id, user_id, family_id, expires_at, revoked_at, replaced_by FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, [hash], transaction);
		return (
			row && {
				id: row.id,
				userId: row.user_id,
				familyId: row.family_id,
				expiresAt: row.expires_at,
				revokedAt: row.revoked_at,
				replacedBy: row.replaced_by
			}
		);
	}

	async markRotated(id: string, replacedBy: string, transaction: Transaction): Promise<void> {
		await this.db.execute(`UPDATE refresh_tokens SET revoked_at = now(), replaced_by = $2 WHERE id = $1`, [id, replacedBy], transaction);
	}

	async revokeFamily(familyId: string, transaction?: Transaction): Promise<void> {
		await this.db.execute(`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, [familyId], transaction);
	}

	/**
	 * Takes one attempt from each counter, all or none, before the password is checked: with any number of
	 * attempts at once, at most each counter's allowance gets through (the counter rows are locked in a fixed
	 * order, so concurrent attempts queue on them instead of all reading "not yet"). Answers 0 when the attempt
	 * may go on, else the seconds until the first refusing counter lets one through.
	 */
	async takeLoginAttempt(counters: LoginCounter[]): Promise<number> {
		try {
			await this.db.transaction(async t => {
				for (const c of counters) {
					const taken = await this.db.execute(
						`INSERT INTO login_failures AS f (key, failures, window_started_at, last_attempt_at) VALUES ($1, 1, now(), now())
						 ON CONFLICT (key) DO UPDATE SET
						   failures = CASE WHEN f.window_started_at <= now() - make_interval(secs => $2) THEN 1 ELSE f.failures + 1 END,
						   window_started_at = CASE WHEN f.window_started_at <= now() - make_interval(secs => $2) THEN now() ELSE f.window_started_at END,
						   last_attempt_at = now()
						 WHERE f.window_started_at <= now() - make_interval(secs => $2)
						    OR f.failures < $3
						    OR ($4 AND f.last_attempt_at <= now() - make_interval(secs => least($2, power(2, least(30, f.failures - $3 + 1)))))
						 RETURNING failures`,
						[c.key, c.windowSeconds, c.max, c.progressive === true],
						t
					);
					if (taken.length === 0) throw new LoginRefused(await this.loginRetryAfter(c, t));
				}
			});
			return 0;
		} catch (err) {
			if (err instanceof LoginRefused) return err.retryAfter;
			throw err;
		}
	}

	/** Seconds until a counter that refused lets an attempt through. */
	private async loginRetryAfter(c: LoginCounter, t: Transaction): Promise<number> {
		const [row] = await this.db.query<{ failures: number; window_left: number; since_last: number }>(
			`SELECT failures, extract(epoch FROM window_started_at + make_interval(secs => $2) - now())::float8 AS window_left,
			        extract(epoch FROM now() - last_attempt_at)::float8 AS since_last
			 FROM login_failures WHERE key = $1`,
			[c.key, c.windowSeconds],
			t
		);
		if (!row) return 1;
		let wait = row.window_left;
		if (c.progressive) wait = Math.min(wait, progressiveDelaySeconds(row.failures, c.max, c.windowSeconds) - row.since_last);
		// now() is when this transaction began: a window a concurrent attempt opened after that would look
		// longer than it is
		return Math.min(c.windowSeconds, Math.max(1, Math.ceil(wait)));
	}

	/**
	 * Gives back the attempt a login took, for one that was no failure (the password was right, or it was never
	 * checked): the account-and-address counter starts over, the wider ones count one less.
	 */
	async returnLoginAttempt(counters: LoginCounter[], succeeded: boolean): Promise<void> {
		const pair = counters.filter(c => c.key.startsWith("account-address:")).map(c => c.key);
		const wider = counters.filter(c => !c.key.startsWith("account-address:")).map(c => c.key);
		await this.db.transaction(async t => {
			if (succeeded) await this.db.execute(`DELETE FROM login_failures WHERE key = ANY($1)`, [pair], t);
			const decrement = succeeded ? wider : [...pair, ...wider];
			if (decrement.length > 0)
				await this.db.execute(`UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = ANY($1)`, [decrement], t);
		});
	}

	/** Remembers that the user signed in from `address`. */
	async rememberAddress(userId: string, address: string): Promise<void> {
		await this.db.execute(
			`INSERT INTO login_addresses (user_id, address) VALUES ($1, $2)
			 ON CONFLICT (user_id, address) DO UPDATE SET last_login_at = now()`,
			[userId, address]
		);
	}

	/** Ends every session of a user (every refresh-token family, and with them their access tokens). */
	async revokeAllSessions(userId: string, transaction?: Transaction): Promise<void> {
		await this.db.execute(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId], transaction);
	}

	/**
	 * Deletes what no longer answers anything, in small batches: login counters whose window is over, refresh
	 * tokens past their expiry, whole sessions ended more than a day ago (a token of theirs presented again is
	 * refused as unknown instead of revoked: the same 401), and sign-in addresses unused for 90 days.
	 * Rotated tokens of live sessions stay until they expire: presenting one again is how theft is noticed.
	 * Mailed link tokens go once used or expired, but not before the mail limits stop counting them.
	 */
	async purge(windowSeconds: number): Promise<{ counters: number; tokens: number; addresses: number; linkTokens: number }> {
		const batches = async (sql: string, params: unknown[] = []) => {
			let total = 0;
			for (;;) {
				const rows = await this.db.execute<{ n: number }>(sql, params);
				const n = rows.length;
				total += n;
				if (n < PURGE_BATCH) return total;
			}
		};
		const counters = await batches(
			`DELETE FROM login_failures WHERE key IN (
			   SELECT key FROM login_failures WHERE window_started_at < now() - make_interval(secs => $1) LIMIT ${PURGE_BATCH}
			 ) RETURNING 1 AS n`,
			[windowSeconds]
		);
		const tokens =
			(await batches(
				`DELETE FROM refresh_tokens WHERE id IN (SELECT id FROM refresh_tokens WHERE expires_at < now() LIMIT ${PURGE_BATCH}) RETURNING 1 AS n`
			)) +
			(await batches(
				`DELETE FROM refresh_tokens WHERE id IN (
				   SELECT r.id FROM refresh_tokens r
				   WHERE r.revoked_at < now() - interval '1 day'
				     AND NOT EXISTS (SELECT 1 FROM refresh_tokens l WHERE l.family_id = r.family_id AND (l.revoked_at IS NULL OR l.revoked_at >= now() - interval '1 day'))
				   LIMIT ${PURGE_BATCH}
				 ) RETURNING 1 AS n`
			));
		const addresses = await batches(
			`DELETE FROM login_addresses WHERE (user_id, address) IN (
			   SELECT user_id, address FROM login_addresses WHERE last_login_at < now() - interval '90 days' LIMIT ${PURGE_BATCH}
			 ) RETURNING 1 AS n`
		);
		const linkTokens = await batches(
			`DELETE FROM account_tokens WHERE id IN (
			   SELECT id FROM account_tokens
			   WHERE created_at < now() - make_interval(secs => $1) AND (used_at IS NOT NULL OR expires_at < now())
			   LIMIT ${PURGE_BATCH}
			 ) RETURNING 1 AS n`,
			[MAIL_LIMITS.windowSeconds]
		);
		return { counters, tokens, addresses, linkTokens };
	}
}
