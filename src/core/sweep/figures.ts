// The key figures of one sweep point, the same for its table row, its CSV row and its plot:
// a few of the point's metrics (the names compare and export use), picked per result kind.
import type {BackendBenchResults} from '../backend/bench.js'
import {metricsOf, type Metric, type MetricUnit} from '../metrics/index.js'
import type {TransferResults} from '../saveload/results.js'

export type PointKind = 'save' | 'load' | 'backend-bench'

export interface KeyFigure {
  /** Short column name, e.g. "async moved %". */
  label: string
  /** The full metric name (docs/metrics.md); null for words such as the best strategy. */
  metric: string | null
  unit: MetricUnit | 'text'
  value: number | string | null
}

function pick(metrics: readonly Metric[], label: string, match: (m: Metric) => boolean): KeyFigure {
  const m = metrics.find(match)
  return {label, metric: m?.name ?? null, unit: m?.unit ?? 'text', value: m ? m.value : null}
}

function transferFigures(r: TransferResults): KeyFigure[] {
  const metrics = metricsOf(r.mode, r)
  const out: KeyFigure[] = []
  if (r.mode === 'mix') {
    out.push({label: 'best alone (save/load)', metric: null, unit: 'text', value: `${r.best.save ?? '-'}/${r.best.load ?? '-'}`})
  } else {
    const best = r.best[r.mode]
    out.push({label: 'best alone', metric: null, unit: 'text', value: best})
    out.push(pick(metrics, 'alone GB/s', (m) => m.row.section === 'alone' && m.row.strategy === best && m.figure === `${r.mode}_gbps`))
    out.push(pick(metrics, 'alone %', (m) => m.row.section === 'alone' && m.row.strategy === best && m.figure === `${r.mode}_pct_of_ceiling`))
  }
  // A mix's designs: the rows of both directions together.
  for (const d of r.designs) {
    if (d.design === 'off' || (d.direction && d.direction !== 'both')) continue
    const row = (m: Metric) => m.row.section === 'design' && m.row.design === d.design && (m.row.direction ?? 'both') === 'both'
    out.push(pick(metrics, `${d.design} moved %`, (m) => row(m) && m.figure === 'moved_pct_of_ceiling'))
    out.push(pick(metrics, `${d.design} slowdown %`, (m) => row(m) && m.figure === 'slowdown_pct'))
    if (d.design === 'async') out.push(pick(metrics, 'async blocked p99 µs', (m) => row(m) && m.figure === 'blocked_p99_us'))
  }
  if (r.reference) out.push(pick(metrics, 'reference moved %', (m) => m.row.section === 'reference' && m.figure === 'moved_pct_of_ceiling'))
  out.push(verifiedFigure(metrics))
  return out
}

function backendFigures(r: BackendBenchResults): KeyFigure[] {
  const metrics = metricsOf('backend-bench', r)
  const out: KeyFigure[] = []
  for (const s of r.sizes) {
    for (const op of ['put', 'get'] as const) out.push(pick(metrics, `${s.label} ${op} GB/s`, (m) => m.name.endsWith(`/${s.label}/${op}_gbps`)))
  }
  for (const op of ['put', 'get'] as const) out.push(pick(metrics, `chunk ${op} p99 µs`, (m) => m.name.endsWith(`/chunk/${op}_p99_us`)))
  out.push(verifiedFigure(metrics))
  return out
}

/** yes when every check of the point passed, NO when one failed, null when nothing was checked. */
function verifiedFigure(metrics: readonly Metric[]): KeyFigure {
  const checks = metrics.filter((m) => m.unit === 'check')
  const value = checks.length === 0 ? null : checks.every((m) => m.value === 1) ? 'yes' : 'NO'
  return {label: 'verified', metric: null, unit: 'text', value}
}

export function keyFigures(kind: PointKind, results: unknown): KeyFigure[] {
  return kind === 'backend-bench' ? backendFigures(results as BackendBenchResults) : transferFigures(results as TransferResults)
}
