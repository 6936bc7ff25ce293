import { Errors } from "moleculer";
import { registerErrors } from "../../lib/errors";

export class EmailTakenError extends Errors.MoleculerClientError {
	constructor(email: string) {
		super("An account with this e-mail already exists", 409, "EMAIL_TAKEN", { email });
	}
}

/** Wrong e-mail or password; deliberately does not say which. */
export class InvalidCredentialsError extends Errors.MoleculerClientError {
	constructor() {
		super("Invalid e-mail or password", 401, "INVALID_CREDENTIALS");
	}
}

/** An access token that is missing, malformed, tampered with, expired or issued for someone else. */
export class InvalidTokenError extends Errors.MoleculerClientError {
	constructor(reason: string) {
		super("Invalid or expired access token", 401, "INVALID_TOKEN", { reason });
	}
}

/** A refresh token that is unknown, expired, revoked, or was already used (which revokes its family). */
export class InvalidRefreshTokenError extends Errors.MoleculerClientError {
	constructor(reason: "unknown" | "expired" | "revoked" | "reused") {
		super("Invalid refresh token", 401, "INVALID_REFRESH_TOKEN", { reason });
	}
}

registerErrors(EmailTakenError, InvalidCredentialsError, InvalidTokenError, InvalidRefreshTokenError);

/** A mailed link that is unknown, was used (or replaced by a newer one), or expired. */
export class InvalidVerificationTokenError extends Errors.MoleculerClientError {
	constructor(reason: "unknown" | "used" | "expired") {
		super("This verification link is invalid or has expired; ask for a new one", 400, "INVALID_VERIFICATION_TOKEN", { reason });
	}
}

export class InvalidResetTokenError extends Errors.MoleculerClientError {
	constructor(reason: "unknown" | "used" | "expired") {
		super("This password reset link is invalid or has expired; ask for a new one", 400, "INVALID_RESET_TOKEN", { reason });
	}
}

/** The current password given to change it is wrong (403: the caller is signed in, their token is fine). */
export class InvalidCurrentPasswordError extends Errors.MoleculerClientError {
	constructor() {
		super("The current password is wrong", 403, "INVALID_CURRENT_PASSWORD");
	}
}

/** There is nothing to verify: the address is verified and no change of address waits. */
export class EmailAlreadyVerifiedError extends Errors.MoleculerClientError {
	constructor() {
		super("This e-mail address is already verified", 409, "EMAIL_ALREADY_VERIFIED");
	}
}

registerErrors(InvalidVerificationTokenError, InvalidResetTokenError, InvalidCurrentPasswordError, EmailAlreadyVerifiedError);
