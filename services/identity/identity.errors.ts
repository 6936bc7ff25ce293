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
