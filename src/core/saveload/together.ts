// --gpus: every GPU's run, and what they did at once: the GB/s they moved added up, against the
// ceilings each read while all of them copied (added up too), each GPU's slowdown and the
// slowest one (a tensor-parallel step waits for it), each GPU's all-reduce time.
import type {TransferMode} from '../plan.js'
import type {DesignFigures, TransferResults} from './results.js'

/** One GPU's worker: its run's figures, or why it has none. */
export interface GpuWorker {
  device: number
  /** Null when the worker failed (error says why). */
  results: TransferResults | null
  error: string | null
  /** It was left waiting in an all-reduce for a failed GPU until the run aborted its communicator. */
  stuck: boolean
  /** Where its thread ran and allocated: the GPU's NUMA node and local CPUs (asked), what the kernel gave (read back). */
  placement: {numaNode: number | null; cpus: string | null; cpusAllowed: number; memoryBound: boolean; note: string | null} | null
}

/** What a row over several GPUs says, for kvbench's designs and a py: connector's alike. */
export interface AcrossGpus {
  /** The GPUs in this row, in order; the lists below are theirs. */
  gpus: number[]
  /** Added over the GPUs; null for a connector-off row. */
  gbps: number | null
  /** Of the GPUs' ceilings added (each read while every GPU copied). */
  pctOfCeiling: number | null
  slowdownPct: Array<number | null>
  /** The GPU with the largest slowdown, and it. */
  slowestGpu: number | null
  slowestSlowdownPct: number | null
}

/** The GPU of `on` with the largest slowdown (a tensor-parallel step waits for it), or null. */
export function slowestOf<T extends {slowdownPct: number | null}>(on: readonly T[]): T | null {
  let slowest: T | null = null
  for (const o of on) if (o.slowdownPct !== null && (slowest === null || o.slowdownPct > slowest.slowdownPct!)) slowest = o
  return slowest
}

/** One row of the designs (or the link reference) over the GPUs whose worker ran it. */
export interface TogetherRow extends AcrossGpus {
  design: DesignFigures['design'] | 'reference'
  direction?: 'both' | 'save' | 'load'
  strategy: string | null
  /** Each GPU's all-reduce GPU ms a step (p50); null without --all-reduce. */
  allReduceP50Ms: Array<number | null> | null
  verified: boolean | null
  jobsSkipped: number
}

export interface TogetherFigures {
  gpus: number[]
  /** Each direction's ceiling (and both at once) added over the GPUs whose worker ended. */
  ceilings: {h2dGBps: number; d2hGBps: number; bothGBps: number}
  designs: TogetherRow[]
  reference: TogetherRow | null
}

/** The ceiling a row reads against on one GPU: its direction's, a mix's both ways (each direction: half of it). */
function ceilingOf(r: TransferResults, mode: TransferMode, direction: TogetherRow['direction']): number {
  if (mode === 'save') return r.ceilings.d2hGBps
  if (mode === 'load') return r.ceilings.h2dGBps
  const both = r.ceilings.bothGBps ?? 0
  return direction === 'save' || direction === 'load' ? both / 2 : both
}

function row(mode: TransferMode, base: Omit<TogetherRow, 'gpus' | 'gbps' | 'pctOfCeiling' | 'slowdownPct' | 'slowestGpu' | 'slowestSlowdownPct' | 'allReduceP50Ms' | 'verified' | 'jobsSkipped'>, on: Array<{device: number; r: TransferResults; gbps: number | null; slowdownPct: number | null; allReduceMs: number | null | undefined; verified: boolean | null; skipped: number}>): TogetherRow {
  const moving = on.every((o) => o.gbps !== null)
  const gbps = moving ? on.reduce((a, o) => a + (o.gbps ?? 0), 0) : null
  const ceiling = on.reduce((a, o) => a + ceilingOf(o.r, mode, base.direction), 0)
  const slowest = slowestOf(on)
  const withAllReduce = on.some((o) => o.allReduceMs !== undefined)
  return {
    ...base,
    gpus: on.map((o) => o.device),
    gbps,
    pctOfCeiling: gbps !== null && ceiling > 0 ? (100 * gbps) / ceiling : null,
    slowdownPct: on.map((o) => o.slowdownPct),
    slowestGpu: slowest?.device ?? null,
    slowestSlowdownPct: slowest?.slowdownPct ?? null,
    allReduceP50Ms: withAllReduce ? on.map((o) => o.allReduceMs ?? null) : null,
    verified: on.some((o) => o.verified === false) ? false : on.every((o) => o.verified === null) ? null : true,
    jobsSkipped: on.reduce((a, o) => a + o.skipped, 0),
  }
}

const sameRow = (a: DesignFigures, b: DesignFigures) => a.design === b.design && a.direction === b.direction && a.strategy === b.strategy

export function summarizeTogether(mode: TransferMode, workers: readonly GpuWorker[]): TogetherFigures {
  const ended = workers.filter((w): w is GpuWorker & {results: TransferResults} => w.results !== null)
  const sum = (f: (r: TransferResults) => number) => ended.reduce((a, w) => a + f(w.results), 0)
  const first = ended[0]?.results
  const designs: TogetherRow[] = []
  // The rows line up across GPUs (the same phases, the first GPU's strategy pick); a GPU that
  // stopped early has fewer, and is left out of the rows it did not run.
  first?.designs.forEach((d, i) => {
    const on = ended.filter((w) => w.results.designs[i] && sameRow(w.results.designs[i], d))
    designs.push(
      row(mode, {design: d.design, ...(d.direction ? {direction: d.direction} : {}), strategy: d.strategy}, on.map((w) => {
        const x = w.results.designs[i]
        return {device: w.device, r: w.results, gbps: x.transfer?.gbps ?? null, slowdownPct: d.design === 'off' ? null : x.slowdownPct, allReduceMs: x.allReduce === undefined || x.allReduce === null ? undefined : (x.allReduce.stepMs?.p50 ?? null), verified: x.verified, skipped: x.transfer?.jobsSkipped ?? 0}
      })),
    )
  })
  const refs = ended.filter((w) => w.results.reference !== null)
  const reference =
    refs.length === 0
      ? null
      : row(mode, {design: 'reference', strategy: null}, refs.map((w) => {
          const x = w.results.reference!
          return {device: w.device, r: w.results, gbps: x.gbps, slowdownPct: x.slowdownPct, allReduceMs: x.allReduce === undefined || x.allReduce === null ? undefined : (x.allReduce.stepMs?.p50 ?? null), verified: null, skipped: 0}
        }))
  return {
    gpus: workers.map((w) => w.device),
    ceilings: {h2dGBps: sum((r) => r.ceilings.h2dGBps), d2hGBps: sum((r) => r.ceilings.d2hGBps), bothGBps: sum((r) => r.ceilings.bothGBps ?? 0)},
    designs,
    reference,
  }
}
