/**
 * Parameter rules shared by several services (fastest-validator schemas).
 * Query strings arrive as text, so numeric query parameters convert; JSON bodies stay strictly typed.
 */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Far past any real listing, and keeps OFFSET inside PostgreSQL's range. */
export const MAX_PAGE = 1_000_000;

/** `page` (from 1) and `pageSize` (1 to 100) from a query string. */
export const pageParams = {
	page: { type: "number", integer: true, min: 1, max: MAX_PAGE, optional: true, convert: true },
	pageSize: { type: "number", integer: true, min: 1, max: MAX_PAGE_SIZE, optional: true, convert: true }
} as const;

/** One page of a listing: the items, how many there are in all, and which page of what size this is. */
export interface Page<T> {
	items: T[];
	total: number;
	page: number;
	pageSize: number;
}

export function pageOf(params: { page?: number; pageSize?: number }): { page: number; pageSize: number; offset: number } {
	const page = params.page ?? 1;
	const pageSize = params.pageSize ?? DEFAULT_PAGE_SIZE;
	return { page, pageSize, offset: (page - 1) * pageSize };
}

/** A uuid path parameter such as `:id` or `:productId`. */
export const uuidParam = { type: "uuid" } as const;

/** Non-negative integer amount of money in minor units, in a JSON body. */
export const centsParam = { type: "number", integer: true, min: 0, max: 1_000_000_000 } as const;

/**
 * One line of text a person typed (a name, a city, a reason): trimmed, without line breaks or tabs, so it
 * cannot start a new line in a log, an e-mail header or a page. Control characters and bidirectional
 * overrides are refused everywhere by RejectNulMiddleware (lib/middlewares.ts).
 */
export function lineParam(min: number, max: number) {
	return {
		type: "string",
		trim: true,
		min,
		max,
		pattern: /^[^\r\n\t]*$/,
		messages: { stringPattern: "The '{field}' field must be a single line of text." }
	} as const;
}
