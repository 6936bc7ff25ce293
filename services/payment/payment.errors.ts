import { Errors } from "moleculer";
import { registerErrors, type FieldProblem } from "../../lib/errors";

/**
 * The provider could not be reached or answered a transient fault; nothing was recorded. Retryable: the
 * same call later is safe (the provider idempotency key prevents a second charge).
 */
export class PaymentProviderUnavailableError extends Errors.MoleculerRetryableError {
	constructor(operation: "charge" | "refund", orderId: string) {
		super("The payment provider is temporarily unavailable", 503, "PAYMENT_PROVIDER_UNAVAILABLE", { operation, orderId });
	}
}

/**
 * A saga event payment cannot act on. Thrown inside the inbox, so the event is retried and then
 * dead-lettered with this message for an operator; the problems never quote the rejected values.
 */
export class PaymentEventMalformedError extends Errors.MoleculerError {
	constructor(event: string, eventId: string, problems: FieldProblem[]) {
		super(`Malformed ${event} ${eventId}: ${problems.map(p => p.message).join(" ")}`, 422, "PAYMENT_EVENT_MALFORMED", { event, eventId, problems });
	}
}

registerErrors(PaymentProviderUnavailableError, PaymentEventMalformedError);
