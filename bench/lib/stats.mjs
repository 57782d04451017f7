/** Latency and size figures from lists of samples. */

/** Nearest-rank percentile of an ascending list; NaN when the list is empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** count, p50, p99, mean and max of a list of numbers. */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, v) => total + v, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length > 0 ? sum / sorted.length : NaN,
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
  };
}

/**
 * Figures for one batch of tile responses: latency, throughput over the batch's wall time,
 * mean body bytes of non-empty tiles, and the share of empty (204) ones.
 */
export function summarizeTiles(results, wallMs) {
  const latency = summarize(results.map((r) => r.ms));
  const full = results.filter((r) => r.status === 200);
  const empty = results.filter((r) => r.status === 204).length;
  const failed = results.filter((r) => r.status !== 200 && r.status !== 204);
  return {
    count: results.length,
    wallMs,
    tilesPerSecond: wallMs > 0 ? (results.length * 1000) / wallMs : NaN,
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    meanMs: latency.mean,
    maxMs: latency.max,
    meanBytes: full.length > 0 ? full.reduce((t, r) => t + r.bytes, 0) / full.length : 0,
    emptyShare: results.length > 0 ? empty / results.length : NaN,
    errors: failed.length,
    errorSamples: failed.slice(0, 3).map((r) => ({ status: r.status, body: r.errorText })),
  };
}
