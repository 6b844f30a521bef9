// `kvbench sweep`: every point of a grid run one after another in this process, each a full result
// of its command (save, load or backend bench), gathered in one envelope. The points are built and
// checked before the first runs; a signal stops the point running (as the command itself would) and
// no further point starts; the finished points are kept.
import type {Environment} from '../environment.js'
import {KvError} from '../errors.js'
import {exitCodeForSignal, withSignals, type StopSignal} from '../interrupt.js'
import {keyFigures, type KeyFigure, type PointKind} from './figures.js'
import {crossoverOf, type Crossover} from './crossover.js'
import {pointLabel, type PointValues, type VaryAxis} from './grid.js'

/** What running one point gave: the command's own results, notes and exit code. */
export interface PointOutcome {
  results: unknown
  notes: string[]
  exitCode: number
  signal: StopSignal | null
  partial: boolean
}

/** A point whose request is built and checked: running it is all that is left. */
export interface PreparedPoint {
  values: PointValues
  run(publish: (env: Environment) => void, onProgress?: (done: number, total: number) => void): Promise<PointOutcome>
}

export interface SweepPoint {
  index: number
  values: PointValues
  status: 'complete' | 'partial' | 'error'
  exitCode: number
  notes: string[]
  /** The key figures of the table, CSV and plot (a few of `results`' metrics). */
  figures: KeyFigure[]
  /** The point's whole result, as `kvbench <target> --json` gives it in `results`. */
  results: unknown
  error: {code: string; message: string} | null
}

export interface SweepResults {
  /** The command swept: save, load or backend bench. */
  target: string
  /** The envelope kind of each point's results (its schema). */
  pointKind: PointKind
  vary: VaryAxis[]
  /** The flags every point shares, as given (secrets masked by the envelope). */
  fixedArgv: string[]
  planned: number
  points: SweepPoint[]
  /** Fewer points than planned finished whole (a signal, or a point that could not run). */
  partial: boolean
  /** save/load with --strategy all over chunk sizes: where each strategy is the fastest; null otherwise */
  crossover: Crossover | null
}

export interface SweepRequest {
  target: string
  pointKind: PointKind
  vary: VaryAxis[]
  fixedArgv: string[]
  points: PreparedPoint[]
  /** The point about to run (1-based), and the progress inside it when the point reports any. */
  onProgress?: (point: number, of: number, label: string, inner: number) => void
}

export interface SweepOutcome {
  environment: Environment | null
  results: SweepResults
  notes: string[]
  exitCode: number
}

/** Worst first: an interrupt (as a shell reports it), then a failed point (1), then bad input met while running (2). */
function sweepExitCode(points: readonly SweepPoint[], signal: StopSignal | null): number {
  if (signal) return exitCodeForSignal(signal)
  const codes = points.map((p) => p.exitCode)
  if (codes.includes(1)) return 1
  return codes.find((c) => c !== 0) ?? 0
}

export async function runSweep(req: SweepRequest): Promise<SweepOutcome> {
  let environment: Environment | null = null
  const points: SweepPoint[] = []
  const notes: string[] = []
  let stopped: StopSignal | null = null
  await withSignals((sig) => (stopped = sig), async () => {
    for (const [index, p] of req.points.entries()) {
      if (stopped) break
      const label = pointLabel(p.values)
      req.onProgress?.(index + 1, req.points.length, label, 0)
      try {
        const o = await p.run((env) => (environment ??= env), (done, total) => req.onProgress?.(index + 1, req.points.length, label, total > 0 ? done / total : 0))
        points.push({index, values: p.values, status: o.partial ? 'partial' : 'complete', exitCode: o.exitCode, notes: o.notes, figures: keyFigures(req.pointKind, o.results), results: o.results, error: null})
        if (o.signal) stopped ??= o.signal
      } catch (error) {
        // A point that cannot run (no GPU, a store that refuses, a size that does not fit) ends the
        // sweep: the next would most likely meet the same. With nothing finished, it is the sweep's error.
        if (points.length === 0) throw error
        const kv = error instanceof KvError ? error : null
        points.push({index, values: p.values, status: 'error', exitCode: kv?.exit ?? 1, notes: [], figures: [], results: null, error: {code: kv?.code ?? 'ERROR', message: (error as Error).message}})
        notes.push(`point ${index + 1} (${label}) could not run: ${(error as Error).message}; the sweep stopped there`)
        break
      }
    }
  })
  const whole = points.filter((p) => p.status === 'complete').length
  if (stopped) notes.push(`interrupted (${stopped}): ${whole} of ${req.points.length} points finished whole; no further point started`)
  const failed = points.filter((p) => p.exitCode !== 0 && p.status !== 'error')
  if (failed.length > 0) notes.push(`${failed.length} point(s) failed (their own exit code not 0): ${failed.map((p) => `${p.index + 1} (${pointLabel(p.values)}: exit ${p.exitCode})`).join(', ')}; each point's notes say why`)
  const crossover = crossoverOf(req.pointKind, req.vary, points)
  if (crossover.note) notes.push(crossover.note)
  const results: SweepResults = {
    target: req.target,
    pointKind: req.pointKind,
    vary: req.vary,
    fixedArgv: req.fixedArgv,
    planned: req.points.length,
    points,
    partial: whole < req.points.length,
    crossover: crossover.value,
  }
  return {environment, results, notes, exitCode: sweepExitCode(points, stopped)}
}
