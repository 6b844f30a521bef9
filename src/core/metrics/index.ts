// The metrics of any kvbench result, by its envelope kind.
import type {AuditResults} from '../audit.js'
import type {BackendBenchResults} from '../backend/bench.js'
import type {CeilingResults} from '../ceilings.js'
import type {ConnectorResults} from '../connector/run.js'
import type {MergeResults} from '../merge/merge.js'
import type {TransferResults} from '../saveload/results.js'
import {auditMetrics} from './audit-metrics.js'
import {backendMetrics} from './backend-metrics.js'
import {connectorMetrics} from './connector-metrics.js'
import {envMetrics} from './env-metrics.js'
import {mergeMetrics} from './merge-metrics.js'
import type {Metric} from './metric.js'
import {transferMetrics} from './transfer-metrics.js'

/** The kinds whose results have figures to compare and export. */
export const METRIC_KINDS = ['save', 'load', 'mix', 'connector', 'backend-bench', 'env', 'audit-streams', 'merge'] as const
export type MetricKind = (typeof METRIC_KINDS)[number]

export function isMetricKind(kind: string): kind is MetricKind {
  return (METRIC_KINDS as readonly string[]).includes(kind)
}

export function metricsOf(kind: MetricKind, results: unknown): Metric[] {
  switch (kind) {
    case 'save':
    case 'load':
    case 'mix':
      return transferMetrics(results as TransferResults)
    case 'connector':
      return connectorMetrics(results as ConnectorResults)
    case 'backend-bench':
      return backendMetrics(results as BackendBenchResults)
    case 'env':
      return envMetrics(results as CeilingResults)
    case 'audit-streams':
      return auditMetrics(results as AuditResults)
    case 'merge':
      return mergeMetrics(results as MergeResults)
  }
}

export * from './metric.js'
