// `kvbench compare BASE NEW...`: pairs the figures of two results of one kind and judges each
// in its direction. A change is a regression only when it is beyond the threshold and, where
// the results show their noise (p10-p90, timed groups, repeated NEW runs), outside it.
import {badInput} from '../errors.js'
import {combineRuns, type Combined} from '../metrics/combine.js'
import {metricName, type Metric, type MetricUnit} from '../metrics/index.js'
import type {ResultFile} from '../results/read-result.js'
import {differences, identityOf} from './identity.js'

/** Times under a microsecond sit at the host clock's resolution and jitter: a µs figure must also move by this much. */
export const MICROSECOND_FLOOR = 1

export interface Thresholds {
  /** relative change, in percent, for GB/s, µs and ms figures */
  relativePct: number
  /** absolute change, in percentage points, for figures that are percentages */
  points: number
}

export const DEFAULT_THRESHOLDS: Thresholds = {relativePct: 3, points: 1}

export type RowVerdict = 'regression' | 'improved' | 'same' | 'missing' | 'added'

export interface Side {
  value: number
  lo: number | null
  hi: number | null
  spread: string | null
  runs: number
  text: string | null
}

export interface CompareRow {
  metric: string
  unit: MetricUnit
  better: 'bigger' | 'smaller'
  /** machine context (the link reference): shown, never counted as a regression */
  context: boolean
  base: Side | null
  new: Side | null
  /** new - base, in the figure's unit */
  delta: number | null
  /** relative change in percent (null for checks and verdicts, or a zero base) */
  changePct: number | null
  verdict: RowVerdict
  why: string
}

export interface FileRef {
  file: string
  runId: string
  startedAt: string
  gitSha: string | null
  gpu: string
}

export interface CompareResults {
  kind: string
  /** one BASE, or several repeat runs of it (--base), combined by median */
  base: FileRef[]
  new: FileRef[]
  thresholds: Thresholds & {microsecondFloor: number}
  rows: CompareRow[]
  counts: Record<RowVerdict, number>
  /** regressions and missing figures that count (context rows never do) */
  regressions: number
}

function fileRef(f: ResultFile): FileRef {
  const e = f.envelope
  return {file: f.file, runId: e.run.id, startedAt: e.run.startedAt, gitSha: e.tool.gitSha, gpu: identityOf(f).context.GPU}
}

function side(m: Combined): Side {
  return {value: m.value, lo: m.spread?.lo ?? null, hi: m.spread?.hi ?? null, spread: m.spread?.what ?? null, runs: m.runs, text: m.text ?? null}
}

/**
 * --strategy auto may pick another strategy from one run to the next: a design that ran with one
 * strategy in both results is paired by its design, and a note says so.
 */
function alignDesigns(base: readonly Metric[], other: ResultFile, notes: string[]): Metric[] {
  const strategiesOf = (ms: readonly Metric[]) => {
    const by = new Map<string, Set<string>>()
    for (const m of ms) if (m.row.design && m.row.strategy) by.set(m.row.design, (by.get(m.row.design) ?? new Set()).add(m.row.strategy))
    return by
  }
  const b = strategiesOf(base)
  const n = strategiesOf(other.metrics)
  const rename = new Map<string, string>()
  for (const [design, ns] of n) {
    const bs = b.get(design)
    if (!bs || bs.size !== 1 || ns.size !== 1) continue
    const [from] = ns
    const [to] = bs
    if (from === to) continue
    rename.set(design, to)
    notes.push(`${design} ran with ${from} in ${other.file} and ${to} in the first BASE (--strategy auto picked differently): its figures are paired by design`)
  }
  if (rename.size === 0) return other.metrics
  return other.metrics.map((m) => {
    const to = m.row.design ? rename.get(m.row.design) : undefined
    if (!to) return m
    const prefix = m.name.split('/').slice(0, 2)
    const section = m.row.section === 'design' || m.row.section === 'store' ? [m.row.design!, to] : []
    return {...m, name: metricName(...prefix, ...section, m.figure), row: {...m.row, strategy: to}}
  })
}

function overlaps(b: Side, n: Side): boolean {
  if (b.lo === null && n.lo === null) return false
  const [bl, bh] = [b.lo ?? b.value, b.hi ?? b.value]
  const [nl, nh] = [n.lo ?? n.value, n.hi ?? n.value]
  return bl <= nh && nl <= bh
}

export function judge(m: Metric, b: Side, n: Side, t: Thresholds): Pick<CompareRow, 'delta' | 'changePct' | 'verdict' | 'why'> {
  const delta = n.value - b.value
  const worse = m.better === 'bigger' ? delta < 0 : delta > 0
  if (m.unit === 'check' || m.unit === 'verdict') {
    const what = `${b.text ?? b.value} -> ${n.text ?? n.value}`
    if (delta === 0) return {delta, changePct: null, verdict: 'same', why: n.text ?? ''}
    return {delta, changePct: null, verdict: worse ? 'regression' : 'improved', why: what}
  }
  const changePct = b.value !== 0 ? (100 * delta) / Math.abs(b.value) : delta === 0 ? 0 : null
  let beyond: boolean
  let limit: string
  if (m.unit === '%') {
    beyond = Math.abs(delta) > t.points
    limit = `${t.points} point${t.points === 1 ? '' : 's'}`
  } else {
    beyond = (changePct === null || Math.abs(changePct) > t.relativePct) && (m.unit !== 'us' || Math.abs(delta) >= MICROSECOND_FLOOR)
    limit = m.unit === 'us' ? `${t.relativePct}% or ${MICROSECOND_FLOOR} µs` : `${t.relativePct}%`
  }
  if (!beyond) return {delta, changePct, verdict: 'same', why: `within ${limit}`}
  if (overlaps(b, n)) return {delta, changePct, verdict: 'same', why: `inside the spread (${[b.spread, n.spread].filter(Boolean).join('; ')})`}
  const how = worse ? 'worse' : 'better'
  const spread = b.spread || n.spread ? ', outside the spread' : ''
  return {delta, changePct, verdict: worse ? 'regression' : 'improved', why: `${how} by more than ${limit}${spread}`}
}

const ORDER: Record<RowVerdict, number> = {regression: 0, missing: 1, improved: 2, added: 3, same: 4}

export function compareResults(bases: readonly ResultFile[], news: readonly ResultFile[], t: Thresholds = DEFAULT_THRESHOLDS): {results: CompareResults; notes: string[]} {
  const [first] = bases
  if (first.metrics.length === 0) throw badInput(`BASE ${first.file} has no figures to compare${first.kind === 'env' ? ' (run env with --measure)' : ''}`)
  const notes: string[] = []
  const bid = identityOf(first)
  for (const [role, n] of [...bases.slice(1).map((f) => ['BASE', f] as const), ...news.map((f) => ['NEW', f] as const)]) {
    const nid = identityOf(n)
    if (nid.must.kind !== bid.must.kind) throw badInput(`${role} ${n.file} is a ${n.kind} result and BASE ${first.file} a ${first.kind} result: compare results of one kind`)
    const diff = differences(bid.must, nid.must)
    if (diff.length > 0) throw badInput(`${role} ${n.file} is not comparable with BASE ${first.file}: ${diff.join('; ')}`)
    for (const d of differences(bid.context, nid.context)) notes.push(`${n.file} ran elsewhere: ${d} (BASE first)`)
  }
  for (const f of [...bases, ...news]) if (f.envelope.status !== 'complete') notes.push(`${f.file} is ${f.envelope.status}: figures it did not measure are missing`)
  const b = combineRuns([first.metrics, ...bases.slice(1).map((f) => alignDesigns(first.metrics, f, notes))])
  const nw = combineRuns(news.map((n) => alignDesigns(first.metrics, n, notes)))
  const rows: CompareRow[] = []
  for (const [name, bm] of b) {
    const nm = nw.get(name)
    const common = {metric: name, unit: bm.unit, better: bm.better, context: bm.context, base: side(bm)}
    if (!nm) {
      rows.push({...common, new: null, delta: null, changePct: null, verdict: 'missing', why: 'not measured in NEW'})
      continue
    }
    const s = side(nm)
    rows.push({...common, new: s, ...judge(bm, common.base, s, t)})
  }
  for (const [name, nm] of nw) {
    if (!b.has(name)) rows.push({metric: name, unit: nm.unit, better: nm.better, context: nm.context, base: null, new: side(nm), delta: null, changePct: null, verdict: 'added', why: 'not measured in BASE'})
  }
  rows.sort((x, y) => ORDER[x.verdict] - ORDER[y.verdict])
  const counts: Record<RowVerdict, number> = {regression: 0, improved: 0, same: 0, missing: 0, added: 0}
  for (const r of rows) counts[r.verdict]++
  const regressions = rows.filter((r) => !r.context && (r.verdict === 'regression' || r.verdict === 'missing')).length
  return {
    results: {kind: first.kind, base: bases.map(fileRef), new: news.map(fileRef), thresholds: {...t, microsecondFloor: MICROSECOND_FLOOR}, rows, counts, regressions},
    notes: [...new Set(notes)],
  }
}
