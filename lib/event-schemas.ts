/**
 * JSON Schema pieces for event payloads (lib/events.ts): what the contracts of several domains share.
 * Patterns, not ajv formats, so the schemas mean the same to every tool that reads the AsyncAPI document.
 */

export const uuidSchema = { type: "string", pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$" } as const;

/** An instant as ISO 8601 in UTC, as `Date.toISOString()` writes it. */
export const instantSchema = { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$" } as const;

/** ISO 4217 currency code. */
export const currencySchema = { type: "string", pattern: "^[A-Z]{3}$" } as const;

/** A non-negative amount of money in minor units. */
export const centsSchema = { type: "integer", minimum: 0, maximum: 1_000_000_000 } as const;

export const emailSchema = { type: "string", minLength: 3, maxLength: 254 } as const;

/** A line of text for people (a name, a product name). */
export function textSchema(maxLength: number) {
	return { type: "string", minLength: 1, maxLength } as const;
}
