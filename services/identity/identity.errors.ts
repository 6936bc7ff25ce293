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

export class RoleNameTakenError extends Errors.MoleculerClientError {
	constructor(name: string) {
		super("A role with this name already exists", 409, "ROLE_NAME_TAKEN", { name });
	}
}

export class PermissionNameTakenError extends Errors.MoleculerClientError {
	constructor(name: string) {
		super("A permission with this name already exists", 409, "PERMISSION_NAME_TAKEN", { name });
	}
}

/** `admin` and `customer` cannot be deleted or renamed, and `admin` holds every permission: its set is not edited. */
export class RoleProtectedError extends Errors.MoleculerClientError {
	constructor(name: string, what: string) {
		super(`The ${name} role ${what}`, 409, "ROLE_PROTECTED", { role: name });
	}
}

/** A role still held by users cannot be deleted: give them another role first. */
export class RoleInUseError extends Errors.MoleculerClientError {
	constructor(name: string, holders: number) {
		super(`The ${name} role is held by ${holders} user(s); give them another role first`, 409, "ROLE_IN_USE", { role: name, holders });
	}
}

/** The last user holding `admin` cannot lose it (by a role change or by deletion). */
export class LastAdminError extends Errors.MoleculerClientError {
	constructor() {
		super("This is the last user holding the admin role; make someone else admin first", 409, "LAST_ADMIN");
	}
}

/** A permission Momentum's code checks cannot be renamed or deleted. */
export class PermissionProtectedError extends Errors.MoleculerClientError {
	constructor(name: string) {
		super(`The ${name} permission is declared by Momentum and guards its actions: it cannot be renamed or deleted`, 409, "PERMISSION_PROTECTED", {
			permission: name
		});
	}
}

/**
 * No escalation: a caller may grant a role, give a role permissions, or act on a user, only when they hold
 * every permission involved.
 */
export class PermissionNotHeldError extends Errors.MoleculerClientError {
	constructor(missing: string[], what: string) {
		super(`You cannot ${what}: it involves permissions you do not hold (${missing.join(", ")})`, 403, "PERMISSION_NOT_HELD", { missing });
	}
}

/** 409 types that mean "the state forbids it" (gRPC FAILED_PRECONDITION) rather than "it already exists" (ALREADY_EXISTS). */
export const FAILED_PRECONDITION_TYPES: ReadonlySet<string> = new Set(["ROLE_PROTECTED", "ROLE_IN_USE", "LAST_ADMIN", "PERMISSION_PROTECTED"]);

registerErrors(
	EmailTakenError,
	InvalidCredentialsError,
	InvalidTokenError,
	InvalidRefreshTokenError,
	RoleNameTakenError,
	PermissionNameTakenError,
	RoleProtectedError,
	RoleInUseError,
	LastAdminError,
	PermissionProtectedError,
	PermissionNotHeldError
);

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
