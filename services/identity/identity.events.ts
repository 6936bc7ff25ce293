import { defineEvents } from "../../lib/events";
import { emailSchema, instantSchema, textSchema, uuidSchema } from "../../lib/event-schemas";
import type { IdentityEvents } from "./identity.types";

const link = {
	type: "object",
	properties: {
		userId: uuidSchema,
		email: emailSchema,
		tokenId: uuidSchema,
		linkToken: { type: "string", minLength: 16, maxLength: 200, pattern: "^[A-Za-z0-9_-]+$" },
		expiresAt: instantSchema
	},
	required: ["userId", "email", "tokenId", "linkToken", "expiresAt"]
} as const;

/** Identity's account mails, correlated by user id. The link tokens are secrets: only notification sees them. */
export const identityEvents = defineEvents<IdentityEvents>("identity", {
	"identity.emailVerificationRequested": {
		summary: "Mail a link that verifies the address (an account's, or the one it asked to change to).",
		correlateBy: "userId",
		secrets: ["linkToken"],
		schema: link
	},
	"identity.passwordResetRequested": {
		summary: "Mail a link that sets a new password.",
		correlateBy: "userId",
		secrets: ["linkToken"],
		schema: link
	},
	"identity.emailVerified": {
		summary: "The address is the user's: notification sends the welcome (a first verification) or tells the user of the change.",
		correlateBy: "userId",
		schema: {
			type: "object",
			properties: {
				userId: uuidSchema,
				email: emailSchema,
				name: textSchema(200),
				phone: { type: ["string", "null"], maxLength: 32 },
				previousEmail: { type: ["string", "null"], maxLength: 254 },
				verifiedAt: instantSchema
			},
			required: ["userId", "email", "name", "phone", "previousEmail", "verifiedAt"]
		}
	}
});
