// Metrics of a `kvbench save` / `kvbench load` / `kvbench mix` result: each strategy alone (both directions),
// each design beside the forward, the store beside it, and the link reference (context).
import type {DesignFigures, DirectionFigures, TransferResults} from '../saveload/results.js'
import {MetricList, p10p90, type Metric} from './metric.js'
import {storeKind} from '../store-spec.js'

function alone(list: MetricList, r: TransferResults): void {
  for (const s of r.strategies) {
    for (const dir of ['save', 'load'] as const) {
      const d: DirectionFigures = s[dir]
      const ceiling = dir === 'save' ? r.ceilings.d2hGBps : r.ceilings.h2dGBps
      const row = {section: 'alone' as const, strategy: s.strategy, best: r.best[dir] === s.strategy}
      const path = ['alone', s.strategy]
      // The median of the timed groups is the robust figure (as --strategy auto picks); p10-p90 its noise.
      const groups = `p10-p90 of ${d.samplesGBps?.n ?? 0} timed groups`
      list.add(row, path, `${dir}_gbps`, 'GB/s', 'bigger', d.samplesGBps?.p50 ?? d.gbps, p10p90(d.samplesGBps, groups))
      list.add(row, path, `${dir}_pct_of_ceiling`, '%', 'bigger', d.medianPctOfCeiling ?? d.pctOfCeiling, p10p90(d.samplesGBps, groups, (v) => (100 * v) / ceiling))
      list.check(row, path, `${dir}_verified`, d.verified)
    }
  }
}

function design(list: MetricList, d: DesignFigures, baseline: DesignFigures | undefined): void {
  // mix: every row also names its direction (both, save or load) in the row and the name.
  const row = {section: 'design' as const, design: d.design, strategy: d.strategy ?? undefined, ...(d.direction ? {direction: d.direction} : {})}
  const path = [d.design, d.strategy ?? '-', ...(d.direction ? [d.direction] : [])]
  const t = d.transfer
  if (t) {
    list.add(row, path, 'moved_gbps', 'GB/s', 'bigger', t.gbps)
    list.add(row, path, 'moved_pct_of_ceiling', '%', 'bigger', t.pctOfCeiling)
    list.add(row, path, 'latency_p50_ms', 'ms', 'smaller', t.latencyMs?.p50)
    list.add(row, path, 'latency_p99_ms', 'ms', 'smaller', t.latencyMs?.p99)
  }
  // The slowdown is the median step against the baseline's median; the steps' p10-p90 is its noise.
  const over = (base: number | undefined) => (v: number) => (base ? (100 * (v - base)) / base : Number.NaN)
  const steps = `p10-p90 of ${d.stepGpuMs?.n ?? 0} steps`
  list.add(row, path, 'slowdown_pct', '%', 'smaller', d.slowdownPct, baseline?.stepGpuMs ? p10p90(d.stepGpuMs, steps, over(baseline.stepGpuMs.p50)) : null)
  list.add(row, path, 'wall_slowdown_pct', '%', 'smaller', d.wallSlowdownPct, baseline?.stepWallMs ? p10p90(d.stepWallMs, steps, over(baseline.stepWallMs.p50)) : null)
  list.add(row, path, 'blocked_p50_us', 'us', 'smaller', d.blockedPerStepUs?.p50)
  list.add(row, path, 'blocked_p99_us', 'us', 'smaller', d.blockedPerStepUs?.p99)
  list.add(row, path, 'connector_busy_pct', '%', 'smaller', d.connectorBusyPct)
  for (const [hook, h] of Object.entries(d.hooks)) {
    list.add(row, path, `${hook}_p50_us`, 'us', 'smaller', h.us.p50)
    list.add(row, path, `${hook}_p99_us`, 'us', 'smaller', h.us.p99)
  }
  list.check(row, path, 'verified', d.verified === null ? null : d.verified && d.nonFiniteOutputs === 0)
  if (d.allReduce) {
    list.add(row, path, 'all_reduce_p50_ms', 'ms', 'smaller', d.allReduce.stepMs?.p50)
    list.check(row, path, 'all_reduce_verified', d.allReduce.mismatches === 0)
  }
  const s = d.store
  if (s) {
    const srow = {section: 'store' as const, design: d.design, strategy: d.strategy ?? undefined}
    list.add(srow, path, 'store_gbps', 'GB/s', 'bigger', s.gbps)
    list.add(srow, path, 'store_latency_p99_ms', 'ms', 'smaller', s.latencyMs?.p99)
    list.check(srow, path, 'store_verified', s.verified)
  }
}

/**
 * One GPU's figures are named <mode>/<profile>/...; with --gpus each GPU's are under gpu<N>/, and
 * what they did at once under together/ (GB/s added, % of the ceilings added, the slowest GPU's
 * slowdown), so a gate checks every GPU and the sum.
 */
export function transferMetrics(r: TransferResults): Metric[] {
  if (!r.workers) return runMetrics(r, [r.mode, r.profile.name])
  return [...r.workers.flatMap((w) => (w.results ? runMetrics(w.results, [r.mode, r.profile.name, `gpu${w.device}`]) : [])), ...togetherMetrics(r)]
}

function togetherMetrics(r: TransferResults): Metric[] {
  const list = new MetricList([r.mode, r.profile.name, 'together'])
  const t = r.together
  if (!t) return list.metrics
  const ceiling = {section: 'ceiling' as const}
  list.add(ceiling, ['ceilings'], 'h2d_gbps', 'GB/s', 'bigger', t.ceilings.h2dGBps, null, {context: true})
  list.add(ceiling, ['ceilings'], 'd2h_gbps', 'GB/s', 'bigger', t.ceilings.d2hGBps, null, {context: true})
  if (r.mode === 'mix') list.add(ceiling, ['ceilings'], 'both_gbps', 'GB/s', 'bigger', t.ceilings.bothGBps, null, {context: true})
  for (const d of t.designs) {
    if (d.design === 'off' || d.design === 'reference') continue
    const row = {section: 'design' as const, design: d.design, strategy: d.strategy ?? undefined, ...(d.direction ? {direction: d.direction} : {})}
    const path = [d.design, d.strategy ?? '-', ...(d.direction ? [d.direction] : [])]
    list.add(row, path, 'moved_gbps', 'GB/s', 'bigger', d.gbps)
    list.add(row, path, 'moved_pct_of_ceiling', '%', 'bigger', d.pctOfCeiling)
    list.add(row, path, 'slowest_slowdown_pct', '%', 'smaller', d.slowestSlowdownPct)
    const ar = d.allReduceP50Ms?.filter((v): v is number => v !== null) ?? []
    if (ar.length > 0) list.add(row, path, 'all_reduce_p50_ms_max', 'ms', 'smaller', Math.max(...ar))
  }
  const ref = t.reference
  if (ref) {
    const row = {section: 'reference' as const}
    list.add(row, ['reference', 'contiguous'], 'moved_gbps', 'GB/s', 'bigger', ref.gbps, null, {context: true})
    list.add(row, ['reference', 'contiguous'], 'moved_pct_of_ceiling', '%', 'bigger', ref.pctOfCeiling, null, {context: true})
    list.add(row, ['reference', 'contiguous'], 'slowest_slowdown_pct', '%', 'smaller', ref.slowestSlowdownPct, null, {context: true})
  }
  return list.metrics
}

function runMetrics(r: TransferResults, prefix: string[]): Metric[] {
  const list = new MetricList(prefix)
  alone(list, r)
  const baseline = r.designs.find((d) => d.design === 'off')
  for (const d of r.designs) if (d.design !== 'off') design(list, d, baseline)
  // The forward's all-reduce with the connector off: what each design's all_reduce_p50_ms reads against.
  if (baseline?.allReduce) list.add({section: 'design' as const, design: 'off'}, ['off', '-'], 'all_reduce_p50_ms', 'ms', 'smaller', baseline.allReduce.stepMs?.p50, null, {context: true})
  const ref = r.reference
  if (ref) {
    const row = {section: 'reference' as const}
    list.add(row, ['reference', 'contiguous'], 'moved_pct_of_ceiling', '%', 'bigger', ref.pctOfCeiling, null, {context: true})
    list.add(row, ['reference', 'contiguous'], 'slowdown_pct', '%', 'smaller', ref.slowdownPct, null, {context: true})
    for (const dir of ['save', 'load'] as const) {
      const one = ref.directions?.[dir]
      if (one) list.add({...row, direction: dir}, ['reference', 'contiguous', dir], 'moved_pct_of_ceiling', '%', 'bigger', one.pctOfCeiling, null, {context: true})
    }
  }
  const a = r.backend?.alone
  if (a) {
    const row = {section: 'store' as const}
    list.add(row, ['store-alone', storeKind(r.backend!.spec)], 'put_gbps', 'GB/s', 'bigger', a.putGBps)
    list.add(row, ['store-alone', storeKind(r.backend!.spec)], 'get_gbps', 'GB/s', 'bigger', a.getGBps)
  }
  return list.metrics
}
