import { Errors } from "moleculer";

/**
 * The error model. Every error a client can cause is a `MoleculerClientError` with an HTTP `code`, a
 * SCREAMING_SNAKE `type` callers branch on, and `data` naming what was wrong. The gateway and the gRPC
 * adapter turn them into responses; anything else is a real fault and answers 500 / INTERNAL.
 */

export interface FieldProblem {
	field: string;
	message: string;
	type?: string;
}

/** 422: the request is well-formed but its values are wrong. Same shape as Moleculer's own validator. */
export class InvalidInputError extends Errors.ValidationError {
	constructor(problems: FieldProblem[]) {
		super(problems.map(p => p.message).join("; ") || "Invalid input", "VALIDATION_ERROR", problems);
	}
}

export class UnauthenticatedError extends Errors.MoleculerClientError {
	constructor(message = "Authentication required", type = "UNAUTHENTICATED") {
		super(message, 401, type);
	}
}

export class ForbiddenError extends Errors.MoleculerClientError {
	constructor(message = "You are not allowed to do this", data?: unknown) {
		super(message, 403, "FORBIDDEN", data);
	}
}

export class NotFoundError extends Errors.MoleculerClientError {
	constructor(entity: string, id?: string) {
		super(`${entity} not found`, 404, "NOT_FOUND", id === undefined ? { entity } : { entity, id });
	}
}

export class TooManyRequestsError extends Errors.MoleculerClientError {
	constructor(message: string, retryAfterSeconds: number) {
		super(message, 429, "TOO_MANY_REQUESTS", { retryAfter: retryAfterSeconds });
	}
}

/** 503: the service's database does not answer right now (restarting, unreachable); nothing was done. */
export class DatabaseUnavailableError extends Errors.MoleculerError {
	constructor(retryAfterSeconds = 2) {
		super("The service's database is unavailable right now; please try again shortly", 503, "DATABASE_UNAVAILABLE", { retryAfter: retryAfterSeconds });
	}
}

/** PostgreSQL's codes for a connection that failed or a server that is stopping or starting. */
const CONNECTION_CODES = /^(08...|57P01|57P02|57P03|53300)$/;
const CONNECTION_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const CONNECTION_MESSAGES =
	/Connection terminated|connection error and is not queryable|Client was closed|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * True when `err` says the database could not be reached (refused, dropped, shutting down, no free
 * connection), rather than that a statement was wrong: the request may be tried again later.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
	if (!err || typeof err !== "object" || depth > 3) return false;
	const e = err as { name?: unknown; code?: unknown; message?: unknown; parent?: unknown; original?: unknown };
	if (
		typeof e.name === "string" &&
		/^Sequelize(Connection|ConnectionRefused|ConnectionAcquireTimeout|HostNotFound|HostNotReachable|ConnectionTimedOut|AccessDenied)Error$/.test(e.name)
	) {
		return e.name !== "SequelizeAccessDeniedError";
	}
	if (typeof e.code === "string" && (CONNECTION_CODES.test(e.code) || CONNECTION_ERRNOS.has(e.code))) return true;
	if (typeof e.message === "string" && CONNECTION_MESSAGES.test(e.message)) return true;
	return isDatabaseUnavailable(e.parent, depth + 1) || (e.original !== e.parent && isDatabaseUnavailable(e.original, depth + 1));
}

type ErrorClass = new (...args: never[]) => Errors.MoleculerError;
const registry = new Map<string, ErrorClass>();

/** Makes errors of these classes arrive as the same class on the calling node. */
export function registerErrors(...classes: ErrorClass[]): void {
	for (const c of classes) {
		const taken = registry.get(c.name);
		// errors travel by class name: two classes of one name would be restored as each other
		if (taken && taken !== c) throw new Error(`Two error classes are named ${c.name}; rename one`);
		registry.set(c.name, c);
	}
}
registerErrors(InvalidInputError, UnauthenticatedError, ForbiddenError, NotFoundError, TooManyRequestsError, DatabaseUnavailableError);

/** Restores our typed errors after a hop between nodes (Moleculer's own ones it restores itself). */
export class MomentumRegenerator extends Errors.Regenerator {
	// Moleculer's typings say Error, its code accepts undefined for "not one of mine".
	override restoreCustomError(plain: Errors.PlainMoleculerError): Error {
		const ErrorType = registry.get(plain.name);
		if (!ErrorType) return undefined as unknown as Error;
		const err = Object.create(ErrorType.prototype) as Errors.MoleculerError;
		Object.assign(err, {
			name: plain.name,
			message: plain.message,
			code: plain.code,
			type: plain.type,
			data: plain.data,
			retryable: plain.retryable ?? false
		});
		return err;
	}
}

/** True for errors the caller caused (4xx), false for real faults. */
export function isClientError(err: unknown): err is Errors.MoleculerError {
	const code = (err as { code?: unknown })?.code;
	return typeof code === "number" && code >= 400 && code < 500;
}
