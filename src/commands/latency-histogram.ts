/**
 * Per-command latency histograms for LATENCY HISTOGRAM (Redis 7.0 records every call's duration
 * in an HdrHistogram and reports it as a cumulative distribution over power-of-two buckets).
 *
 * Only the buckets Redis reports are kept: bucket k holds the calls whose duration, in
 * nanoseconds (microseconds × 1000, clamped to [1, 1e9] as Redis does), is at most the highest
 * value HdrHistogram (2 significant digits) treats as equivalent to 1024·2^k, and above the
 * previous bucket's. Reported bucket labels are those values in microseconds (1, 2, 4, 8, 16,
 * 33, 66, 132, ...), exactly Redis's numbers.
 *
 * A histogram belongs to the command's stats object, so CONFIG RESETSTAT (which replaces the
 * stats objects) resets the histograms with the other counters.
 */
const BUCKETS = 21; // 1024·2^20 ns ≥ the 1 s clamp

const histograms = new WeakMap<object, { total: number; counts: Float64Array }>();

/** The highest nanosecond value counted in each bucket, precomputed: every call looks one up. */
const TOPS = Array.from({ length: BUCKETS }, (_, k) => 1024 * 2 ** k + 2 ** (k + 3) - 1);

/** The highest nanosecond value counted in bucket k. */
function bucketTop(k: number): number {
  return TOPS[k]!;
}

/** Records one call of `us` microseconds against a command's stats object. */
export function recordCommandLatency(stats: object, us: number): void {
  let h = histograms.get(stats);
  if (h === undefined) {
    h = { total: 0, counts: new Float64Array(BUCKETS) };
    histograms.set(stats, h);
  }
  let ns = us * 1000;
  if (ns < 1) ns = 1;
  if (ns > 1e9) ns = 1e9;
  let k = 31 - Math.clz32(ns >>> 10);
  if (k < 0) k = 0;
  if (ns > bucketTop(k)) k++;
  h.counts[k]!++;
  h.total++;
}

/** [calls, [bucket label µs, cumulative count] ...] of a command, or null when never recorded. */
export function commandLatencyCdf(stats: object): { calls: number; buckets: [number, number][] } | null {
  const h = histograms.get(stats);
  if (h === undefined) return null;
  const buckets: [number, number][] = [];
  let cumulative = 0;
  for (let k = 0; k < BUCKETS && cumulative < h.total; k++) {
    const n = h.counts[k]!;
    if (n === 0) continue;
    cumulative += n;
    buckets.push([Math.floor(bucketTop(k) / 1000), cumulative]);
  }
  return { calls: h.total, buckets };
}
