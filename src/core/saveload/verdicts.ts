// What a save, load or mix run's figures mean for its outcome: bytes that did not verify, store
// requests that failed, gates no design could meet, and the exit code they add up to.
import {badInput} from '../errors.js'
import {failedGates, type TransferGateFlags} from '../gates.js'
import {exitCodeForSignal, type StopSignal} from '../interrupt.js'
import {rowCeilingGBps} from './figures.js'
import type {AllReduceFigures, DesignFigures, TransferResults} from './results.js'

/** Bytes that did not verify and forward outputs that were not finite, one line each (--gpus: every GPU's, named). */
export function verificationFailures(r: TransferResults): string[] {
  if (!r.workers) return oneGpuFailures(r)
  return r.workers.flatMap((w) => (w.results ? oneGpuFailures(w.results).map((f) => `GPU ${w.device}: ${f}`) : []))
}

function oneGpuFailures(r: TransferResults): string[] {
  const bad: string[] = []
  for (const s of r.strategies) {
    if (s.save.verified === false) bad.push(`${s.strategy} save (${s.save.mismatches} words differ)`)
    if (s.load.verified === false) bad.push(`${s.strategy} load (${s.load.mismatches} words differ)`)
  }
  for (const d of r.designs) {
    // mix: a direction row names its bytes that differ; the together row, the steps' forward outputs.
    const oneWay = d.direction === 'save' || d.direction === 'load'
    const name = rowName(d)
    if (d.verified === false && d.direction !== 'both') bad.push(`${name} (${d.mismatches} words differ)`)
    if (d.nonFiniteOutputs > 0 && !oneWay) bad.push(`${name}: ${d.nonFiniteOutputs} NaN/Inf forward outputs`)
    if (d.allReduce && d.allReduce.mismatches > 0) bad.push(`${name}: ${allReduceWrong(d.allReduce)}`)
    if (d.store?.verified === false) bad.push(`${d.design}/${d.strategy} store records (${d.store.mismatches} words differ, ${d.store.recordsUnreadable} unreadable)`)
  }
  if (r.reference?.allReduce && r.reference.allReduce.mismatches > 0) bad.push(`link reference: ${allReduceWrong(r.reference.allReduce)}`)
  const alone = r.backend?.alone
  if (alone?.verified === false && alone.mismatches > 0) bad.push(`store alone (${alone.mismatches} words differ)`)
  return bad
}

/** A design row as the notes name it: design/strategy, and a mix's one-way rows their direction. */
function rowName(d: DesignFigures): string {
  return `${d.design}/${d.strategy ?? '-'}${d.direction === 'save' || d.direction === 'load' ? ` ${d.direction}` : ''}`
}

function allReduceWrong(a: AllReduceFigures): string {
  return `${a.mismatches} of ${a.calls} all-reduce probe sums wrong (an all-reduce that did not wait for the compute stream's writes)`
}

/**
 * Designs whose workload offered less than the link per wall second of the connector-off step (issue
 * 18, goal 4): the load is sized on that step's GPU time, so host work between the steps (its wall time
 * above the GPU's) leaves the link idle, and a design's rate then measures the workload, not the
 * connector. The baseline's wall step, not the design's: a blocking design's own waits are its cost.
 */
export function underOffered(r: TransferResults): string[] {
  const base = r.designs.find((d) => d.design === 'off' && (d.direction ?? 'both') === 'both')
  if (!base?.stepWallMs || !base.stepGpuMs) return []
  const out: string[] = []
  for (const d of r.designs) {
    if (d.design === 'off' || !d.transfer || d.transfer.offeredBytesPerStep <= 0) continue
    const pct = (100 * d.transfer.offeredBytesPerStep) / (base.stepWallMs.p50 * 1e6) / rowCeilingGBps(r.ceilings, r.mode, d.direction)
    if (pct >= 100) continue
    out.push(
      `${rowName(d)}: the workload offered ${pct.toFixed(0)}% of the ceiling per wall second (${(d.transfer.offeredBytesPerStep / 1e9).toFixed(2)} GB a step, sized on the ${base.stepGpuMs.p50.toFixed(2)} ms GPU step of the connector off, whose wall step is ${base.stepWallMs.p50.toFixed(2)} ms): its rate measures the workload as much as the connector`,
    )
  }
  return out
}

/** Store requests that failed in a design: the run is partial (the figures cover what completed). */
export function storeFailures(r: TransferResults): string[] {
  const out: string[] = []
  for (const d of r.designs) {
    const s = d.store
    if (!s) continue
    const failed = s.puts.failed + s.gets.failed + s.lookups.failed
    if (failed > 0 || s.firstError) out.push(`${d.design}/${d.strategy}: ${failed} store requests failed${s.firstError ? ` (${s.firstError})` : ''}`)
  }
  const a = r.backend?.alone
  if (a && a.putFailed + a.getFailed > 0) out.push(`store alone: ${a.putFailed} puts and ${a.getFailed} gets failed${a.firstError ? ` (${a.firstError})` : ''}`)
  return out
}

/** Gates that no design of this run could meet are bad input, before anything runs. */
export function checkTransferGates(g: TransferGateFlags, designs: readonly string[]): TransferGateFlags {
  const on = designs.filter((d) => d !== 'off')
  if (on.length === 0 && g.maxSlowdown !== undefined) throw badInput('--max-slowdown gates the designs beside the forward: --connector off runs none')
  if (!on.includes('async') && g.maxBlockedP99Us !== undefined) throw badInput(`--max-blocked-p99-us gates the async design: this run has ${on.length ? `only ${on.join(', ')}` : 'none (--connector off)'}`)
  return g
}

/**
 * The run's exit code, most serious first: bytes that did not verify, then a store that failed
 * under the run (partial figures), then a GPU's worker that failed (--gpus; partial), then an interrupt (as a shell reports it), then a failed gate
 * (complete figures, worse than asked). Adds the note that says why when bytes did not verify.
 */
export function transferExitCode(r: TransferResults, signal: StopSignal | null, notes: string[]): number {
  const failures = verificationFailures(r)
  if (failures.length > 0) {
    notes.push(`verification FAILED: ${failures.join('; ')}`)
    return 1
  }
  if (r.storeFailed) return 1
  if (r.workers?.some((w) => w.error)) return 1  // --gpus: a GPU's worker failed (its note says how)
  if (r.partial) return exitCodeForSignal(signal ?? 'SIGINT')
  return failedGates(r.gates).length > 0 ? 1 : 0
}
