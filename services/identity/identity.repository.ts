import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "../../lib/database";
import type { FailureRecord, StoredRefreshToken } from "./identity.tokens";
import type { Role, UserDto } from "./identity.types";

/** The only code that touches the `identity` schema. Answers plain objects. */

interface UserRow {
	id: string;
	email: string;
	name: string;
	phone: string | null;
	roles: Role[];
	password_hash: string;
	created_at: Date;
}

export interface UserWithHash {
	user: UserDto;
	passwordHash: string;
}

export interface RefreshTokenRecord extends StoredRefreshToken {
	id: string;
	userId: string;
	familyId: string;
}

const USER_COLUMNS = "id, email, name, phone, roles, password_hash, created_at";

function toUser(row: UserRow): UserDto {
	return {
		id: row.id,
		email: row.email,
		name: row.name,
		phone: row.phone,
		roles: row.roles,
		createdAt: row.created_at.toISOString()
	};
}

export class IdentityRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/** Inserts a user; answers undefined when the e-mail is taken (case-insensitively). */
	async insertUser(
		u: { email: string; name: string; phone: string | null; passwordHash: string; roles: Role[] },
		transaction?: Transaction
	): Promise<UserDto | undefined> {
		const rows = await this.db.execute<UserRow>(
			`INSERT INTO users (email, name, phone, password_hash, roles) VALUES ($1, $2, $3, $4, $5)
			 ON CONFLICT ((lower(email))) DO NOTHING
			 RETURNING ${USER_COLUMNS}`,
			[u.email, u.name, u.phone, u.passwordHash, u.roles],
			transaction
		);
		return rows[0] && toUser(rows[0]);
	}

	async findByEmail(email: string): Promise<UserWithHash | undefined> {
		const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
		return row && { user: toUser(row), passwordHash: row.password_hash };
	}

	async findById(id: string): Promise<UserDto | undefined> {
		const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
		return row && toUser(row);
	}

	async addRole(userId: string, role: Role): Promise<void> {
		await this.db.execute(`UPDATE users SET roles = array_append(roles, $2), updated_at = now() WHERE id = $1 AND NOT ($2 = ANY(roles))`, [
			userId,
			role
		]);
	}

	async insertRefreshToken(
		t: { userId: string; familyId?: string; hash: string; expiresAt: Date },
		transaction?: Transaction
	): Promise<string> {
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

	async findLoginFailures(key: string): Promise<FailureRecord | undefined> {
		const [row] = await this.db.query<{ failures: number; window_started_at: Date }>(
			`SELECT failures, window_started_at FROM login_failures WHERE key = $1`,
			[key]
		);
		return row && { failures: row.failures, windowStartedAt: row.window_started_at };
	}

	/** Counts a failed login; a window older than `windowSeconds` starts over. */
	async recordLoginFailure(key: string, windowSeconds: number): Promise<void> {
		await this.db.execute(
			`INSERT INTO login_failures (key, failures, window_started_at) VALUES ($1, 1, now())
			 ON CONFLICT (key) DO UPDATE SET
			   failures = CASE WHEN login_failures.window_started_at < now() - make_interval(secs => $2) THEN 1 ELSE login_failures.failures + 1 END,
			   window_started_at = CASE WHEN login_failures.window_started_at < now() - make_interval(secs => $2) THEN now() ELSE login_failures.window_started_at END`,
			[key, windowSeconds]
		);
	}

	async clearLoginFailures(key: string): Promise<void> {
		await this.db.execute(`DELETE FROM login_failures WHERE key = $1`, [key]);
	}
}
