// The one place percentiles and histograms are computed, so every command reports
// the same statistics the same way. Percentiles interpolate linearly between ranks.

export interface Summary {
  n: number
  min: number
  max: number
  mean: number
  p10: number
  p50: number
  p90: number
  p99: number
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample')
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} is outside 0..100`)
  const rank = (p / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo)
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summary of an empty sample')
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  return {
    n: sorted.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    mean,
    p10: percentile(sorted, 10),
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
  }
}

export interface HistogramBin {
  /** Inclusive lower edge. */
  from: number
  /** Exclusive upper edge (the last bin includes it). */
  to: number
  count: number
}

/** Log-spaced bins between the smallest and largest sample: latencies span decades. */
export function logHistogram(samples: readonly number[], bins = 10): HistogramBin[] {
  if (samples.length === 0) return []
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError('bins must be a positive integer')
  const positive = samples.map((s) => Math.max(s, Number.MIN_VALUE))
  const lo = Math.min(...positive)
  const hi = Math.max(...positive)
  if (lo === hi) return [{from: lo, to: hi, count: samples.length}]
  const step = (Math.log(hi) - Math.log(lo)) / bins
  const edges = Array.from({length: bins + 1}, (_, i) => (i === bins ? hi : Math.exp(Math.log(lo) + i * step)))
  const out = edges.slice(0, -1).map((from, i) => ({from, to: edges[i + 1], count: 0}))
  for (const s of positive) {
    const i = Math.min(bins - 1, Math.floor((Math.log(s) - Math.log(lo)) / step))
    out[i].count++
  }
  return out
}

/** Bytes over milliseconds, as decimal GB/s (10^9 bytes per second). */
export function gbPerSecond(bytes: number, ms: number): number {
  return ms > 0 ? bytes / (ms * 1e6) : Number.POSITIVE_INFINITY
}
