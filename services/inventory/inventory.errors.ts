import { Errors } from "moleculer";
import { registerErrors } from "../../lib/errors";
import type { Shortage, StockLevel } from "./inventory.types";

/** An adjustment would leave fewer units on hand than are reserved for orders. */
export class StockBelowReservedError extends Errors.MoleculerClientError {
	constructor(level: StockLevel, delta: number) {
		super("The adjustment would leave less stock on hand than is reserved", 409, "STOCK_BELOW_RESERVED", { ...level, delta });
	}
}

/** An adjustment would take the units on hand below zero. */
export class NegativeStockError extends Errors.MoleculerClientError {
	constructor(level: StockLevel, delta: number) {
		super("The adjustment would take stock below zero", 409, "NEGATIVE_STOCK", { ...level, delta });
	}
}

/** An adjustment would take the units on hand above what the store can hold in its books. */
export class StockLimitError extends Errors.MoleculerClientError {
	constructor(level: StockLevel, delta: number, max: number) {
		super(`Stock on hand cannot exceed ${max} units`, 409, "STOCK_LIMIT_EXCEEDED", { ...level, delta, max });
	}
}

/** No reservation was ever made for this order (a failed attempt reserved nothing either). */
export class ReservationNotFoundError extends Errors.MoleculerClientError {
	constructor(orderId: string) {
		super("Reservation not found", 404, "RESERVATION_NOT_FOUND", { orderId });
	}
}

/**
 * An order was confirmed (paid) after its reservation was given back, and its units are no longer all
 * available. Nothing is taken: an operator decides (restock, then replay the event; or refund).
 */
export class ReservationLapsedError extends Errors.MoleculerClientError {
	constructor(orderId: string, status: "RELEASED" | "EXPIRED", shortages: Shortage[]) {
		super(
			`Order ${orderId} was confirmed after its reservation was ${status.toLowerCase()}, and its stock is no longer available`,
			409,
			"RESERVATION_LAPSED",
			{ orderId, status, shortages }
		);
	}
}

registerErrors(StockBelowReservedError, NegativeStockError, StockLimitError, ReservationNotFoundError, ReservationLapsedError);
