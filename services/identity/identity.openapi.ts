import { component, pageComponent } from "../../lib/openapi";

/** Identity's answers as JSON Schema (identity.types.ts), for the API reference. Tokens are opaque strings. */

const userProperties = {
	id: { type: "string", format: "uuid" },
	email: { type: "string", format: "email" },
	name: { type: "string" },
	phone: { type: ["string", "null"] },
	role: { type: "string", description: "The name of the user's one role." },
	roleId: { type: "string", format: "uuid" },
	createdAt: { type: "string", format: "date-time" },
	emailVerified: { type: "boolean" }
};
const userRequired = ["id", "email", "name", "phone", "role", "roleId", "createdAt", "emailVerified"];

export const USER = component("User", { type: "object", required: userRequired, properties: userProperties });

export const USER_ENVELOPE = component("UserEnvelope", { type: "object", required: ["user"], properties: { user: USER } });

/** The signed-in user with what their role lets them do. */
export const ME = component("Me", {
	type: "object",
	required: ["user"],
	properties: {
		user: {
			type: "object",
			required: [...userRequired, "permissions"],
			properties: { ...userProperties, permissions: { type: "array", items: { type: "string" } } }
		}
	}
});

const tokenProperties = {
	accessToken: { type: "string", description: "Send as `Authorization: Bearer <accessToken>`." },
	refreshToken: { type: "string", description: "For POST /api/auth/refresh (each is used once) and /api/auth/logout." },
	tokenType: { const: "Bearer" },
	expiresIn: { type: "integer", minimum: 0, description: "Seconds until the access token expires." }
};

export const TOKEN_PAIR = component("TokenPair", {
	type: "object",
	required: ["accessToken", "refreshToken", "tokenType", "expiresIn"],
	properties: tokenProperties
});

export const LOGIN_RESULT = component("LoginResult", {
	type: "object",
	required: ["accessToken", "refreshToken", "tokenType", "expiresIn", "user"],
	properties: { ...tokenProperties, user: USER }
});

export const USER_PAGE = pageComponent("UserPage", USER);

/** A user with what their role lets them do (`{ user }`), as an admin sees one. */
export const USER_WITH_PERMISSIONS_ENVELOPE = ME;

export const PERMISSION = component("Permission", {
	type: "object",
	required: ["id", "name", "builtin"],
	properties: {
		id: { type: "integer" },
		name: { type: "string" },
		builtin: { type: "boolean", description: "Declared by Momentum's code: it cannot be renamed or deleted." }
	}
});

export const ROLE = component("Role", {
	type: "object",
	required: ["id", "name", "builtin", "allPermissions", "permissions"],
	properties: {
		id: { type: "string", format: "uuid" },
		name: { type: "string" },
		builtin: { type: "boolean", description: "`admin` and `customer`: they cannot be deleted or renamed." },
		allPermissions: { type: "boolean", description: "The role holds every permission, including ones added later." },
		permissions: { type: "array", items: PERMISSION }
	}
});

const listOf = (name: string, item: Record<string, unknown>) =>
	component(name, { type: "object", required: ["items"], properties: { items: { type: "array", items: item } } });
const envelope = (name: string, key: string, item: Record<string, unknown>) =>
	component(name, { type: "object", required: [key], properties: { [key]: item } });

export const ROLE_LIST = listOf("RoleList", ROLE);
export const ROLE_ENVELOPE = envelope("RoleEnvelope", "role", ROLE);
export const PERMISSION_LIST = listOf("PermissionList", PERMISSION);
export const PERMISSION_ENVELOPE = envelope("PermissionEnvelope", "permission", PERMISSION);

export const SESSION_LIST = listOf("SessionList", {
	type: "object",
	required: ["id", "createdAt", "lastUsedAt", "expiresAt", "current"],
	properties: {
		id: { type: "string", format: "uuid", description: "What DELETE /api/auth/sessions/{id} takes." },
		createdAt: { type: "string", format: "date-time" },
		lastUsedAt: { type: "string", format: "date-time" },
		expiresAt: { type: "string", format: "date-time" },
		current: { type: "boolean", description: "The session of the access token this was asked with." }
	}
});
