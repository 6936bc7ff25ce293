import type { Page } from "../../lib/params";

/** The public contract of the inventory domain. */

export interface StockLevel {
	productId: string;
	onHand: number;
	reserved: number;
	/** onHand - reserved: what can still be sold. */
	available: number;
}

export interface AdjustStockParams {
	productId: string;
	/** Non-zero integer: positive receives stock, negative removes it. */
	delta: number;
	reason: string;
}

export interface Adjustment {
	id: string;
	productId: string;
	delta: number;
	reason: string;
	onHandAfter: number;
	/** Who made it: a user id, or null for the system (reservation commits, demo data). */
	actorId: string | null;
	createdAt: string;
}

export interface ReservationLine {
	productId: string;
	quantity: number;
}

/**
 * RESERVED holds units; COMMITTED took them off the shelf; RELEASED and EXPIRED gave held units back;
 * RETURNED put committed units back on hand (the order was cancelled after it was confirmed).
 */
export type ReservationStatus = "RESERVED" | "COMMITTED" | "RELEASED" | "EXPIRED" | "RETURNED";

export interface Reservation {
	orderId: string;
	status: ReservationStatus;
	items: ReservationLine[];
	createdAt: string;
	expiresAt: string;
}

/** One line that could not be reserved: carried in `inventory.reservationFailed` (and RESERVATION_LAPSED's `data`). */
export interface Shortage {
	productId: string;
	requested: number;
	available: number;
}

/** `inventory.reservationExpired`: the sweep released a reservation nobody committed or released in time. */
export interface ReservationExpiredEvent {
	orderId: string;
	items: ReservationLine[];
}

/** `inventory.reserved`: every line of an order is held until `expiresAt` (reliable; the order saga moves on). */
export interface InventoryReservedEvent {
	orderId: string;
	expiresAt: string;
}

/**
 * `inventory.reservationFailed`: an order's lines could not be held, and none is (reliable). `shortages`
 * names the lines that were short; it is empty when the order's reservation had already been given back.
 */
export interface InventoryReservationFailedEvent {
	orderId: string;
	shortages: Shortage[];
}

/** The reliable events inventory writes (services/inventory/inventory.events.ts). */
export interface InventoryEvents {
	"inventory.reserved": InventoryReservedEvent;
	"inventory.reservationFailed": InventoryReservationFailedEvent;
}

/** `inventory.stockChanged`: levels of one product changed (adjustment, reservation, release, commit). */
export type StockChangedEvent = StockLevel;

export interface ProductRef {
	productId: string;
}

export interface GetManyStockParams {
	productIds: string[];
}

export interface ListAdjustmentsParams {
	productId: string;
	page?: number;
	pageSize?: number;
}

/** The ledger of one product, newest first. */
export type AdjustmentPage = Page<Adjustment>;

/** What `inventory.sweepExpired` answers: how many reservations it released. */
export interface SweepResult {
	released: number;
}
