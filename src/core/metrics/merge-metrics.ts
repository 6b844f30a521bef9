// Metrics of `kvbench merge`: each rank figure's worst rank (its spread the ranks' min-max), and
// for what the connectors moved at once, the total; named merge/worst/<name> and merge/total/<name>,
// so a cluster run goes to compare and the dashboards like a single one.
import type {MergeResults} from '../merge/merge.js'
import {MetricList, type Metric} from './metric.js'

export function mergeMetrics(r: MergeResults): Metric[] {
  const worst = new MetricList(['merge', 'worst'])
  const total = new MetricList(['merge', 'total'])
  for (const f of r.figures) {
    const path = f.name.split('/').slice(0, -1)
    const row = {section: f.section}
    const worstValue = f.values[r.ranks.findIndex((k) => k.rank === f.worstRank)]
    const spread = f.unit === 'check' || f.unit === 'verdict' ? null : {lo: f.min, hi: f.max, what: `min-max of ${r.ranks.length} ranks`}
    worst.add(row, path, f.figure, f.unit, f.better, worstValue, spread, {context: f.context})
    if (f.total !== null) total.add(row, path, f.figure, f.unit, f.better, f.total)
  }
  return [...worst.metrics, ...total.metrics]
}
