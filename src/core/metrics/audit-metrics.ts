// Metrics of `kvbench audit-streams`: one verdict per probe and target, ranked so that a
// verdict that gets worse (PASS -> HAZARD -> LEAK) is a regression.
import type {AuditResults} from '../audit.js'
import {MetricList, VERDICT_RANK, type Metric} from './metric.js'

export function auditMetrics(r: AuditResults): Metric[] {
  const list = new MetricList(['audit-streams'])
  for (const p of r.probes) {
    list.add({section: 'probe'}, [p.layer, p.probe, p.target], 'verdict', 'verdict', 'smaller', VERDICT_RANK[p.verdict], null, {text: p.verdict})
  }
  return list.metrics
}
