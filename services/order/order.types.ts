import type { TrailEntry } from "../../lib/outbox";
import type { Page } from "../../lib/params";

/** The public contract of the order domain: what clients see and the events the checkout saga runs on. */

/** One closed union: PENDING -> STOCK_RESERVED -> CONFIRMED, and CANCELLED from any non-terminal state. */
export const ORDER_STATUSES = ["PENDING", "STOCK_RESERVED", "CONFIRMED", "CANCELLED"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const CANCEL_REASONS = ["out_of_stock", "payment_declined", "customer_request", "timeout"] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** What payment has told the order so far (null: nothing yet). */
export type OrderPaymentStatus = "SUCCEEDED" | "DECLINED" | "REFUNDED";

/** One line as it was when the order was placed: names and prices do not follow later catalog changes. */
export interface OrderLine {
	productId: string;
	sku: string;
	name: string;
	quantity: number;
	unitPriceCents: number;
	lineTotalCents: number;
}

export interface OrderHistoryEntry {
	status: OrderStatus;
	at: string;
	reason?: CancelReason;
}

/** Who to tell about the order, as it was when the order was placed. */
export interface OrderCustomer {
	email: string;
	name: string;
	phone: string | null;
}

export interface ShippingAddress {
	name: string;
	line1: string;
	line2?: string;
	city: string;
	region?: string;
	postalCode: string;
	/** ISO 3166-1 alpha-2. */
	country: string;
}

export interface OrderDto {
	id: string;
	userId: string;
	status: OrderStatus;
	cancelReason: CancelReason | null;
	items: OrderLine[];
	totalCents: number;
	currency: string;
	shippingAddress: ShippingAddress | null;
	paymentStatus: OrderPaymentStatus | null;
	history: OrderHistoryEntry[];
	createdAt: string;
	updatedAt: string;
}

export interface PlaceOrderParams {
	paymentToken: string;
	shippingAddress?: ShippingAddress;
}

export interface ListOrdersParams {
	status?: OrderStatus;
	page?: number;
	pageSize?: number;
}

export type OrderPage = Page<OrderDto>;

export interface OrderIdParams {
	id: string;
}

/** The quantities an order needs, as inventory sees them. */
export interface OrderStockLine {
	productId: string;
	quantity: number;
}

/** `order.created`: an order was placed. Inventory reserves its lines (all or none). */
export interface OrderCreatedEvent {
	orderId: string;
	userId: string;
	items: OrderStockLine[];
	totalCents: number;
	currency: string;
}

/**
 * `order.paymentRequested`: the order's stock is held; payment charges it, once per order. The card token
 * travels only here and is scrubbed from the stores once payment has answered.
 */
export interface OrderPaymentRequestedEvent {
	orderId: string;
	userId: string;
	amountCents: number;
	currency: string;
	paymentToken: string;
}

/** `order.confirmed`: paid and final. Inventory commits the reservation; notification tells the customer. */
export interface OrderConfirmedEvent {
	orderId: string;
	userId: string;
	customer: OrderCustomer;
	items: OrderLine[];
	totalCents: number;
	currency: string;
}

/**
 * `order.cancelled`: the order will not be fulfilled. Each consumer undoes its part from what it has
 * recorded for the order: inventory releases a reservation (or puts committed units back, or remembers
 * that a late reservation must not happen), payment refunds a charge (or voids one not made yet), and
 * notification tells the customer.
 */
export interface OrderCancelledEvent {
	orderId: string;
	userId: string;
	customer: OrderCustomer;
	items: OrderLine[];
	totalCents: number;
	currency: string;
	reason: CancelReason;
	/** The status the order left. */
	previousStatus: Exclude<OrderStatus, "CANCELLED">;
}

/** Event names and payloads the order service writes. */
export interface OrderEvents {
	"order.created": OrderCreatedEvent;
	"order.paymentRequested": OrderPaymentRequestedEvent;
	"order.confirmed": OrderConfirmedEvent;
	"order.cancelled": OrderCancelledEvent;
	"order.refunded": OrderRefundedEvent;
}

/** `order.refunded`: payment gave the order's money back (after `payment.refunded`); notification tells the customer. */
export type OrderRefundedEvent = OrderConfirmedEvent;

/** What `order.saga` answers (GET /api/orders/:id/saga): the order and every event about it, as each service saw it. */
export interface SagaTrail {
	order: OrderDto;
	/** Oldest first. */
	events: TrailEntry[];
	/** Services whose records could not be read (not running, or not answering). */
	unreachable: string[];
}
