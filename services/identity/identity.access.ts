import { Errors } from "moleculer";
import type { AuthUser, Permission } from "./identity.types";
import { ForbiddenError, UnauthenticatedError } from "../../lib/errors";

/**
 * Who may call a published action through an entry point (the REST gateway, the gRPC adapter). Declared on
 * the action itself; `checkAccess` enforces it, the same for both. Secure by default: an action without
 * `auth` needs a signed-in user.
 */
declare module "moleculer" {
	interface ActionSchema {
		/** "public": anyone; "required" (the default): a valid access token. */
		auth?: "public" | "required";
		/** The caller's role must hold this permission (implies `auth: "required"`). */
		permission?: Permission;
		/**
		 * Also allowed without `permission` when the call is about the caller themselves: the parameter
		 * `param` is the caller's id and their role holds `permission` (`profile.view` for one's own user).
		 */
		self?: { param: string; permission: Permission };
		/** Milliseconds a call may take (Moleculer's timeout middleware honours it); else the broker's requestTimeout. */
		timeout?: number;
	}
}

export type ActionAccess = { auth?: "public" | "required"; permission?: Permission; self?: { param: string; permission: Permission } };

/** Whether an action is open to anyone (no token, no permission). */
export function isPublic(action: ActionAccess | undefined): boolean {
	return action?.auth === "public" && !action.permission;
}

/**
 * Throws UNAUTHENTICATED (401) or FORBIDDEN (403, naming the permission) unless `user` may call an action
 * declaring `access` with `params`. What the user holds is what identity answered for their token: their
 * role's permissions now.
 */
export function checkAccess(access: ActionAccess | undefined, user: AuthUser | null | undefined, params?: unknown): void {
	if (isPublic(access)) return;
	if (!user) throw new UnauthenticatedError();
	const needed = access?.permission;
	if (!needed || user.permissions?.includes(needed)) return;
	const self = access?.self;
	if (self && user.permissions?.includes(self.permission) && (params as Record<string, unknown> | undefined)?.[self.param] === user.id) return;
	throw new ForbiddenError(`This needs the ${needed} permission`, { permission: needed });
}

/** The access an action declares, from the registry (its definition travels with service discovery). */
export function declaredAccess(registry: { getActionEndpoints(name: string): unknown }, action: string): ActionAccess {
	const list = registry.getActionEndpoints(action) as { endpoints?: { action?: ActionAccess }[] } | undefined;
	const declared = list?.endpoints?.[0]?.action;
	if (!declared) throw new Errors.ServiceNotAvailableError({ action });
	return declared;
}
