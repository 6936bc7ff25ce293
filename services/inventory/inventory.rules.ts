import type { ReservationLine, ReservationStatus, Shortage, StockLevel } from "./inventory.types";

/** Pure reservation and adjustment rules: no I/O, so every decision is testable on its own. */

/** Largest change one adjustment may make, either way. */
export const MAX_ADJUSTMENT = 1_000_000;
/** Most units on hand of one product (keeps the books far from integer overflow). */
export const MAX_ON_HAND = 1_000_000_000;
/** Most lines one reservation or batch read may name. */
export const MAX_LINES = 500;
/** Most units one reservation line may ask for. */
export const MAX_LINE_QUANTITY = 1_000_000;

/** A reservation as stored: FAILED records an attempt that reserved nothing. */
export type StoredStatus = ReservationStatus | "FAILED";

export function levelOf(productId: string, onHand = 0, reserved = 0): StockLevel {
	return { productId, onHand, reserved, available: onHand - reserved };
}

/** Sums lines naming the same product, keeping the order in which products first appear. */
export function mergeLines(items: readonly ReservationLine[]): ReservationLine[] {
	const totals = new Map<string, number>();
	for (const { productId, quantity } of items) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
	return [...totals].map(([productId, quantity]) => ({ productId, quantity }));
}

/** The lines that cannot be covered by what is available; a product without a level has none. */
export function findShortages(lines: readonly ReservationLine[], levels: ReadonlyMap<string, StockLevel>): Shortage[] {
	const shortages: Shortage[] = [];
	for (const { productId, quantity } of lines) {
		const available = levels.get(productId)?.available ?? 0;
		if (quantity > available) shortages.push({ productId, requested: quantity, available });
	}
	return shortages;
}

export type AdjustmentVerdict =
	| { ok: true; level: StockLevel }
	| { ok: false; reason: "NEGATIVE_STOCK" | "STOCK_BELOW_RESERVED" | "STOCK_LIMIT_EXCEEDED" };

/** The levels after adding `delta` units on hand, or why that is not allowed. Reserved units never change here. */
export function judgeAdjustment(level: StockLevel, delta: number): AdjustmentVerdict {
	const onHand = level.onHand + delta;
	if (onHand < 0) return { ok: false, reason: "NEGATIVE_STOCK" };
	if (onHand < level.reserved) return { ok: false, reason: "STOCK_BELOW_RESERVED" };
	if (onHand > MAX_ON_HAND) return { ok: false, reason: "STOCK_LIMIT_EXCEEDED" };
	return { ok: true, level: levelOf(level.productId, onHand, level.reserved) };
}

/** What `release` does with a stored reservation. */
export type ReleaseDecision = "release" | "unchanged" | "committed" | "not-found";

export function decideRelease(status: StoredStatus | undefined): ReleaseDecision {
	switch (status) {
		case "RESERVED":
			return "release";
		case "RELEASED":
		case "EXPIRED":
			return "unchanged";
		case "COMMITTED":
			return "committed";
		default:
			// unknown, or a failed attempt that never held any stock
			return "not-found";
	}
}

/** What `commit` does with a stored reservation. A reservation past its expiry is expired, even before the sweep gets to it. */
export type CommitDecision = "commit" | "unchanged" | "expire" | "released" | "not-found";

export function decideCommit(status: StoredStatus | undefined, pastExpiry: boolean): CommitDecision {
	switch (status) {
		case "RESERVED":
			return pastExpiry ? "expire" : "commit";
		case "COMMITTED":
			return "unchanged";
		case "RELEASED":
		case "EXPIRED":
			return "released";
		default:
			return "not-found";
	}
}

/** Units per product over several reservations (what a sweep gives back in one statement). */
export function totalsByProduct(lineSets: readonly (readonly ReservationLine[])[]): ReservationLine[] {
	return mergeLines(lineSets.flat());
}
