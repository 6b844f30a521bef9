// Metrics of a `kvbench backend bench` result: per record size and op, and the lookups.
import type {BackendBenchResults} from '../backend/bench.js'
import {storeKind} from '../store-spec.js'
import {MetricList, type Metric} from './metric.js'

export function backendMetrics(r: BackendBenchResults): Metric[] {
  const list = new MetricList(['backend-bench', storeKind(r.backend.spec), r.profile])
  for (const s of r.sizes) {
    const row = {section: 'size' as const}
    for (const op of ['put', 'get'] as const) {
      const x = s[op]
      const runs = x.runsGBps ?? []  // absent in results before 1.7.0
      const spread = runs.length > 1 ? {lo: Math.min(...runs), hi: Math.max(...runs), what: `range of ${runs.length} runs`} : null
      list.add(row, [s.label], `${op}_gbps`, 'GB/s', 'bigger', x.gbps, spread)
      list.add(row, [s.label], `${op}_p50_us`, 'us', 'smaller', x.latencyUs?.p50)
      list.add(row, [s.label], `${op}_p99_us`, 'us', 'smaller', x.latencyUs?.p99)
    }
    list.check(row, [s.label], 'verified', s.verified)
  }
  const l = r.lookup
  if (l) {
    const row = {section: 'lookup' as const}
    list.add(row, ['lookup'], 'sync_hit_p50_us', 'us', 'smaller', l.sync.hit.p50)
    list.add(row, ['lookup'], 'sync_hit_p99_us', 'us', 'smaller', l.sync.hit.p99)
    list.add(row, ['lookup'], 'sync_miss_p50_us', 'us', 'smaller', l.sync.miss.p50)
    list.add(row, ['lookup'], 'nonblocking_call_p50_us', 'us', 'smaller', l.nonBlocking.call.p50)
    list.add(row, ['lookup'], 'nonblocking_answer_p50_us', 'us', 'smaller', l.nonBlocking.answerUs.p50)
  }
  return list.metrics
}
