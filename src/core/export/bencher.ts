// The Bencher Metric Format (BMF): {benchmark: {measure: {value, lower_value?, upper_value?}}}.
// The benchmark is the metric name up to its figure; the measure is the figure.
import type {Combined} from '../metrics/combine.js'
import {isFigure} from './context.js'

export type BencherMetricFormat = Record<string, Record<string, {value: number; lower_value?: number; upper_value?: number}>>

export function bencherMetricFormat(metrics: readonly Combined[]): BencherMetricFormat {
  const out: BencherMetricFormat = {}
  for (const m of metrics.filter(isFigure)) {
    const benchmark = m.name.slice(0, m.name.length - m.figure.length - 1)
    const v: BencherMetricFormat[string][string] = {value: m.value}
    if (m.spread) {
      v.lower_value = m.spread.lo
      v.upper_value = m.spread.hi
    }
    out[benchmark] = {...out[benchmark], [m.figure]: v}
  }
  return out
}
