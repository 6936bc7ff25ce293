import { component } from "../../lib/openapi";

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
