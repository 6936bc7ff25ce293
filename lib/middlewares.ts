import type { Middleware } from "moleculer";
import { InvalidInputError } from "./errors";

function isPlainObject(value: unknown): value is Record<string, unknown> {
	if (!value || typeof value !== "object") return false;
	const proto = Object.getPrototypeOf(value);
	return proto === Object.prototype || proto === null;
}

/**
 * The first path in `value` to a string holding a NUL character, if any. Looks into plain data only
 * (JSON-like objects and arrays, not requests or class instances), at most `depth` levels deep.
 */
export function findNul(value: unknown, path = "", depth = 32): string | undefined {
	if (typeof value === "string") return value.includes("\u0000") ? path || "(value)" : undefined;
	if (depth === 0) return undefined;
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) {
			const hit = findNul(value[i], `${path}[${i}]`, depth - 1);
			if (hit) return hit;
		}
	} else if (isPlainObject(value)) {
		for (const [k, v] of Object.entries(value)) {
			const hit = findNul(v, path ? `${path}.${k}` : k, depth - 1);
			if (hit) return hit;
		}
	}
	return undefined;
}

/**
 * No text with a NUL character reaches an action, whichever door it came through (HTTP, gRPC, REPL):
 * PostgreSQL cannot store it, and nothing a shopper types contains one. Answers 422 naming the field.
 */
export const RejectNulMiddleware: Middleware = {
	name: "RejectNul",
	localAction(handler) {
		return function rejectNul(this: unknown, ctx) {
			const field = findNul(ctx.params);
			if (field) throw new InvalidInputError([{ field, message: `The '${field}' field must not contain NUL characters.`, type: "string" }]);
			return handler.call(this as never, ctx);
		};
	}
};
