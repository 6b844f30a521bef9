// What every export format says beside a figure: where it ran, and its spread in words.
import type {Combined} from '../metrics/combine.js'
import type {Metric} from '../metrics/index.js'

export interface ExportContext {
  /** e.g. "NVIDIA H200, driver 580.159.04, kvbench c834328" */
  line: string
}

/** Figures go to dashboards; checks and verdicts go to JUnit (and CSV). */
export function isFigure(m: Metric): boolean {
  return m.unit !== 'check' && m.unit !== 'verdict'
}

export function spreadText(m: Combined): string {
  const s = m.spread!
  return `${s.what}: ${Number(s.lo.toPrecision(5))}-${Number(s.hi.toPrecision(5))}`
}
