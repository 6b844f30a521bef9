// One figure of a result, named the same in gates, `kvbench compare` and every export format:
// `<kind>/<row...>/<figure>`, e.g. save/llama-3.1-8b/async/staged/moved_pct_of_ceiling.
// docs/metrics.md lists every name.

/** GB/s and % (of a ceiling, or a slowdown) are figures; check is 1 verified / 0 failed; verdict a rank. */
export type MetricUnit = 'GB/s' | '%' | 'us' | 'ms' | 'check' | 'verdict'
export type Better = 'bigger' | 'smaller'

/** Where a result shows its own noise: the figure's p10-p90, or the range of repeated runs. */
export interface Spread {
  lo: number
  hi: number
  what: string
}

export type MetricSection = 'alone' | 'design' | 'reference' | 'store' | 'size' | 'lookup' | 'ceiling' | 'probe' | 'run'

export interface Metric {
  name: string
  /** The last segment of the name: what is measured, whatever the row. */
  figure: string
  unit: MetricUnit
  better: Better
  value: number
  spread: Spread | null
  /** Machine context (ceilings, the link reference): compared and shown, never a regression of the connector. */
  context: boolean
  /** The row the figure belongs to, for gates that pick rows (the best strategy, the async design). */
  row: {section: MetricSection; design?: string; strategy?: string; best?: boolean; role?: 'user' | 'reference'; direction?: 'both' | 'save' | 'load'}
  /** check and verdict: the word behind the number (PASS, LEAK, verified, FAILED). */
  text?: string
}

/** A name segment as it may appear in a metric name, a CSV cell and a BMF key. */
export function segment(s: string): string {
  return s.replace(/[^A-Za-z0-9._:+-]+/g, '_')
}

export function metricName(...segments: string[]): string {
  return segments.map(segment).join('/')
}

/** Audit verdicts, best first: a verdict that moves right is a regression. LEAK and ERROR both fail. */
export const VERDICT_RANK: Record<string, number> = {PASS: 0, SKIP: 1, HAZARD: 2, LEAK: 3, ERROR: 3}

/** A spread from a summary's p10 and p90, mapped through `f` (e.g. GB/s to % of a ceiling). */
export function p10p90(s: {p10: number; p90: number} | null | undefined, what: string, f: (v: number) => number = (v) => v): Spread | null {
  if (!s || !Number.isFinite(s.p10) || !Number.isFinite(s.p90)) return null
  const a = f(s.p10)
  const b = f(s.p90)
  return {lo: Math.min(a, b), hi: Math.max(a, b), what}
}

/** Builds the metrics of one result: `add` drops figures that were not measured (null, NaN). */
export class MetricList {
  readonly metrics: Metric[] = []

  constructor(private readonly prefix: string[]) {}

  add(row: Metric['row'], path: string[], figure: string, unit: MetricUnit, better: Better, value: number | null | undefined, spread: Spread | null = null, extra: {context?: boolean; text?: string} = {}): void {
    if (value === null || value === undefined || !Number.isFinite(value)) return
    this.metrics.push({name: metricName(...this.prefix, ...path, figure), figure, unit, better, value, spread, context: extra.context ?? false, row, text: extra.text})
  }

  check(row: Metric['row'], path: string[], figure: string, passed: boolean | null): void {
    if (passed === null) return
    this.add(row, path, figure, 'check', 'bigger', passed ? 1 : 0, null, {text: passed ? 'passed' : 'FAILED'})
  }
}
