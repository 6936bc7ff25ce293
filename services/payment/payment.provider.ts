import crypto from "node:crypto";
import type { PaymentConfig } from "../../lib/config";

/**
 * The seam to a card processor. The simulated provider is the default; a real gateway is added behind
 * the same interface. Both operations take an idempotency key: repeating a request with the same key
 * never charges or refunds twice, it answers the first result again.
 */

export interface ChargeRequest {
	idempotencyKey: string;
	amountCents: number;
	currency: string;
	/** Card token from the client; the provider is the only place it goes. */
	token: string;
	description: string;
}

export interface ChargeOutcome {
	providerRef: string;
	status: "SUCCEEDED" | "DECLINED";
	declineCode?: string;
}

export interface RefundRequest {
	idempotencyKey: string;
	providerRef: string;
	amountCents: number;
}

export interface RefundOutcome {
	refundRef: string;
}

export interface PaymentProvider {
	/** Throws ProviderUnavailableError for a transient fault (nothing was charged; retry with the same key). */
	charge(request: ChargeRequest): Promise<ChargeOutcome>;
	/** Throws ProviderUnavailableError for a transient fault (nothing was refunded; retry with the same key). */
	refund(request: RefundRequest): Promise<RefundOutcome>;
}

/** A transient provider fault (timeout, 5xx, rate limit): the same request may be retried. */
export class ProviderUnavailableError extends Error {
	readonly retryable = true;
	constructor(message = "Payment provider unavailable") {
		super(message);
		this.name = "ProviderUnavailableError";
	}
}

/** Test tokens in the card-network style and what the simulated network answers for each. */
export const SIMULATED_TOKENS: Readonly<Record<string, Pick<ChargeOutcome, "status" | "declineCode">>> = {
	tok_visa: { status: "SUCCEEDED" },
	tok_mastercard: { status: "SUCCEEDED" },
	tok_chargeDeclined: { status: "DECLINED", declineCode: "card_declined" },
	tok_insufficientFunds: { status: "DECLINED", declineCode: "insufficient_funds" }
};

/** What the simulated network answers for a token: unknown tokens are declined as `invalid_token`. */
export function simulatedOutcome(token: string): Pick<ChargeOutcome, "status" | "declineCode"> {
	return Object.hasOwn(SIMULATED_TOKENS, token) ? SIMULATED_TOKENS[token] : { status: "DECLINED", declineCode: "invalid_token" };
}

export interface SimulatedProviderOptions {
	/** Added to every request, in milliseconds. */
	latencyMs?: number;
	/** Share of requests (0 to 1) that fail with ProviderUnavailableError before anything happens. */
	failureRate?: number;
	/** Source of randomness for the failure injection (tests pass a fixed one). */
	random?: () => number;
}

/** A card network in memory, with its own idempotency store, latency and fault injection. */
export class SimulatedProvider implements PaymentProvider {
	/** Requests received (repeats and failed ones included) and operations actually performed. */
	readonly stats = { chargeRequests: 0, charges: 0, refundRequests: 0, refunds: 0 };
	private readonly chargesByKey = new Map<string, ChargeOutcome & { amountCents: number }>();
	private readonly refundsByKey = new Map<string, RefundOutcome>();
	/** Refunded amount per charge, so a charge is never refunded beyond what it took. */
	private readonly refundedByRef = new Map<string, number>();
	private readonly chargesByRef = new Map<string, ChargeOutcome & { amountCents: number }>();
	private readonly latencyMs: number;
	private readonly failureRate: number;
	private readonly random: () => number;

	constructor(opts: SimulatedProviderOptions = {}) {
		this.latencyMs = opts.latencyMs ?? 0;
		this.failureRate = opts.failureRate ?? 0;
		this.random = opts.random ?? Math.random;
	}

	async charge(request: ChargeRequest): Promise<ChargeOutcome> {
		this.stats.chargeRequests++;
		await this.network();
		// From here on synchronous: concurrent requests with one key see each other's result.
		const done = this.chargesByKey.get(request.idempotencyKey);
		if (done) return publicCharge(done);
		const charge = { providerRef: `ch_sim_${crypto.randomUUID()}`, ...simulatedOutcome(request.token), amountCents: request.amountCents };
		this.chargesByKey.set(request.idempotencyKey, charge);
		this.chargesByRef.set(charge.providerRef, charge);
		this.stats.charges++;
		return publicCharge(charge);
	}

	async refund(request: RefundRequest): Promise<RefundOutcome> {
		this.stats.refundRequests++;
		await this.network();
		const done = this.refundsByKey.get(request.idempotencyKey);
		if (done) return { ...done };
		const charge = this.chargesByRef.get(request.providerRef);
		// Not a transient fault: the caller asked for something the network can never do.
		if (!charge || charge.status !== "SUCCEEDED") throw new Error(`No succeeded charge ${request.providerRef} to refund`);
		const refunded = this.refundedByRef.get(request.providerRef) ?? 0;
		if (refunded + request.amountCents > charge.amountCents) throw new Error(`Refund exceeds what charge ${request.providerRef} took`);
		const refund = { refundRef: `re_sim_${crypto.randomUUID()}` };
		this.refundsByKey.set(request.idempotencyKey, refund);
		this.refundedByRef.set(request.providerRef, refunded + request.amountCents);
		this.stats.refunds++;
		return { ...refund };
	}

	/** The round trip: latency, then possibly a transient fault (before the network did anything). */
	private async network(): Promise<void> {
		if (this.latencyMs > 0) await new Promise(resolve => setTimeout(resolve, this.latencyMs));
		if (this.failureRate > 0 && this.random() < this.failureRate) throw new ProviderUnavailableError("Simulated transient provider fault");
	}
}

function publicCharge(c: ChargeOutcome): ChargeOutcome {
	return c.declineCode === undefined ? { providerRef: c.providerRef, status: c.status } : { providerRef: c.providerRef, status: c.status, declineCode: c.declineCode };
}

/** The provider the configuration names. */
export function createProvider(config: PaymentConfig): PaymentProvider {
	switch (config.provider) {
		case "simulated":
			return new SimulatedProvider({ latencyMs: config.latencyMs, failureRate: config.failureRate });
	}
}
