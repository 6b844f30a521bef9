// Metrics of `kvbench env --measure`: every ceiling's median with its p10-p90, and whether
// every copy was verified.
import type {CeilingResults} from '../ceilings.js'
import {MetricList, p10p90, type Metric} from './metric.js'

export function envMetrics(r: CeilingResults): Metric[] {
  const list = new MetricList(['env'])
  for (const c of r.ceilings) {
    const row = {section: 'ceiling' as const}
    const what = `p10-p90 of ${c.samples} samples`
    // Latency probes move 4 KiB: their figure is the time, not the rate.
    if (c.id.endsWith('_latency')) list.add(row, [c.id], 'latency_us', 'us', 'smaller', c.latencyUs.p50, p10p90(c.latencyUs, what))
    else list.add(row, [c.id], 'gbps', 'GB/s', 'bigger', c.gbps.p50, p10p90(c.gbps, what))
    if (r.verify) list.check(row, [c.id], 'verified', c.verified)
  }
  // --gpus: each GPU's copies while all of them copy, and the totals.
  const t = r.together
  if (t) {
    const row = {section: 'ceiling' as const}
    for (const g of t.perGpu) {
      for (const c of g.ceilings) {
        list.add(row, ['together', `gpu${g.device}`, c.id], 'gbps', 'GB/s', 'bigger', c.gbps.p50, p10p90(c.gbps, `p10-p90 of ${c.samples} samples`))
        if (r.verify) list.check(row, ['together', `gpu${g.device}`, c.id], 'verified', c.verified)
      }
    }
    for (const [id, gbps] of Object.entries(t.totalGBps)) list.add(row, ['together', 'total', id], 'gbps', 'GB/s', 'bigger', gbps)
  }
  return list.metrics
}
