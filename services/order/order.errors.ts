import { Errors } from "moleculer";
import { registerErrors } from "../../lib/errors";
import type { OrderStatus } from "./order.types";

/** There is nothing to order. */
export class EmptyCartError extends Errors.MoleculerClientError {
	constructor() {
		super("The cart is empty: add products before placing an order", 422, "EMPTY_CART");
	}
}

/** An Idempotency-Key was used before for a different request. */
export class IdempotencyKeyReusedError extends Errors.MoleculerClientError {
	constructor(orderId: string) {
		super("This Idempotency-Key was already used for a different request", 422, "IDEMPOTENCY_KEY_REUSED", { orderId });
	}
}

/** The order's total is more than (or less than) one card payment may be: it could never be paid. */
export class OrderTotalNotPayableError extends Errors.MoleculerClientError {
	constructor(totalCents: number, maxCents: number) {
		super(`The order's total must be between 1 and ${maxCents} minor units to be paid; remove something from the cart`, 422, "ORDER_TOTAL_NOT_PAYABLE", {
			totalCents,
			maxCents
		});
	}
}

/** The order has already ended (CANCELLED), so it cannot be cancelled again. */
export class OrderNotCancellableError extends Errors.MoleculerClientError {
	constructor(orderId: string, status: OrderStatus) {
		super(`The order is ${status} and cannot be cancelled`, 409, "ORDER_NOT_CANCELLABLE", { orderId, status });
	}
}

/**
 * The saga has as many orders in flight as it may (ORDER_MAX_IN_FLIGHT): a new one would wait behind them
 * for longer than a customer should. Nothing was placed; the same request (and Idempotency-Key) may be sent
 * again after `retryAfter` seconds.
 */
export class OrdersBusyError extends Errors.MoleculerError {
	constructor(retryAfterSeconds: number) {
		super("The shop is taking more orders than it can handle right now; nothing was placed, please try again shortly", 503, "ORDERS_BUSY", {
			retryAfter: retryAfterSeconds
		});
	}
}

/** The shop asks for a verified e-mail address before an order (REQUIRE_EMAIL_VERIFICATION). */
export class EmailNotVerifiedError extends Errors.MoleculerClientError {
	constructor() {
		super("Verify your e-mail address before placing an order: open the link we mailed you, or ask for a new one", 403, "EMAIL_NOT_VERIFIED");
	}
}

registerErrors(EmailNotVerifiedError, EmptyCartError, IdempotencyKeyReusedError, OrderNotCancellableError, OrdersBusyError, OrderTotalNotPayableError);
