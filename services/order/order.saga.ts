import type { CancelReason, OrderEvents, OrderHistoryEntry, OrderPaymentStatus, OrderStatus } from "./order.types";

/**
 * Pure rules of the checkout saga: what an order does with each thing that happens to it. No I/O: the
 * service loads the order (locked), asks `decide`, then persists the transition and writes the event in
 * one transaction.
 */

export type SagaInput =
	| { type: "stockReserved"; expiresAt: string }
	| { type: "stockUnavailable" }
	| { type: "paymentSucceeded" }
	| { type: "paymentDeclined" }
	| { type: "paymentRefunded" }
	| { type: "customerCancelled" }
	| { type: "gaveUp" };

export interface SagaOrder {
	status: OrderStatus;
	totalCents: number;
	/** When inventory's hold on the stock ends (known once reserved). */
	reservationExpiresAt: string | null;
	paymentStatus: OrderPaymentStatus | null;
}

/** The event that a transition writes to the outbox. */
export type SagaCommand = keyof OrderEvents;

export type SagaDecision =
	/** Nothing changes: a duplicate, a late answer, or a fact the order no longer needs. */
	| { kind: "ignore"; paymentStatus?: OrderPaymentStatus }
	/** The caller asked for something the order's state forbids. */
	| { kind: "refuse" }
	| { kind: "transition"; to: OrderStatus; reason?: CancelReason; emit: SagaCommand; paymentStatus?: OrderPaymentStatus };

export const TERMINAL: readonly OrderStatus[] = ["CONFIRMED", "CANCELLED"];

export function isTerminal(status: OrderStatus): boolean {
	return TERMINAL.includes(status);
}

const cancel = (reason: CancelReason, paymentStatus?: OrderPaymentStatus): SagaDecision => ({
	kind: "transition",
	to: "CANCELLED",
	reason,
	emit: "order.cancelled",
	...(paymentStatus ? { paymentStatus } : {})
});

/**
 * What payment's news does to the payment status the order shows: it only moves forward
 * (nothing -> SUCCEEDED | DECLINED, SUCCEEDED -> REFUNDED), so facts arriving twice or late change nothing.
 */
export function nextPaymentStatus(current: OrderPaymentStatus | null, incoming: OrderPaymentStatus): OrderPaymentStatus | undefined {
	if (current === null) return incoming;
	if (current === "SUCCEEDED" && incoming === "REFUNDED") return "REFUNDED";
	return undefined;
}

export function decide(order: SagaOrder, input: SagaInput, now: Date): SagaDecision {
	const { status } = order;
	switch (input.type) {
		case "stockReserved":
			if (status !== "PENDING") return { kind: "ignore" };
			// nothing to charge: a free order is confirmed as soon as its stock is held
			if (order.totalCents === 0) return { kind: "transition", to: "CONFIRMED", emit: "order.confirmed" };
			return { kind: "transition", to: "STOCK_RESERVED", emit: "order.paymentRequested" };

		case "stockUnavailable":
			return status === "PENDING" ? cancel("out_of_stock") : { kind: "ignore" };

		case "paymentSucceeded": {
			const paymentStatus = nextPaymentStatus(order.paymentStatus, "SUCCEEDED");
			// a charge for an order that has ended is refunded by payment itself when it sees order.cancelled
			if (status !== "STOCK_RESERVED") return { kind: "ignore", paymentStatus };
			// paid after the stock hold ran out: the units may be sold to someone else, so do not confirm
			if (order.reservationExpiresAt && now.getTime() >= Date.parse(order.reservationExpiresAt)) return cancel("timeout", paymentStatus);
			return { kind: "transition", to: "CONFIRMED", emit: "order.confirmed", paymentStatus };
		}

		case "paymentDeclined": {
			const paymentStatus = nextPaymentStatus(order.paymentStatus, "DECLINED");
			return status === "STOCK_RESERVED" ? cancel("payment_declined", paymentStatus) : { kind: "ignore", paymentStatus };
		}

		case "paymentRefunded":
			return { kind: "ignore", paymentStatus: nextPaymentStatus(order.paymentStatus, "REFUNDED") };

		case "customerCancelled":
			return status === "CANCELLED" ? { kind: "refuse" } : cancel("customer_request");

		case "gaveUp":
			return isTerminal(status) ? { kind: "ignore" } : cancel("timeout");
	}
}

/** The step an in-flight order waits for, asked again when nothing has been heard for a while. */
export function pendingStep(status: OrderStatus): "order.created" | "order.paymentRequested" | undefined {
	if (status === "PENDING") return "order.created";
	if (status === "STOCK_RESERVED") return "order.paymentRequested";
	return undefined;
}

export function historyEntry(status: OrderStatus, at: Date, reason?: CancelReason): OrderHistoryEntry {
	return reason ? { status, at: at.toISOString(), reason } : { status, at: at.toISOString() };
}
