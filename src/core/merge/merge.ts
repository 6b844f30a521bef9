// `kvbench merge`: the envelopes the ranks of one launcher run wrote (--output with {rank})
// combined into one result: a row per host and rank, and each figure over the ranks (the worst
// rank, the spread, and for what the ranks moved at once, the total). Files of different runs,
// kinds, workloads or worlds are refused, as is a rank missing or given twice.
import type {Launcher} from '../launch/world.js'
import {differences, identityOf} from '../compare/identity.js'
import {badInput} from '../errors.js'
import type {RunStatus} from '../envelope.js'
import type {MetricKind} from '../metrics/index.js'
import type {Better, MetricSection, MetricUnit} from '../metrics/metric.js'
import type {ResultFile} from '../results/read-result.js'

export interface MergedRank {
  rank: number
  localRank: number
  host: string
  file: string
  status: RunStatus
  /** The rank's error, where it ended in one. */
  error: string | null
}

export interface MergedFigure {
  name: string
  figure: string
  unit: MetricUnit
  better: Better
  /** Machine context (ceilings, the link reference), as in compare. */
  context: boolean
  /** The row it belongs to in every rank's result (a strategy alone, a design, a ceiling...). */
  section: MetricSection
  /** By rank; null where that rank has no such figure (it failed, or measured less). */
  values: Array<number | null>
  min: number
  max: number
  mean: number
  /** GB/s the ranks' connectors moved at once, added up: the run's aggregate. Null for every other figure. */
  total: number | null
  /** The rank with the worst value: for a slowdown, the rank the step waits for. */
  worstRank: number
}

export interface MergeResults {
  kind: MetricKind
  launcher: Launcher
  worldSize: number
  runId: string | null
  hosts: number
  ranks: MergedRank[]
  figures: MergedFigure[]
  /** Some rank did not complete (partial or error): the figures cover the ranks that measured them. */
  partial: boolean
}

function worldOf(f: ResultFile) {
  const w = f.envelope.run?.world
  if (!w) throw badInput(`RESULT ${f.file} has no run.world: it was not run under a launcher (torchrun, mpirun, srun); merge combines the files of one launcher run's ranks`)
  return w
}

/** Refuses, in one line naming the files, anything that makes the files not one run's ranks. */
function checkOneRun(files: ResultFile[]): void {
  const first = files[0]
  const w0 = worldOf(first)
  const byRank = new Map<number, ResultFile>()
  for (const f of files) {
    const w = worldOf(f)
    const vs = `RESULT ${first.file} and RESULT ${f.file}`
    if (f.kind !== first.kind) throw badInput(`${vs} are ${first.kind} and ${f.kind} results: merge combines one run's ranks`)
    if (w.launcher !== w0.launcher) throw badInput(`${vs} come from different launchers (${w0.launcher}, ${w.launcher})`)
    if (w.size !== w0.size) throw badInput(`${vs} come from worlds of ${w0.size} and ${w.size} ranks`)
    if (w.runId !== w0.runId) throw badInput(`${vs} come from different runs (run id ${w0.runId ?? 'none'} vs ${w.runId ?? 'none'})`)
    const twice = byRank.get(w.rank)
    if (twice) throw badInput(`RESULT ${twice.file} and RESULT ${f.file} are both rank ${w.rank}`)
    byRank.set(w.rank, f)
  }
  const missing = Array.from({length: w0.size}, (_, r) => r).filter((r) => !byRank.has(r))
  if (missing.length > 0) {
    const shown = missing.slice(0, 8).join(', ') + (missing.length > 8 ? `, ... (${missing.length} in all)` : '')
    throw badInput(`rank${missing.length === 1 ? '' : 's'} ${shown} of the ${w0.size} of this ${w0.launcher} run ha${missing.length === 1 ? 's' : 've'} no file among the ${files.length} given`)
  }
  // The ranks must have run the same benchmark: the fields compare refuses to compare.
  const measured = files.filter((f) => f.envelope.results)
  for (const f of measured.slice(1)) {
    const diff = differences(identityOf(measured[0]).must, identityOf(f).must)
    if (diff.length > 0) throw badInput(`RESULT ${measured[0].file} and RESULT ${f.file} ran different benchmarks: ${diff.slice(0, 3).join('; ')}`)
  }
}

function worstOf(values: Array<number | null>, better: Better): number {
  let worst = -1
  for (let r = 0; r < values.length; r++) {
    const v = values[r]
    if (v === null) continue
    if (worst < 0 || (better === 'bigger' ? v < (values[worst] as number) : v > (values[worst] as number))) worst = r
  }
  return worst
}

export function mergeRanks(files: ResultFile[]): MergeResults {
  if (files.length === 0) throw badInput('merge needs the result files of every rank: kvbench merge FILE... (one per rank, as --output with {rank} writes them)')
  checkOneRun(files)
  const sorted = [...files].sort((a, b) => worldOf(a).rank - worldOf(b).rank)
  const w0 = worldOf(sorted[0])
  const ranks: MergedRank[] = sorted.map((f) => {
    const w = worldOf(f)
    return {rank: w.rank, localRank: w.localRank, host: w.host, file: f.file, status: f.envelope.status, error: f.envelope.error?.message ?? null}
  })
  const seen = new Map<string, MergedFigure>()  // in the order the ranks first give them
  sorted.forEach((f, r) => {
    for (const m of f.metrics) {
      let fig = seen.get(m.name)
      if (!fig) {
        fig = {name: m.name, figure: m.figure, unit: m.unit, better: m.better, context: m.context, section: m.row.section, values: sorted.map(() => null), min: 0, max: 0, mean: 0, total: null, worstRank: 0}
        seen.set(m.name, fig)
      }
      fig.values[r] = m.value
    }
  })
  const figures = [...seen.values()].map((fig) => {
    const present = fig.values.filter((v): v is number => v !== null)
    fig.min = Math.min(...present)
    fig.max = Math.max(...present)
    fig.mean = present.reduce((a, b) => a + b, 0) / present.length
    // A design's GB/s is what a rank's connector moved beside its forward, all ranks at once, so
    // they add up; a ceiling or a strategy or store alone was measured per rank, and its sum would
    // be a figure nobody measured.
    const movedAtOnce = fig.unit === 'GB/s' && !fig.context && fig.section === 'design'
    fig.total = movedAtOnce ? present.reduce((a, b) => a + b, 0) : null
    fig.worstRank = ranks[worstOf(fig.values, fig.better)].rank
    return fig
  })
  return {
    kind: sorted[0].kind,
    launcher: w0.launcher,
    worldSize: w0.size,
    runId: w0.runId,
    hosts: new Set(ranks.map((r) => r.host)).size,
    ranks,
    figures,
    partial: ranks.some((r) => r.status !== 'complete'),
  }
}
