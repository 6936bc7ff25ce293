import type { OrderStatus } from "../order/order.types";
import type { Page } from "../../lib/params";

/** The public contract of the notification domain. */

export const TEMPLATES = ["welcome", "orderConfirmed", "orderCancelled", "paymentRefunded", "verifyEmail", "resetPassword"] as const;
export type TemplateName = (typeof TEMPLATES)[number];

export const CHANNELS = ["email", "sms"] as const;
export type Channel = (typeof CHANNELS)[number];

export type NotificationStatus = "PENDING" | "SENT" | "FAILED" | "SKIPPED";

export interface WelcomeData {
	name: string;
}

/**
 * A link mailed to prove something (`verifyEmail`, `resetPassword`): the page at `url` with the token in its
 * query. Nothing in it is text the user chose. The token is a secret: it is sent, never stored in a
 * notification's body, and forgotten once the message is sent or has failed for good.
 */
export interface LinkData {
	/** The page, e.g. https://shop.example.com/verify-email (PUBLIC_URL and a path). */
	url: string;
	linkToken: string;
	/** When the link stops working (ISO 8601). */
	expiresAt: string;
}

export interface OrderLineData {
	name: string;
	quantity: number;
	lineTotalCents: number;
}

/** The statuses an order can be cancelled from (`order.cancelled`'s `previousStatus`). */
export const CANCELLABLE_ORDER_STATUSES = ["PENDING", "STOCK_RESERVED", "CONFIRMED"] as const satisfies readonly OrderStatus[];
export type CancellableOrderStatus = (typeof CANCELLABLE_ORDER_STATUSES)[number];

export interface OrderData {
	name: string;
	orderId: string;
	items: OrderLineData[];
	totalCents: number;
	currency: string;
	cancelReason?: string;
	/** For `orderCancelled`: the status the order left, which tells whether the customer had paid. */
	previousStatus?: CancellableOrderStatus;
}

/** What each template needs to be rendered. */
export interface TemplateData {
	welcome: WelcomeData;
	orderConfirmed: OrderData;
	orderCancelled: OrderData;
	paymentRefunded: OrderData;
	verifyEmail: LinkData;
	resetPassword: LinkData;
}

/**
 * `notification.send`: tells a user something by e-mail and, when they have a phone and SMS is configured,
 * by SMS. `dedupeKey` names the fact (e.g. `orderConfirmed:<orderId>`): the same key never notifies twice.
 */
export type SendParams = {
	[T in TemplateName]: {
		userId: string;
		template: T;
		data: TemplateData[T];
		email: string;
		phone?: string | null;
		dedupeKey: string;
	};
}[TemplateName];

/** A notification as its recipient sees it. */
export interface NotificationDto {
	id: string;
	channel: Channel;
	template: TemplateName;
	/** E-mail address or phone number; null for an SMS skipped for want of a phone. */
	recipient: string | null;
	subject: string | null;
	status: NotificationStatus;
	attempts: number;
	lastError: string | null;
	createdAt: string;
	sentAt: string | null;
}

export interface SendResult {
	/** False when the dedupe key had been used before: nothing new was created or sent. */
	created: boolean;
	notifications: NotificationDto[];
}

export interface ListNotificationsParams {
	/** With `notification.view`: only this user's. */
	userId?: string;
	page?: number;
	pageSize?: number;
}

export type NotificationPage = Page<NotificationDto>;

export interface RetryResult {
	/** Notifications attempted in this pass. */
	attempted: number;
	sent: number;
	failed: number;
}
