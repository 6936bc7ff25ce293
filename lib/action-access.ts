import type { Role } from "../services/identity/identity.types";

/**
 * Who may call a published action through the gateway. Declared on the action itself; the gateway
 * enforces it. Secure by default: an action without `auth` needs a signed-in user.
 */
declare module "moleculer" {
	interface ActionSchema {
		/** "public": anyone; "required" (the default): a valid access token. */
		auth?: "public" | "required";
		/** The caller must hold at least one of these roles (implies `auth: "required"`). */
		roles?: Role[];
		/** Milliseconds a call may take (Moleculer's timeout middleware honours it); else the broker's requestTimeout. */
		timeout?: number;
	}
}

export type ActionAccess = { auth?: "public" | "required"; roles?: Role[] };
