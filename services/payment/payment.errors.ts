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

registerErrors(PaymentProviderUnavailableError);
