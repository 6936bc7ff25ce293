import { UnauthenticatedError } from "../../lib/errors";

/** The public contract of the identity domain: what other services and clients may rely on. */

/**
 * The permissions the shop's code checks, `<resource>.<verb>` with the Go identity service's verbs. Each is
 * a row in identity's `permissions` table (seeded, and added on start when a release brings a new one);
 * operators may add their own, but only these guard anything in Momentum. The `admin` role holds every
 * permission, including ones added later; `customer` (the Go service's `member`) holds the `profile` ones.
 */
export const PERMISSIONS = {
	"profile.view": "read one's own account (GetUser of oneself over gRPC)",
	"profile.edit": "change one's own account",
	"user.view": "list and read every account",
	"user.store": "create accounts, with any role the caller could grant",
	"user.update": "change accounts, their e-mail and role",
	"user.delete": "delete accounts",
	"role.view": "list and read roles",
	"role.store": "create roles",
	"role.update": "rename roles and change their permissions",
	"role.delete": "delete roles no one holds",
	"permission.view": "list and read permissions",
	"permission.store": "create permissions",
	"permission.update": "rename permissions",
	"permission.delete": "delete permissions",
	"product.store": "add products to the catalog",
	"product.update": "change products",
	"product.delete": "delete products",
	"inventory.view": "read a product's stock ledger",
	"inventory.update": "adjust stock",
	"order.view": "read everyone's orders",
	"order.update": "cancel anyone's order",
	"payment.view": "read everyone's payments",
	"notification.view": "read everyone's notifications",
	"deadletter.view": "list the dead letters of every service",
	"deadletter.update": "replay a dead letter"
} as const;
export type Permission = keyof typeof PERMISSIONS;

/** The roles every shop has: they cannot be deleted or renamed, and `admin`'s permissions are all of them. */
export const ADMIN_ROLE = "admin";
export const CUSTOMER_ROLE = "customer";
export const CUSTOMER_PERMISSIONS: readonly Permission[] = ["profile.view", "profile.edit"];

/** The verbs a permission name may end with (the Go identity service's). */
export const PERMISSION_VERBS = ["view", "store", "update", "delete"] as const;
export const PERMISSION_NAME = /^[a-z][a-z0-9_-]{0,48}\.(view|store|update|delete)$/;

/** A user as every client sees it: never the password or its hash. */
export interface UserDto {
	id: string;
	email: string;
	name: string;
	phone: string | null;
	/** The name of the user's one role. */
	role: string;
	roleId: string;
	createdAt: string;
	/** The owner proved the address is theirs (the link mailed to it was opened). */
	emailVerified: boolean;
}

/** A user with what their role lets them do (the signed-in user, and the admin's view of one). */
export interface UserWithPermissions extends UserDto {
	permissions: string[];
}

export interface PermissionDto {
	id: number;
	name: string;
	/** Declared by Momentum's code: it cannot be renamed or deleted. */
	builtin: boolean;
}

export interface RoleDto {
	id: string;
	name: string;
	/** `admin` and `customer`: they cannot be deleted or renamed. */
	builtin: boolean;
	/** The role holds every permission, including ones added later (`admin`). */
	allPermissions: boolean;
	permissions: PermissionDto[];
}

/** Who is calling: what the gateway puts in `ctx.meta.user` from a valid access token. */
export interface AuthUser {
	id: string;
	email: string;
	/** Read from identity's current data when the token is resolved, never from the token. */
	role: string;
	/** The names of the permissions the user's role holds now. */
	permissions: string[];
	/** The session (refresh-token family) the access token belongs to; logout ends it. */
	sessionId?: string;
	/** The e-mail address is verified, read from identity's current data when the token is resolved. */
	emailVerified?: boolean;
}

/**
 * The signed-in caller of an action, or UNAUTHENTICATED (401). The entry points check access before a call
 * gets here; this is the backstop, and gives handlers a caller that is never null.
 */
export function callerOf(ctx: { meta: CallerMeta }): AuthUser {
	const user = ctx.meta.user;
	if (!user) throw new UnauthenticatedError();
	return user;
}

/** Whether the caller holds `permission` (no caller: no). */
export function holds(user: Pick<AuthUser, "permissions"> | null | undefined, permission: Permission): boolean {
	return user?.permissions?.includes(permission) === true;
}

/** Metadata the entry points (gateway, gRPC adapter) pass along with a call. */
export interface CallerMeta {
	user?: AuthUser | null;
	/** The client's address (behind TRUSTED_PROXIES, from X-Forwarded-For), for throttling failed logins. */
	clientIp?: string;
	/** The request's Idempotency-Key header, where a client sent one (the gateway passes it on). */
	idempotencyKey?: string;
	$statusCode?: number;
	/** The Location header of a 201 (moleculer-web warns on every 201 without one). */
	$location?: string;
	$responseHeaders?: Record<string, string>;
}

export interface TokenPair {
	accessToken: string;
	refreshToken: string;
	tokenType: "Bearer";
	/** Seconds until the access token expires. */
	expiresIn: number;
}

export interface LoginResult extends TokenPair {
	user: UserDto;
}

export interface RegisterParams {
	email: string;
	password: string;
	name: string;
	phone?: string;
}

export interface LoginParams {
	email: string;
	password: string;
}

export interface RefreshParams {
	refreshToken: string;
}

export interface TokenParams {
	token: string;
}

export interface GetUserParams {
	id: string;
}

/** `identity.sessionsEnded` (broadcast): access tokens of these sessions, or of every session of the user, stop working. */
export interface SessionsEndedEvent {
	userId: string;
	/** Omitted: all of the user's sessions. */
	sessionIds?: string[];
}

/**
 * `identity.accessChanged` (broadcast): what identity says about these users changed (their role, their
 * role's permissions, their address or its being verified); omitted: anyone's may have. Gateways drop what
 * they kept about those callers.
 */
export interface AccessChangedEvent {
	userIds?: string[];
}

/**
 * `identity.emailVerificationRequested`: mail a link that verifies `email` (an account's address, or the
 * new address it asked to change to). Holds nothing the user chose but the address itself.
 * `linkToken` is a secret (declared in identity.events.ts): it travels to notification and is never shown.
 */
export interface EmailVerificationRequestedEvent {
	userId: string;
	email: string;
	/** The token's row: names the fact, for deduplication, without revealing the token. */
	tokenId: string;
	linkToken: string;
	expiresAt: string;
}

/** `identity.passwordResetRequested`: mail a link that sets a new password. `linkToken` is a secret. */
export interface PasswordResetRequestedEvent {
	userId: string;
	email: string;
	tokenId: string;
	linkToken: string;
	expiresAt: string;
}

/** `identity.emailVerified`: the address is the user's (the welcome e-mail hangs on it). */
export interface EmailVerifiedEvent {
	userId: string;
	email: string;
	name: string;
	phone: string | null;
	/** The address this one replaced, when the user changed it; null for a first verification. */
	previousEmail: string | null;
	verifiedAt: string;
}

/** The reliable events identity writes (services/identity/identity.events.ts). */
export interface IdentityEvents {
	"identity.emailVerificationRequested": EmailVerificationRequestedEvent;
	"identity.passwordResetRequested": PasswordResetRequestedEvent;
	"identity.emailVerified": EmailVerifiedEvent;
}

export interface LinkTokenParams {
	token: string;
}

export interface ForgotPasswordParams {
	email: string;
}

export interface ResetPasswordParams {
	token: string;
	password: string;
}

export interface ChangePasswordParams {
	currentPassword: string;
	newPassword: string;
}

export interface SessionIdParams {
	id: string;
}

export interface UpdateMeParams {
	name?: string;
	/** null removes the phone number. */
	phone?: string | null;
	email?: string;
}

/** A user as they see themselves after a change: with the address waiting for verification, if any. */
export interface AccountDto extends UserDto {
	pendingEmail: string | null;
}

/** A signed-in session of one's own: a refresh-token family still alive. */
export interface SessionDto {
	/** The family id: what `DELETE /api/auth/sessions/:id` takes. */
	id: string;
	createdAt: string;
	/** When the session last signed in or refreshed its tokens. */
	lastUsedAt: string;
	expiresAt: string;
	/** The session of the access token this was asked with. */
	current: boolean;
}
