import type { InventoryReservationFailedEvent, InventoryReservedEvent, ReservationLine, ReservationStatus, Shortage, StockLevel } from "./inventory.types";

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

export type AdjustmentVerdict = { ok: true; level: StockLevel } | { ok: false; reason: "NEGATIVE_STOCK" | "STOCK_BELOW_RESERVED" | "STOCK_LIMIT_EXCEEDED" };

/** The levels after adding `delta` units on hand, or why that is not allowed. Reserved units never change here. */
export function judgeAdjustment(level: StockLevel, delta: number): AdjustmentVerdict {
	const onHand = level.onHand + delta;
	if (onHand < 0) return { ok: false, reason: "NEGATIVE_STOCK" };
	if (onHand < level.reserved) return { ok: false, reason: "STOCK_BELOW_RESERVED" };
	if (onHand > MAX_ON_HAND) return { ok: false, reason: "STOCK_LIMIT_EXCEEDED" };
	return { ok: true, level: levelOf(level.productId, onHand, level.reserved) };
}

/** Units per product over several reservations (what a sweep gives back in one statement). */
export function totalsByProduct(lineSets: readonly (readonly ReservationLine[])[]): ReservationLine[] {
	return mergeLines(lineSets.flat());
}

/** The fields of a stored reservation the saga's answers are made of. */
export interface ReservationFacts {
	orderId: string;
	status: StoredStatus;
	shortages: readonly Shortage[];
	expiresAt: string;
}

export type ReservationAnswer =
	{ event: "inventory.reserved"; data: InventoryReservedEvent } | { event: "inventory.reservationFailed"; data: InventoryReservationFailedEvent };

/**
 * What inventory tells the order about its reservation, the same however often it is asked. Units held
 * or already taken: reserved. A failed attempt: its shortages. Units given back (released, expired,
 * returned, or a cancellation that came first): failed with no shortages, the order cannot go on.
 */
export function answerFor(r: ReservationFacts): ReservationAnswer {
	switch (r.status) {
		case "RESERVED":
		case "COMMITTED":
			return { event: "inventory.reserved", data: { orderId: r.orderId, expiresAt: r.expiresAt } };
		case "FAILED":
			return { event: "inventory.reservationFailed", data: { orderId: r.orderId, shortages: [...r.shortages] } };
		case "RELEASED":
		case "EXPIRED":
		case "RETURNED":
			return { event: "inventory.reservationFailed", data: { orderId: r.orderId, shortages: [] } };
	}
}

/** What `order.confirmed` does with the order's reservation. */
export type ConfirmDecision = "commit" | "retake" | "unchanged" | "cancelled" | "not-found";

/**
 * A paid order takes its units. Held units are committed even past their expiry (nobody else could take
 * them). Units already given back by the sweep or a release are taken again if they are available (the
 * service checks), so a late payment still ships. An order already cancelled never takes stock: the
 * cancellation is the later fact. A failed attempt held nothing to commit.
 */
export function decideConfirm(status: StoredStatus | undefined, cancelled: boolean): ConfirmDecision {
	if (cancelled) return "cancelled";
	switch (status) {
		case "RESERVED":
			return "commit";
		case "COMMITTED":
			return "unchanged";
		case "RELEASED":
		case "EXPIRED":
			return "retake";
		case "RETURNED":
			// only reached through a cancellation, which `cancelled` already covers
			return "cancelled";
		default:
			return "not-found";
	}
}

/** What `order.cancelled` does with the order's reservation. */
export type CancelDecision = "release" | "return" | "tombstone" | "unchanged";

/**
 * Held units go back to available; units already taken go back on hand; with no reservation yet (the
 * cancellation overtook `order.created`) a released one is recorded so the late creation reserves nothing.
 * Anything else holds nothing.
 */
export function decideCancel(status: StoredStatus | undefined): CancelDecision {
	switch (status) {
		case undefined:
			return "tombstone";
		case "RESERVED":
			return "release";
		case "COMMITTED":
			return "return";
		default:
			return "unchanged";
	}
}

/**
 * The first line whose units cannot go back on hand without passing MAX_ON_HAND (a product without a
 * level has none on hand). Such a return needs an operator: clamping would lose units from the books.
 */
export function findOverLimit(lines: readonly ReservationLine[], levels: ReadonlyMap<string, StockLevel>): { level: StockLevel; quantity: number } | undefined {
	for (const { productId, quantity } of lines) {
		const level = levels.get(productId) ?? levelOf(productId);
		if (!judgeAdjustment(level, quantity).ok) return { level, quantity };
	}
	return undefined;
}
