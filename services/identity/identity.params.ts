import { InvalidInputError } from "../../lib/errors";
import { lineParam } from "../../lib/params";

/** Parameter rules identity's actions share (registration, the admin's accounts, one's own account). */

/** bcrypt looks at the first 72 bytes only: a longer password would silently be truncated. */
export const BCRYPT_MAX_BYTES = 72;

export const emailParam = { type: "email", normalize: true, max: 254 } as const;
/** A new password: 8 characters or more (bytes are checked by `checkPasswordBytes`). */
export const newPasswordParam = { type: "string", min: 8, max: 1024 } as const;
export const personNameParam = lineParam(1, 100);
export const phoneParam = {
	type: "string",
	pattern: /^\+[1-9]\d{6,14}$/,
	messages: { stringPattern: "The 'phone' field must be an E.164 number such as +5511987654321." }
} as const;

/** VALIDATION_ERROR (422) for a password bcrypt would truncate. */
export function checkPasswordBytes(password: string, field = "password"): void {
	if (Buffer.byteLength(password) > BCRYPT_MAX_BYTES) {
		throw new InvalidInputError([{ field, message: `The '${field}' field must be at most ${BCRYPT_MAX_BYTES} bytes.`, type: "stringMax" }]);
	}
}
