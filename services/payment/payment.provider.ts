import crypto from "node:crypto";
import type { PaymentConfig } from "../../app/config";

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
	/** Where charges and refunds are recorded; one process's memory by default. */
	ledger?: SimulatedLedger;
}

/** A charge as the simulated network records it. */
export interface SimulatedCharge extends ChargeOutcome {
	amountCents: number;
}

/** Why the simulated network refuses a refund: there is no such succeeded charge, or it would exceed it. */
export class RefundRefusedError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "RefundRefusedError";
	}
}

/**
 * The simulated network's records: its charges and refunds by idempotency key. A real provider keeps them on
 * its side, the same for every caller and across restarts; the payment service keeps them in its own
 * database (payment.simulated-ledger.ts), so a refund asked of any payment instance finds the charge another
 * one made. `MemoryLedger` is one process's, for unit tests.
 */
export interface SimulatedLedger {
	/** The charge recorded under `key`, or `charge` recorded now under it (atomically: one charge per key). */
	chargeOnce(key: string, charge: SimulatedCharge): Promise<SimulatedCharge>;
	/**
	 * The refund recorded under `key`, or a refund of `amountCents` of charge `providerRef` recorded now as
	 * `refundRef`; throws RefundRefusedError when there is no succeeded charge or the refunds would exceed it.
	 */
	refundOnce(key: string, providerRef: string, amountCents: number, refundRef: string): Promise<RefundOutcome>;
}

export class MemoryLedger implements SimulatedLedger {
	private readonly chargesByKey = new Map<string, SimulatedCharge>();
	private readonly chargesByRef = new Map<string, SimulatedCharge>();
	private readonly refundsByKey = new Map<string, RefundOutcome>();
	/** Refunded amount per charge, so a charge is never refunded beyond what it took. */
	private readonly refundedByRef = new Map<string, number>();

	async chargeOnce(key: string, charge: SimulatedCharge): Promise<SimulatedCharge> {
		const done = this.chargesByKey.get(key);
		if (done) return done;
		this.chargesByKey.set(key, charge);
		this.chargesByRef.set(charge.providerRef, charge);
		return charge;
	}

	async refundOnce(key: string, providerRef: string, amountCents: number, refundRef: string): Promise<RefundOutcome> {
		const done = this.refundsByKey.get(key);
		if (done) return { ...done };
		const charge = this.chargesByRef.get(providerRef);
		if (!charge || charge.status !== "SUCCEEDED") throw new RefundRefusedError(`No succeeded charge ${providerRef} to refund`);
		const refunded = this.refundedByRef.get(providerRef) ?? 0;
		if (refunded + amountCents > charge.amountCents) throw new RefundRefusedError(`Refund exceeds what charge ${providerRef} took`);
		const refund = { refundRef };
		this.refundsByKey.set(key, refund);
		this.refundedByRef.set(providerRef, refunded + amountCents);
		return { ...refund };
	}
}

/** A card network with its own idempotency records (a `SimulatedLedger`), latency and fault injection. */
export class SimulatedProvider implements PaymentProvider {
	/** Requests received (repeats and failed ones included) and operations actually performed by this instance. */
	readonly stats = { chargeRequests: 0, charges: 0, refundRequests: 0, refunds: 0 };
	private readonly latencyMs: number;
	private readonly failureRate: number;
	private readonly random: () => number;
	private readonly ledger: SimulatedLedger;

	constructor(opts: SimulatedProviderOptions = {}) {
		this.latencyMs = opts.latencyMs ?? 0;
		this.failureRate = opts.failureRate ?? 0;
		this.random = opts.random ?? Math.random;
		this.ledger = opts.ledger ?? new MemoryLedger();
	}

	async charge(request: ChargeRequest): Promise<ChargeOutcome> {
		this.stats.chargeRequests++;
		await this.network();
		const made = { providerRef: `ch_sim_${crypto.randomUUID()}`, ...simulatedOutcome(request.token), amountCents: request.amountCents };
		const charge = await this.ledger.chargeOnce(request.idempotencyKey, made);
		if (charge.providerRef === made.providerRef) this.stats.charges++;
		return publicCharge(charge);
	}

	async refund(request: RefundRequest): Promise<RefundOutcome> {
		this.stats.refundRequests++;
		await this.network();
		const refundRef = `re_sim_${crypto.randomUUID()}`;
		// Not a transient fault when refused: the caller asked for something the network can never do.
		const refund = await this.ledger.refundOnce(request.idempotencyKey, request.providerRef, request.amountCents, refundRef);
		if (refund.refundRef === refundRef) this.stats.refunds++;
		return refund;
	}

	/** The round trip: latency, then possibly a transient fault (before the network did anything). */
	private async network(): Promise<void> {
		if (this.latencyMs > 0) await new Promise(resolve => setTimeout(resolve, this.latencyMs));
		if (this.failureRate > 0 && this.random() < this.failureRate) throw new ProviderUnavailableError("Simulated transient provider fault");
	}
}

function publicCharge(c: ChargeOutcome): ChargeOutcome {
	return c.declineCode === undefined
		? { providerRef: c.providerRef, status: c.status }
		: { providerRef: c.providerRef, status: c.status, declineCode: c.declineCode };
}

/** The provider the configuration names; the simulated one keeps its records in `ledger`. */
export function createProvider(config: PaymentConfig, ledger?: SimulatedLedger): PaymentProvider {
	switch (config.provider) {
		case "simulated":
			return new SimulatedProvider({ latencyMs: config.latencyMs, failureRate: config.failureRate, ledger });
	}
}
