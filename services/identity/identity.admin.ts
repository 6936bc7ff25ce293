import bcrypt from "bcrypt";
import type { Context, ServiceSchema } from "moleculer";
import "./identity.access";
import { InvalidInputError, NotFoundError, UnauthenticatedError } from "../../lib/errors";
import { lineParam, pageOf, pageParams } from "../../lib/params";
import { checkPasswordBytes, emailParam, newPasswordParam, personNameParam, phoneParam } from "./identity.params";
import {
	EmailTakenError,
	LastAdminError,
	PermissionNameTakenError,
	PermissionNotHeldError,
	PermissionProtectedError,
	RoleInUseError,
	RoleNameTakenError,
	RoleProtectedError
} from "./identity.errors";
import type { AccessRepository, UserPage } from "./identity.access-repository";
import type { IdentityRepository } from "./identity.repository";
import {
	ADMIN_ROLE,
	CUSTOMER_ROLE,
	PERMISSION_NAME,
	type AccessChangedEvent,
	type CallerMeta,
	type PermissionDto,
	type RoleDto,
	type SessionsEndedEvent,
	type UserDto,
	type UserWithPermissions
} from "./identity.types";
import { PERMISSION_ENVELOPE, PERMISSION_LIST, ROLE_ENVELOPE, ROLE_LIST, USER_ENVELOPE, USER_PAGE, USER_WITH_PERMISSIONS_ENVELOPE } from "./identity.openapi";

/**
 * Users, roles and permissions for those who manage them: `/api/admin/users`, `/api/admin/roles`,
 * `/api/admin/permissions` over REST, and the Go identity service's contract over gRPC
 * (identity-grpc.service.ts), both calling these actions. Each declares the permission it needs (the entry
 * points enforce it); the rules that depend on data are here:
 *
 * - No escalation: a caller may give a user a role, give a role permissions (or take them away), rename or
 *   delete a permission, or change or delete a user, only when the caller holds every permission involved
 *   (the role's, the user's current role's, the permissions themselves). PERMISSION_NOT_HELD (403).
 * - `admin` and `customer` cannot be deleted or renamed, `admin` holds every permission (its set is not
 *   edited), a role still held by users cannot be deleted, and the last user holding `admin` cannot lose it
 *   (ROLE_PROTECTED, ROLE_IN_USE, LAST_ADMIN: 409, gRPC FAILED_PRECONDITION).
 * - Built-in permissions (the ones Momentum's code checks) cannot be renamed or deleted (PERMISSION_PROTECTED).
 *
 * Every change to what someone may do is broadcast (`identity.accessChanged`, `identity.sessionsEnded` for
 * a deleted account): gateways drop what they kept about those callers at once.
 */

/** What the actions need of the identity service they run in. */
export interface AdminThis {
	repo: IdentityRepository;
	access: AccessRepository;
	db: { transaction<T>(fn: (t: import("sequelize").Transaction) => Promise<T>): Promise<T> };
	bcrypt: { run<T>(fn: () => Promise<T>): Promise<T> };
	settings: { bcryptRounds: number };
	broker: { broadcast(event: string, data: unknown): Promise<void> | void };
}

type Ctx<P> = Context<P, CallerMeta>;

/** The most rows a list without pages answers (roles, permissions; the Go contract's GetUsers). */
export const MAX_LISTED = 1000;

const idParam = { id: { type: "uuid" } } as const;
const permissionIdParam = { type: "number", integer: true, positive: true, max: Number.MAX_SAFE_INTEGER, convert: true } as const;
const permissionIds = { type: "array", items: permissionIdParam, max: 500 } as const;
const roleName = lineParam(1, 50);
const permissionName = {
	type: "string",
	max: 64,
	pattern: PERMISSION_NAME,
	messages: { stringPattern: "The 'name' field must be '<resource>.<verb>': lower case, with a verb of view, store, update or delete (e.g. 'report.view')." }
} as const;
const userFields = { email: emailParam, name: personNameParam, phone: phoneParam } as const;

/** The caller as they are now (their role's permissions read again, not taken from a kept answer). */
/**
 * The caller as they are now, read in the transaction `t` the change runs in: on its connection (a second
 * connection per call, taken while holding the first, lets as many concurrent calls as the pool has
 * connections wait on each other).
 */
async function currentCaller(self: AdminThis, ctx: Ctx<unknown>, t: import("sequelize").Transaction): Promise<UserWithPermissions> {
	const id = ctx.meta.user?.id;
	const caller = id ? await self.repo.findWithPermissions(id, t) : undefined;
	if (!caller) throw new UnauthenticatedError();
	return caller;
}

/** Throws PERMISSION_NOT_HELD unless the caller holds every one of `permissions`. */
function mustHold(caller: UserWithPermissions, permissions: readonly string[], what: string): void {
	const missing = [...new Set(permissions)].filter(p => !caller.permissions.includes(p)).sort();
	if (missing.length > 0) throw new PermissionNotHeldError(missing, what);
}

async function permissionsOfRole(self: AdminThis, role: RoleDto, t: import("sequelize").Transaction): Promise<string[]> {
	return role.allPermissions ? ((await self.access.permissionNamesOfRole(role.id, t)) ?? []) : role.permissions.map(p => p.name);
}

async function broadcast(self: AdminThis, event: "identity.accessChanged", data: AccessChangedEvent): Promise<void>;
async function broadcast(self: AdminThis, event: "identity.sessionsEnded", data: SessionsEndedEvent): Promise<void>;
async function broadcast(self: AdminThis, event: string, data: unknown): Promise<void> {
	await self.broker.broadcast(event, data);
}

/** The permissions with these ids, or VALIDATION_ERROR (422) naming the unknown ones. */
async function knownPermissions(self: AdminThis, ids: readonly number[], t: import("sequelize").Transaction): Promise<PermissionDto[]> {
	const { found, missing } = await self.access.findPermissions(ids, t);
	if (missing.length > 0) {
		throw new InvalidInputError([{ field: "permissionIds", message: `Unknown permission id(s): ${missing.join(", ")}.`, type: "unknownPermission" }]);
	}
	return found;
}

async function knownRole(self: AdminThis, roleId: string, t: import("sequelize").Transaction): Promise<RoleDto> {
	const role = await self.access.findRole(roleId, t);
	if (!role) throw new InvalidInputError([{ field: "roleId", message: `Unknown role id ${roleId}.`, type: "unknownRole" }]);
	return role;
}

/** The actions, for identity.service.ts to spread into its own (their handlers run with the identity service as `this`). */
export function identityAdminActions(): NonNullable<ServiceSchema["actions"]> {
	return actions as unknown as NonNullable<ServiceSchema["actions"]>;
}

const actions = {
	// --- users ---

	/** A page of users, newest first; `search` matches e-mail or name. Needs `user.view`. */
	listUsers: {
		rest: "GET /admin/users",
		summary: "List users",
		responses: { 200: { description: "A page of users, newest first", schema: USER_PAGE } },
		visibility: "published",
		permission: "user.view",
		params: {
			$$strict: "remove",
			search: { type: "string", trim: true, max: 100, optional: true },
			roleId: { type: "uuid", optional: true },
			...pageParams
		},
		async handler(this: AdminThis, ctx: Ctx<{ search?: string; roleId?: string; page?: number; pageSize?: number }>): Promise<UserPage> {
			const { page, pageSize, offset } = pageOf(ctx.params);
			const { items, total } = await this.access.listUsers({
				search: ctx.params.search || undefined,
				roleId: ctx.params.roleId,
				limit: pageSize,
				offset
			});
			return { items, total, page, pageSize };
		}
	},

	/** Every user, oldest first, at most MAX_LISTED (the Go contract's GetUsers has no pages). Needs `user.view`. */
	allUsers: {
		visibility: "public",
		permission: "user.view",
		async handler(this: AdminThis): Promise<{ items: UserDto[] }> {
			const { items } = await this.access.listUsers({ limit: MAX_LISTED, offset: 0 });
			return { items: items.reverse() };
		}
	},

	/** A user with their permissions. Needs `user.view`, or `profile.view` for oneself. Throws NOT_FOUND (404). */
	getUser: {
		rest: "GET /admin/users/:id",
		summary: "Get a user with their permissions",
		responses: { 200: { description: "The user", schema: USER_WITH_PERMISSIONS_ENVELOPE } },
		errors: { 404: ["NOT_FOUND"] },
		visibility: "published",
		permission: "user.view",
		self: { param: "id", permission: "profile.view" },
		params: { $$strict: "remove", ...idParam },
		async handler(this: AdminThis, ctx: Ctx<{ id: string }>): Promise<{ user: UserWithPermissions }> {
			const user = await this.repo.findWithPermissions(ctx.params.id);
			if (!user) throw new NotFoundError("User", ctx.params.id);
			return { user };
		}
	},

	/**
	 * Creates an account with a role (`customer` without `roleId`), its address counted as verified (the
	 * caller vouches for it). Needs `user.store` and every permission of the role. Throws EMAIL_TAKEN (409), VALIDATION_ERROR (422: also an unknown role), PERMISSION_NOT_HELD (403).
	 */
	createUser: {
		rest: "POST /admin/users",
		errors: { 409: ["EMAIL_TAKEN"] },
		summary: "Create a user",
		responses: { 201: { description: "Created", schema: USER_ENVELOPE } },
		visibility: "published",
		permission: "user.store",
		params: {
			$$strict: "remove",
			...userFields,
			phone: { ...userFields.phone, optional: true },
			password: newPasswordParam,
			roleId: { type: "uuid", optional: true }
		},
		async handler(
			this: AdminThis,
			ctx: Ctx<{ email: string; name: string; phone?: string; password: string; roleId?: string }>
		): Promise<{ user: UserDto }> {
			const { email, name, phone, password, roleId } = ctx.params;
			checkPasswordBytes(password);
			const passwordHash = await this.bcrypt.run(() => bcrypt.hash(password, this.settings.bcryptRounds));
			const user = await this.db.transaction(async t => {
				const caller = await currentCaller(this, ctx, t);
				const role = roleId ? await knownRole(this, roleId, t) : undefined;
				if (role) mustHold(caller, await permissionsOfRole(this, role, t), `give the ${role.name} role`);
				// the staff member creating it vouches for the address: no verification mail, nothing blocked
				return this.repo.insertUser(
					{ email, name, phone: phone ?? null, passwordHash, roleId: role?.id, role: role ? undefined : CUSTOMER_ROLE, emailVerified: true },
					t
				);
			});
			if (!user) throw new EmailTakenError(email);
			ctx.meta.$statusCode = 201;
			ctx.meta.$location = `/api/admin/users/${user.id}`;
			return { user };
		}
	},

	/**
	 * Changes a user's name, e-mail, phone (null removes it) or role. Needs `user.update` and every permission
	 * of the user's role and of the new one. Throws NOT_FOUND (404), EMAIL_TAKEN (409), LAST_ADMIN (409),
	 * VALIDATION_ERROR (422), PERMISSION_NOT_HELD (403).
	 */
	updateUser: {
		rest: "PATCH /admin/users/:id",
		errors: { 403: ["PERMISSION_NOT_HELD"], 404: ["NOT_FOUND"], 409: ["EMAIL_TAKEN", "LAST_ADMIN"] },
		summary: "Change a user",
		responses: { 200: { description: "The user as they are now", schema: USER_ENVELOPE } },
		visibility: "published",
		permission: "user.update",
		params: {
			$$strict: "remove",
			...idParam,
			email: { ...userFields.email, optional: true },
			name: { ...userFields.name, optional: true },
			phone: { ...userFields.phone, optional: true, nullable: true },
			roleId: { type: "uuid", optional: true }
		},
		async handler(
			this: AdminThis,
			ctx: Ctx<{ id: string; email?: string; name?: string; phone?: string | null; roleId?: string }>
		): Promise<{ user: UserDto }> {
			const { id, email, name, phone, roleId } = ctx.params;
			const user = await this.db.transaction(async t => {
				const caller = await currentCaller(this, ctx, t);
				const target = await this.access.lockUser(id, t);
				if (!target) throw new NotFoundError("User", id);
				const current = (await this.access.permissionNamesOfRole(target.roleId, t)) ?? [];
				mustHold(caller, current, "change this user");
				let newRoleId: string | undefined;
				if (roleId && roleId !== target.roleId) {
					const role = await knownRole(this, roleId, t);
					mustHold(caller, await permissionsOfRole(this, role, t), `give the ${role.name} role`);
					if (target.role === ADMIN_ROLE && role.name !== ADMIN_ROLE && (await this.access.otherAdmins(id, t)) === 0) throw new LastAdminError();
					newRoleId = role.id;
				}
				const updated = await this.access.updateUser(id, { email, name, phone, roleId: newRoleId }, t);
				if (updated === "email-taken") throw new EmailTakenError(email!);
				return updated!;
			});
			await broadcast(this, "identity.accessChanged", { userIds: [id] });
			return { user };
		}
	},

	/**
	 * Deletes an account for good: it cannot sign in, and its refresh and access tokens stop working at once;
	 * its orders and payments stay in the shop's books. Needs `user.delete` and every permission the user
	 * holds. Throws NOT_FOUND (404), LAST_ADMIN (409), PERMISSION_NOT_HELD (403). Answers 204.
	 */
	deleteUser: {
		rest: "DELETE /admin/users/:id",
		errors: { 403: ["PERMISSION_NOT_HELD"], 409: ["LAST_ADMIN"] },
		summary: "Delete a user",
		responses: { 204: { description: "Deleted" } },
		visibility: "published",
		permission: "user.delete",
		params: { $$strict: "remove", ...idParam },
		async handler(this: AdminThis, ctx: Ctx<{ id: string }>): Promise<null> {
			const { id } = ctx.params;
			await this.db.transaction(async t => {
				const caller = await currentCaller(this, ctx, t);
				const target = await this.access.lockUser(id, t);
				if (!target) throw new NotFoundError("User", id);
				mustHold(caller, (await this.access.permissionNamesOfRole(target.roleId, t)) ?? [], "delete this user");
				if (target.role === ADMIN_ROLE && (await this.access.otherAdmins(id, t)) === 0) throw new LastAdminError();
				await this.access.deleteUser(id, t);
			});
			await broadcast(this, "identity.sessionsEnded", { userId: id });
			ctx.meta.$statusCode = 204;
			return null;
		}
	},

	// --- roles ---

	/** Every role with its permissions (at most MAX_LISTED). Needs `role.view`. */
	listRoles: {
		rest: "GET /admin/roles",
		summary: "List roles",
		responses: { 200: { description: "Every role", schema: ROLE_LIST } },
		visibility: "published",
		permission: "role.view",
		async handler(this: AdminThis): Promise<{ items: RoleDto[] }> {
			return { items: await this.access.listRoles(MAX_LISTED) };
		}
	},

	/** A role with its permissions. Needs `role.view`. Throws NOT_FOUND (404). */
	getRole: {
		rest: "GET /admin/roles/:id",
		summary: "Get a role",
		responses: { 200: { description: "The role", schema: ROLE_ENVELOPE } },
		errors: { 404: ["NOT_FOUND"] },
		visibility: "published",
		permission: "role.view",
		params: { $$strict: "remove", ...idParam },
		async handler(this: AdminThis, ctx: Ctx<{ id: string }>): Promise<{ role: RoleDto }> {
			const role = await this.access.findRole(ctx.params.id);
			if (!role) throw new NotFoundError("Role", ctx.params.id);
			return { role };
		}
	},

	/**
	 * Creates a role holding the given permissions. Needs `role.store` and every one of them. Throws
	 * ROLE_NAME_TAKEN (409), VALIDATION_ERROR (422: also an unknown permission id), PERMISSION_NOT_HELD (403).
	 */
	createRole: {
		rest: "POST /admin/roles",
		errors: { 409: ["ROLE_NAME_TAKEN"] },
		summary: "Create a role",
		responses: { 201: { description: "Created", schema: ROLE_ENVELOPE } },
		visibility: "published",
		permission: "role.store",
		params: { $$strict: "remove", name: roleName, permissionIds: { ...permissionIds, optional: true } },
		async handler(this: AdminThis, ctx: Ctx<{ name: string; permissionIds?: number[] }>): Promise<{ role: RoleDto }> {
			const { name } = ctx.params;
			const ids = [...new Set(ctx.params.permissionIds ?? [])];
			const role = await this.db.transaction(async t => {
				const caller = await currentCaller(this, ctx, t);
				const permissions = await knownPermissions(this, ids, t);
				mustHold(
					caller,
					permissions.map(p => p.name),
					"give a role these permissions"
				);
				return this.access.insertRole(name, ids, t);
			});
			if (!role) throw new RoleNameTakenError(name);
			ctx.meta.$statusCode = 201;
			ctx.meta.$location = `/api/admin/roles/${role.id}`;
			return { role };
		}
	},

	/**
	 * Renames a role and/or sets its permissions (`permissionIds` replaces the set). Needs `role.update` and
	 * every permission added or taken away. Throws NOT_FOUND (404), ROLE_NAME_TAKEN (409), ROLE_PROTECTED
	 * (409: renaming `admin` or `customer`, or editing `admin`'s set), VALIDATION_ERROR (422), PERMISSION_NOT_HELD (403).
	 */
	updateRole: {
		rest: "PATCH /admin/roles/:id",
		errors: { 404: ["NOT_FOUND"], 409: ["ROLE_NAME_TAKEN", "ROLE_PROTECTED"] },
		summary: "Change a role",
		responses: { 200: { description: "The role as it is now", schema: ROLE_ENVELOPE } },
		visibility: "published",
		permission: "role.update",
		params: { $$strict: "remove", ...idParam, name: { ...roleName, optional: true }, permissionIds: { ...permissionIds, optional: true } },
		async handler(this: AdminThis, ctx: Ctx<{ id: string; name?: string; permissionIds?: number[] }>): Promise<{ role: RoleDto }> {
			const { id, name } = ctx.params;
			const ids = ctx.params.permissionIds && [...new Set(ctx.params.permissionIds)];
			const role = await this.db.transaction(async t => {
				const caller = await currentCaller(this, ctx, t);
				const role = await this.access.lockRole(id, t);
				if (!role) throw new NotFoundError("Role", id);
				if (name !== undefined && name !== role.name) {
					if (role.builtin) throw new RoleProtectedError(role.name, "cannot be renamed");
					if (!(await this.access.renameRole(id, name, t))) throw new RoleNameTakenError(name);
				}
				if (ids !== undefined) {
					if (role.allPermissions) throw new RoleProtectedError(role.name, "holds every permission: its set cannot be changed");
					const wanted = await knownPermissions(this, ids, t);
					const before = role.permissions.map(p => p.name);
					const after = wanted.map(p => p.name);
					const involved = [...after.filter(p => !before.includes(p)), ...before.filter(p => !after.includes(p))];
					mustHold(caller, involved, "change these permissions of the role");
					await this.access.setRolePermissions(id, ids, t);
				}
				return (await this.access.findRole(id, t))!;
			});
			await broadcast(this, "identity.accessChanged", {});
			return { role };
		}
	},

	/** Deletes a role nobody holds. Needs `role.delete`. Throws NOT_FOUND (404), ROLE_PROTECTED, ROLE_IN_USE (409). Answers 204. */
	deleteRole: {
		rest: "DELETE /admin/roles/:id",
		errors: { 404: ["NOT_FOUND"], 409: ["ROLE_PROTECTED", "ROLE_IN_USE"] },
		summary: "Delete a role",
		responses: { 204: { description: "Deleted" } },
		visibility: "published",
		permission: "role.delete",
		params: { $$strict: "remove", ...idParam },
		async handler(this: AdminThis, ctx: Ctx<{ id: string }>): Promise<null> {
			const { id } = ctx.params;
			await this.db.transaction(async t => {
				const role = await this.access.lockRole(id, t);
				if (!role) throw new NotFoundError("Role", id);
				if (role.builtin) throw new RoleProtectedError(role.name, "cannot be deleted");
				if (!(await this.access.deleteRoleIfUnused(id, t))) throw new RoleInUseError(role.name, await this.access.roleHolders(id, t));
			});
			ctx.meta.$statusCode = 204;
			return null;
		}
	},

	// --- permissions ---

	/** Every permission (at most MAX_LISTED), by id. Needs `permission.view`. */
	listPermissions: {
		rest: "GET /admin/permissions",
		summary: "List permissions",
		responses: { 200: { description: "Every permission", schema: PERMISSION_LIST } },
		visibility: "published",
		permission: "permission.view",
		async handler(this: AdminThis): Promise<{ items: PermissionDto[] }> {
			return { items: await this.access.listPermissions(MAX_LISTED) };
		}
	},

	/** A permission. Needs `permission.view`. Throws NOT_FOUND (404). */
	getPermission: {
		rest: "GET /admin/permissions/:id",
		summary: "Get a permission",
		responses: { 200: { description: "The permission", schema: PERMISSION_ENVELOPE } },
		errors: { 404: ["NOT_FOUND"] },
		visibility: "published",
		permission: "permission.view",
		params: { $$strict: "remove", id: permissionIdParam },
		async handler(this: AdminThis, ctx: Ctx<{ id: number }>): Promise<{ permission: PermissionDto }> {
			const permission = await this.access.findPermission(ctx.params.id);
			if (!permission) throw new NotFoundError("Permission", String(ctx.params.id));
			return { permission };
		}
	},

	/**
	 * Creates a permission `<resource>.<verb>` (for an operator's own use; `admin` holds it at once). Needs
	 * `permission.store`. Throws PERMISSION_NAME_TAKEN (409), VALIDATION_ERROR (422).
	 */
	createPermission: {
		rest: "POST /admin/permissions",
		errors: { 409: ["PERMISSION_NAME_TAKEN"] },
		summary: "Create a permission",
		responses: { 201: { description: "Created", schema: PERMISSION_ENVELOPE } },
		visibility: "published",
		permission: "permission.store",
		params: { $$strict: "remove", name: permissionName },
		async handler(this: AdminThis, ctx: Ctx<{ name: string }>): Promise<{ permission: PermissionDto }> {
			const permission = await this.access.insertPermission(ctx.params.name);
			if (!permission) throw new PermissionNameTakenError(ctx.params.name);
			await broadcast(this, "identity.accessChanged", {});
			ctx.meta.$statusCode = 201;
			ctx.meta.$location = `/api/admin/permissions/${permission.id}`;
			return { permission };
		}
	},

	/**
	 * Renames a permission the caller holds. Needs `permission.update`. Throws NOT_FOUND (404),
	 * PERMISSION_PROTECTED (409: a built-in one), PERMISSION_NAME_TAKEN (409), PERMISSION_NOT_HELD (403).
	 */
	updatePermission: {
		rest: "PATCH /admin/permissions/:id",
		errors: { 404: ["NOT_FOUND"], 409: ["PERMISSION_NAME_TAKEN", "PERMISSION_PROTECTED"] },
		summary: "Rename a permission",
		responses: { 200: { description: "The permission as it is now", schema: PERMISSION_ENVELOPE } },
		visibility: "published",
		permission: "permission.update",
		params: { $$strict: "remove", id: permissionIdParam, name: { ...permissionName, optional: true } },
		async handler(this: AdminThis, ctx: Ctx<{ id: number; name?: string }>): Promise<{ permission: PermissionDto }> {
			const { id, name } = ctx.params;
			const permission = await this.db.transaction(async t => {
				const caller = await currentCaller(this, ctx, t);
				const current = await this.access.lockPermission(id, t);
				if (!current) throw new NotFoundError("Permission", String(id));
				if (name === undefined || name === current.name) return current;
				if (current.builtin) throw new PermissionProtectedError(current.name);
				mustHold(caller, [current.name], "rename this permission");
				const renamed = await this.access.renamePermission(id, name, t);
				if (!renamed) throw new PermissionNameTakenError(name);
				return renamed;
			});
			await broadcast(this, "identity.accessChanged", {});
			return { permission };
		}
	},

	/**
	 * Deletes a permission the caller holds; roles holding it lose it. Needs `permission.delete`. Throws
	 * NOT_FOUND (404), PERMISSION_PROTECTED (409), PERMISSION_NOT_HELD (403). Answers 204.
	 */
	deletePermission: {
		rest: "DELETE /admin/permissions/:id",
		errors: { 404: ["NOT_FOUND"], 409: ["PERMISSION_PROTECTED"] },
		summary: "Delete a permission",
		responses: { 204: { description: "Deleted" } },
		visibility: "published",
		permission: "permission.delete",
		params: { $$strict: "remove", id: permissionIdParam },
		async handler(this: AdminThis, ctx: Ctx<{ id: number }>): Promise<null> {
			const { id } = ctx.params;
			await this.db.transaction(async t => {
				const caller = await currentCaller(this, ctx, t);
				const current = await this.access.lockPermission(id, t);
				if (!current) throw new NotFoundError("Permission", String(id));
				if (current.builtin) throw new PermissionProtectedError(current.name);
				mustHold(caller, [current.name], "delete this permission");
				await this.access.deletePermission(id, t);
			});
			await broadcast(this, "identity.accessChanged", {});
			ctx.meta.$statusCode = 204;
			return null;
		}
	}
};
