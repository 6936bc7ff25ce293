import type { Transaction } from "sequelize";
import type { ServiceDatabase } from "../../lib/database";
import { ROLE_PERMISSION_NAMES, toUser, USER_COLUMNS, USERS_WITH_ROLE, type UserRow } from "./identity.repository";
import { ADMIN_ROLE, CUSTOMER_PERMISSIONS, CUSTOMER_ROLE, PERMISSIONS, type PermissionDto, type RoleDto, type UserDto } from "./identity.types";
import type { Page } from "../../lib/params";

/** The SQL behind roles, permissions and the admin's view of users. Answers plain objects. */

interface PermissionRow {
	id: string;
	name: string;
	builtin: boolean;
}

interface RoleRow {
	id: string;
	name: string;
	builtin: boolean;
	all_permissions: boolean;
	permissions: PermissionRow[] | null;
}

const toPermission = (r: PermissionRow): PermissionDto => ({ id: Number(r.id), name: r.name, builtin: r.builtin });

const toRole = (r: RoleRow): RoleDto => ({
	id: r.id,
	name: r.name,
	builtin: r.builtin,
	allPermissions: r.all_permissions,
	permissions: (r.permissions ?? []).map(toPermission)
});

/** A role row with its permissions as JSON (every permission for a role that holds all of them). */
const ROLE_SELECT = `SELECT r.id, r.name, r.builtin, r.all_permissions,
	(SELECT json_agg(json_build_object('id', p.id, 'name', p.name, 'builtin', p.builtin) ORDER BY p.id) FROM permissions p
	 WHERE r.all_permissions OR EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = r.id AND rp.permission_id = p.id)) AS permissions
	FROM roles r`;

/** `%` and `_` in a search are the characters themselves. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, c => `\\${c}`)}%`;

export type UserPage = Page<UserDto>;

export class AccessRepository {
	constructor(private readonly db: ServiceDatabase) {}

	/**
	 * Makes sure every permission the code declares exists (marked built-in) and the two built-in roles do,
	 * `customer` with its permissions the first time. Idempotent; safe when several instances start at once.
	 */
	async ensureBuiltins(): Promise<void> {
		await this.db.execute(
			`INSERT INTO permissions (name, builtin) SELECT unnest($1::text[]), true
			 ON CONFLICT (name) DO UPDATE SET builtin = true WHERE NOT permissions.builtin`,
			[Object.keys(PERMISSIONS)]
		);
		const created = await this.db.execute<{ name: string }>(
			`INSERT INTO roles (name, builtin, all_permissions) VALUES ($1, true, true), ($2, true, false)
			 ON CONFLICT ((lower(name))) DO NOTHING RETURNING name`,
			[ADMIN_ROLE, CUSTOMER_ROLE]
		);
		if (created.some(r => r.name === CUSTOMER_ROLE)) {
			await this.db.execute(
				`INSERT INTO role_permissions (role_id, permission_id)
				 SELECT r.id, p.id FROM roles r, permissions p WHERE r.name = $1 AND p.name = ANY($2::text[]) ON CONFLICT DO NOTHING`,
				[CUSTOMER_ROLE, CUSTOMER_PERMISSIONS]
			);
		}
	}

	// --- permissions ---

	async listPermissions(limit: number): Promise<PermissionDto[]> {
		return (await this.db.query<PermissionRow>(`SELECT id, name, builtin FROM permissions ORDER BY id LIMIT $1`, [limit])).map(toPermission);
	}

	async findPermission(id: number, transaction?: Transaction): Promise<PermissionDto | undefined> {
		const [row] = await this.db.query<PermissionRow>(`SELECT id, name, builtin FROM permissions WHERE id = $1`, [id], transaction);
		return row && toPermission(row);
	}

	/** The permissions with these ids; answers the ids that do not exist as `missing`. */
	async findPermissions(ids: readonly number[], transaction?: Transaction): Promise<{ found: PermissionDto[]; missing: number[] }> {
		const rows = await this.db.query<PermissionRow>(`SELECT id, name, builtin FROM permissions WHERE id = ANY($1::bigint[])`, [ids], transaction);
		const found = rows.map(toPermission);
		return { found, missing: ids.filter(id => !found.some(p => p.id === id)) };
	}

	/** Answers undefined when the name is taken. */
	async insertPermission(name: string): Promise<PermissionDto | undefined> {
		const [row] = await this.db.execute<PermissionRow>(
			`INSERT INTO permissions (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id, name, builtin`,
			[name]
		);
		return row && toPermission(row);
	}

	/** Answers undefined when the name is taken by another permission. */
	async renamePermission(id: number, name: string, transaction: Transaction): Promise<PermissionDto | undefined> {
		const [row] = await this.db.execute<PermissionRow>(
			`UPDATE permissions SET name = $2 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM permissions o WHERE o.name = $2 AND o.id <> $1)
			 RETURNING id, name, builtin`,
			[id, name],
			transaction
		);
		return row && toPermission(row);
	}

	async deletePermission(id: number, transaction: Transaction): Promise<void> {
		await this.db.execute(`DELETE FROM permissions WHERE id = $1`, [id], transaction);
	}

	/** Locks a permission row until `transaction` ends. */
	async lockPermission(id: number, transaction: Transaction): Promise<PermissionDto | undefined> {
		const [row] = await this.db.query<PermissionRow>(`SELECT id, name, builtin FROM permissions WHERE id = $1 FOR UPDATE`, [id], transaction);
		return row && toPermission(row);
	}

	// --- roles ---

	async listRoles(limit: number): Promise<RoleDto[]> {
		return (await this.db.query<RoleRow>(`${ROLE_SELECT} ORDER BY r.created_at, r.name LIMIT $1`, [limit])).map(toRole);
	}

	async findRole(id: string, transaction?: Transaction): Promise<RoleDto | undefined> {
		const [row] = await this.db.query<RoleRow>(`${ROLE_SELECT} WHERE r.id = $1`, [id], transaction);
		return row && toRole(row);
	}

	/** Locks a role row until `transaction` ends (its permissions and holders change under this lock). */
	async lockRole(id: string, transaction: Transaction): Promise<RoleDto | undefined> {
		await this.db.query(`SELECT 1 FROM roles WHERE id = $1 FOR UPDATE`, [id], transaction);
		return this.findRole(id, transaction);
	}

	/** Answers undefined when the name is taken (case-insensitively). */
	async insertRole(name: string, permissionIds: readonly number[], transaction: Transaction): Promise<RoleDto | undefined> {
		const [row] = await this.db.execute<{ id: string }>(
			`INSERT INTO roles (name) VALUES ($1) ON CONFLICT ((lower(name))) DO NOTHING RETURNING id`,
			[name],
			transaction
		);
		if (!row) return undefined;
		await this.setRolePermissions(row.id, permissionIds, transaction);
		return this.findRole(row.id, transaction);
	}

	/** Answers false when the name is taken by another role. */
	async renameRole(id: string, name: string, transaction: Transaction): Promise<boolean> {
		const rows = await this.db.execute(
			`UPDATE roles SET name = $2, updated_at = now() WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM roles o WHERE lower(o.name) = lower($2) AND o.id <> $1)
			 RETURNING 1 AS n`,
			[id, name],
			transaction
		);
		return rows.length > 0;
	}

	async setRolePermissions(id: string, permissionIds: readonly number[], transaction: Transaction): Promise<void> {
		await this.db.execute(`DELETE FROM role_permissions WHERE role_id = $1 AND permission_id <> ALL ($2::bigint[])`, [id, permissionIds], transaction);
		await this.db.execute(
			`INSERT INTO role_permissions (role_id, permission_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
			[id, permissionIds],
			transaction
		);
		await this.db.execute(`UPDATE roles SET updated_at = now() WHERE id = $1`, [id], transaction);
	}

	/** Deletes a role nobody holds; answers false when someone does. */
	async deleteRoleIfUnused(id: string, transaction: Transaction): Promise<boolean> {
		const rows = await this.db.execute(
			`DELETE FROM roles WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE role_id = $1) RETURNING 1 AS n`,
			[id],
			transaction
		);
		return rows.length > 0;
	}

	async roleHolders(id: string, transaction?: Transaction): Promise<number> {
		const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE role_id = $1`, [id], transaction);
		return row.n;
	}

	/** The ids of the users holding a role (for invalidating what gateways kept about them). */
	async holderIds(roleId: string, limit: number): Promise<string[]> {
		return (await this.db.query<{ id: string }>(`SELECT id FROM users WHERE role_id = $1 LIMIT $2`, [roleId, limit])).map(r => r.id);
	}

	/** The names of the permissions of a role (all of them for `admin`). */
	async permissionNamesOfRole(roleId: string, transaction?: Transaction): Promise<string[] | undefined> {
		const [row] = await this.db.query<{ permissions: string[] }>(
			`SELECT ${ROLE_PERMISSION_NAMES} AS permissions FROM roles r WHERE r.id = $1`,
			[roleId],
			transaction
		);
		return row?.permissions;
	}

	// --- users, as the admin sees them ---

	/** A page of users, newest first; `search` matches the e-mail or the name, case-insensitively. */
	async listUsers(q: { search?: string; roleId?: string; limit: number; offset: number }): Promise<{ items: UserDto[]; total: number }> {
		const where = `($1::text IS NULL OR u.email ILIKE $1 OR u.name ILIKE $1) AND ($2::uuid IS NULL OR u.role_id = $2)`;
		const params = [q.search ? likePattern(q.search) : null, q.roleId ?? null];
		const [rows, [count]] = await Promise.all([
			this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM ${USERS_WITH_ROLE} WHERE ${where} ORDER BY u.created_at DESC, u.id LIMIT $3 OFFSET $4`, [
				...params,
				q.limit,
				q.offset
			]),
			this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users u WHERE ${where}`, params)
		]);
		return { items: rows.map(toUser), total: count.n };
	}

	/** Locks a user row until `transaction` ends. */
	async lockUser(id: string, transaction: Transaction): Promise<UserDto | undefined> {
		const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM ${USERS_WITH_ROLE} WHERE u.id = $1 FOR UPDATE OF u`, [id], transaction);
		return row && toUser(row);
	}

	/**
	 * How many users hold `admin` besides `exceptUserId`, with their rows locked until `transaction` ends, so
	 * two demotions at once cannot both remove the last two admins.
	 */
	async otherAdmins(exceptUserId: string, transaction: Transaction): Promise<number> {
		const rows = await this.db.query<{ id: string }>(
			`SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id WHERE r.name = $1 ORDER BY u.id FOR UPDATE OF u`,
			[ADMIN_ROLE],
			transaction
		);
		return rows.filter(r => r.id !== exceptUserId).length;
	}

	/** Changes the given fields; answers undefined when the new e-mail is taken. */
	async updateUser(
		id: string,
		changes: { name?: string; email?: string; phone?: string | null; roleId?: string },
		transaction: Transaction
	): Promise<UserDto | undefined | "email-taken"> {
		if (changes.email !== undefined) {
			const [taken] = await this.db.query(`SELECT 1 AS n FROM users WHERE lower(email) = lower($1) AND id <> $2`, [changes.email, id], transaction);
			if (taken) return "email-taken";
		}
		try {
			await this.db.execute(
				`UPDATE users SET
				   name = coalesce($2, name),
				   email = coalesce($3, email),
				   phone = CASE WHEN $4::boolean THEN $5 ELSE phone END,
				   role_id = coalesce($6::uuid, role_id),
				   updated_at = now()
				 WHERE id = $1`,
				[id, changes.name ?? null, changes.email ?? null, changes.phone !== undefined, changes.phone ?? null, changes.roleId ?? null],
				transaction
			);
		} catch (err) {
			// the same e-mail taken by a concurrent change
			if ((err as { original?: { code?: string } }).original?.code === "23505") return "email-taken";
			throw err;
		}
		const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM ${USERS_WITH_ROLE} WHERE u.id = $1`, [id], transaction);
		return row && toUser(row);
	}

	/** Deletes the account and, with it (cascade), its sessions, sign-in addresses and refresh tokens. */
	async deleteUser(id: string, transaction: Transaction): Promise<void> {
		await this.db.execute(`DELETE FROM users WHERE id = $1`, [id], transaction);
	}
}
