import { Errors } from "moleculer";
import { registerErrors } from "../../lib/errors";

/**
 * The provider could not be reached or answered a transient fault; nothing was recorded. Retryable: the
 * same call later is safe (the provider idempotency key prevents a second charge).
 */
export class PaymentProviderUnavailableError extends Errors.MoleculerRetryableError {
	constructor(operation: "charge" | "refund", orderId: string) {
		super("The payment provider is temporarily unavailable", 503, "PAYMENT_PROVIDER_UNAVAILABLE", { operation, orderId });
	}
}

/** The order has no payment record. */
export class PaymentNotFoundError extends Errors.MoleculerClientError {
	constructor(orderId: string) {
		super("Payment not found", 404, "PAYMENT_NOT_FOUND", { orderId });
	}
}

/** Only a charge that went through can be refunded. */
export class PaymentNotRefundableError extends Errors.MoleculerClientError {
	constructor(orderId: string, status: string) {
		super("Only a succeeded payment can be refunded", 409, "PAYMENT_NOT_REFUNDABLE", { orderId, status });
	}
}

registerErrors(PaymentProviderUnavailableError, PaymentNotFoundError, PaymentNotRefundableError);
