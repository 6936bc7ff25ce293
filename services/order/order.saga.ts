import type {
	CancelReason,
	OrderCustomer,
	OrderDto,
	OrderEvents,
	OrderHistoryEntry,
	OrderLine,
	OrderPaymentStatus,
	OrderStatus,
	ShippingAddress
} from "./order.types";

/**
 * Pure rules of the checkout saga: what an order does with each thing that happens to it (`decide`), and
 * the event each step writes (`commandFor`). No I/O: the service loads the order (locked), asks `decide`,
 * then persists the transition and writes the command in one transaction.
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

/** What the saga's commands are built from: the order as stored (its card token kept until payment has answered). */
export type CommandSource = Pick<OrderDto, "id" | "userId" | "items" | "totalCents" | "currency" | "cancelReason"> & {
	customer: OrderCustomer;
	paymentToken: string | null;
};

/** A command as it goes to the outbox: an event of the order's contract with its payload. */
export type Command = { [K in SagaCommand]: { event: K; data: OrderEvents[K] } }[SagaCommand];

/**
 * The event a step writes. `left` is the status a cancelled order left: it tells each consumer what to
 * undo. Throws for a command the order cannot give (a payment request without a card token, a
 * cancellation that is not fresh): a bug, not a saga input.
 */
export function commandFor(order: CommandSource, event: SagaCommand, left?: OrderStatus): Command {
	const base = { orderId: order.id, userId: order.userId };
	const facts = { ...base, customer: order.customer, items: order.items, totalCents: order.totalCents, currency: order.currency };
	switch (event) {
		case "order.created":
			return {
				event,
				data: {
					...base,
					items: order.items.map(i => ({ productId: i.productId, quantity: i.quantity })),
					totalCents: order.totalCents,
					currency: order.currency
				}
			};
		case "order.paymentRequested":
			if (!order.paymentToken) throw new Error(`Order ${order.id} has no card token left to charge`);
			return { event, data: { ...base, amountCents: order.totalCents, currency: order.currency, paymentToken: order.paymentToken } };
		case "order.confirmed":
			return { event, data: facts };
		case "order.refunded":
			return { event, data: facts };
		case "order.cancelled":
			if (!order.cancelReason || !left || left === "CANCELLED") throw new Error(`Order ${order.id} is not a fresh cancellation`);
			return { event, data: { ...facts, reason: order.cancelReason, previousStatus: left } };
	}
}

/** A cart's contents as the order takes them. */
export interface CartSnapshot {
	items: OrderLine[];
	totalCents: number;
	currency: string;
}

/** A new order for a cart's contents: PENDING, its lines as they are now (later catalog changes do not follow). */
export function draftOrder(id: string, userId: string, cart: CartSnapshot, shippingAddress: ShippingAddress | null, now: Date): OrderDto {
	return {
		id,
		userId,
		status: "PENDING",
		cancelReason: null,
		items: cart.items.map(({ productId, sku, name, quantity, unitPriceCents, lineTotalCents }) => ({
			productId,
			sku,
			name,
			quantity,
			unitPriceCents,
			lineTotalCents
		})),
		totalCents: cart.totalCents,
		currency: cart.currency,
		shippingAddress,
		paymentStatus: null,
		history: [historyEntry("PENDING", now)],
		createdAt: now.toISOString(),
		updatedAt: now.toISOString()
	};
}
