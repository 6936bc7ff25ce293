import type { ServiceDatabase } from "../../lib/database";
import { RefundRefusedError, type RefundOutcome, type SimulatedCharge, type SimulatedLedger } from "./payment.provider";

/**
 * The simulated card network's records in payment's own database, standing in for a real provider's: every
 * payment instance sees the same charges, also after a restart, so a refund asked of any of them finds the
 * charge another one made, and an idempotency key stays one charge or one refund.
 */
export class PgSimulatedLedger implements SimulatedLedger {
	constructor(private readonly db: ServiceDatabase) {}

	async chargeOnce(key: string, charge: SimulatedCharge): Promise<SimulatedCharge> {
		const [row] = await this.db.execute<ChargeRow>(
			`WITH made AS (
			   INSERT INTO simulated_charges (idempotency_key, provider_ref, status, decline_code, amount_cents)
			   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING
			   RETURNING provider_ref, status, decline_code, amount_cents
			 )
			 SELECT * FROM made
			 UNION ALL
			 SELECT provider_ref, status, decline_code, amount_cents FROM simulated_charges WHERE idempotency_key = $1 AND NOT EXISTS (SELECT 1 FROM made)`,
			[key, charge.providerRef, charge.status, charge.declineCode ?? null, charge.amountCents]
		);
		// a twin request inserted between the two halves: read what it recorded
		const stored =
			row ??
			(
				await this.db.query<ChargeRow>(`SELECT provider_ref, status, decline_code, amount_cents FROM simulated_charges WHERE idempotency_key = $1`, [
					key
				])
			)[0];
		return toCharge(stored);
	}

	async refundOnce(key: string, providerRef: string, amountCents: number, refundRef: string): Promise<RefundOutcome> {
		return this.db.transaction(async t => {
			// the charge's row is the lock: two refunds of one charge take turns
			const [charge] = await this.db.query<{ status: string; amount_cents: string; refunded_cents: string }>(
				`SELECT status, amount_cents, refunded_cents FROM simulated_charges WHERE provider_ref = $1 FOR UPDATE`,
				[providerRef],
				t
			);
			const [done] = await this.db.query<{ refund_ref: string }>(`SELECT refund_ref FROM simulated_refunds WHERE idempotency_key = $1`, [key], t);
			if (done) return { refundRef: done.refund_ref };
			if (!charge || charge.status !== "SUCCEEDED") throw new RefundRefusedError(`No succeeded charge ${providerRef} to refund`);
			if (Number(charge.refunded_cents) + amountCents > Number(charge.amount_cents))
				throw new RefundRefusedError(`Refund exceeds what charge ${providerRef} took`);
			await this.db.execute(
				`INSERT INTO simulated_refunds (idempotency_key, refund_ref, provider_ref, amount_cents) VALUES ($1, $2, $3, $4)`,
				[key, refundRef, providerRef, amountCents],
				t
			);
			await this.db.execute(`UPDATE simulated_charges SET refunded_cents = refunded_cents + $2 WHERE provider_ref = $1`, [providerRef, amountCents], t);
			return { refundRef };
		});
	}
}

interface ChargeRow {
	provider_ref: string;
	status: "SUCCEEDED" | "DECLINED";
	decline_code: string | null;
	amount_cents: string;
}

function toCharge(row: ChargeRow): SimulatedCharge {
	const charge: SimulatedCharge = { providerRef: row.provider_ref, status: row.status, amountCents: Number(row.amount_cents) };
	if (row.decline_code !== null) charge.declineCode = row.decline_code;
	return charge;
}
