// Metrics of a `kvbench save|load --connector py:...` result: each design beside the torch forward,
// the user's connector and the references alike (row.role tells them apart), the ceilings as context.
import type {ConnectorResults} from '../connector/run.js'
import {MetricList, p10p90, type Metric} from './metric.js'

/**
 * One GPU's figures are named connector/<direction>/<profile>/...; with --gpus each GPU's are under
 * gpu<N>/, and what they did at once under together/, so a gate checks every GPU and the sum.
 */
export function connectorMetrics(r: ConnectorResults): Metric[] {
  const prefix = ['connector', r.direction, r.profile.name]
  if (!r.workers) return runMetrics(r, prefix)
  return [...r.workers.flatMap((w) => (w.results ? runMetrics(w.results, [...prefix, `gpu${w.device}`]) : [])), ...togetherMetrics(r, [...prefix, 'together'])]
}

function togetherMetrics(r: ConnectorResults, prefix: string[]): Metric[] {
  const list = new MetricList(prefix)
  const t = r.together
  if (!t) return list.metrics
  const ceiling = {section: 'ceiling' as const}
  list.add(ceiling, ['ceilings'], 'd2h_gbps', 'GB/s', 'bigger', t.ceilings.d2hGBps, null, {context: true})
  list.add(ceiling, ['ceilings'], 'h2d_gbps', 'GB/s', 'bigger', t.ceilings.h2dGBps, null, {context: true})
  for (const d of t.designs) {
    if (d.role === 'baseline') continue
    const row = {section: 'design' as const, design: d.name, role: d.role}
    list.add(row, [d.name], 'moved_gbps', 'GB/s', 'bigger', d.gbps)
    list.add(row, [d.name], 'moved_pct_of_ceiling', '%', 'bigger', d.pctOfCeiling)
    list.add(row, [d.name], 'slowest_slowdown_pct', '%', 'smaller', d.slowestSlowdownPct)
  }
  return list.metrics
}

function runMetrics(r: ConnectorResults, prefix: string[]): Metric[] {
  const list = new MetricList(prefix)
  const dir = r.direction
  for (const d of r.designs) {
    if (d.role === 'baseline' || d.error) continue
    const row = {section: 'design' as const, design: d.name, role: d.role}
    const path = [d.name]
    list.add(row, path, 'save_gbps', 'GB/s', 'bigger', d.save.bytes > 0 ? d.save.gbps : null)
    list.add(row, path, 'load_gbps', 'GB/s', 'bigger', d.load.bytes > 0 ? d.load.gbps : null)
    list.add(row, path, 'moved_pct_of_ceiling', '%', 'bigger', d[dir].pctOfCeiling)
    const base = r.designs.find((x) => x.name === 'off-before')?.stepGpuMs?.p50
    const over = (v: number) => (base ? (100 * (v - base)) / base : Number.NaN)
    list.add(row, path, 'slowdown_pct', '%', 'smaller', d.slowdownPct, p10p90(d.stepGpuMs, `p10-p90 of ${d.steps} steps`, over))
    list.add(row, path, 'wall_slowdown_pct', '%', 'smaller', d.wallSlowdownPct)
    list.add(row, path, 'blocked_p50_us', 'us', 'smaller', d.blockedPerStepUs?.p50)
    list.add(row, path, 'blocked_p99_us', 'us', 'smaller', d.blockedPerStepUs?.p99)
    for (const [hook, h] of Object.entries(d.hooks)) {
      list.add(row, path, `${hook}_p50_us`, 'us', 'smaller', h.us.p50)
      list.add(row, path, `${hook}_p99_us`, 'us', 'smaller', h.us.p99)
    }
    list.add(row, path, 'time_to_ready_p50_ms', 'ms', 'smaller', d.timeToReadyMs?.p50)
    list.check(row, path, 'verified', d.verify.verified)
    list.check(row, path, 'outputs_correct', d.outputs.correct)
  }
  if (r.ceilings) {
    const row = {section: 'ceiling' as const}
    list.add(row, ['ceiling'], 'd2h_gbps', 'GB/s', 'bigger', r.ceilings.d2hGBps, null, {context: true})
    list.add(row, ['ceiling'], 'h2d_gbps', 'GB/s', 'bigger', r.ceilings.h2dGBps, null, {context: true})
  }
  return list.metrics
}
