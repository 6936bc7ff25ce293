/** Percentiles (nearest rank on a sorted copy) and medians. */

export function percentile(values: readonly number[], p: number): number {
	if (values.length === 0) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return percentileSorted(sorted, p);
}

export function percentileSorted(sorted: readonly number[], p: number): number {
	if (sorted.length === 0) return NaN;
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: readonly number[]): number {
	const v = values.filter(x => Number.isFinite(x));
	if (v.length === 0) return NaN;
	const sorted = [...v].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface LatencySummary {
	count: number;
	p50: number;
	p90: number;
	p99: number;
	max: number;
	mean: number;
}

export function summarize(values: readonly number[]): LatencySummary {
	const sorted = [...values].sort((a, b) => a - b);
	const sum = sorted.reduce((a, b) => a + b, 0);
	return {
		count: sorted.length,
		p50: percentileSorted(sorted, 50),
		p90: percentileSorted(sorted, 90),
		p99: percentileSorted(sorted, 99),
		max: sorted.length ? sorted[sorted.length - 1] : NaN,
		mean: sorted.length ? sum / sorted.length : NaN
	};
}

export const round = (n: number, digits = 2): number => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);
