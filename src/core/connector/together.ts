// --gpus with a py: connector: every GPU's harness run, and what they did at once: the GB/s each
// design moved added up over the GPUs, against their ceilings added (each read while every GPU
// copied), each GPU's slowdown and the slowest one (a tensor-parallel step waits for it).
import type {ConnectorDesignFigures} from './figures.js'
import type {ConnectorResults} from './run.js'
import {slowestOf, type AcrossGpus} from '../saveload/together.js'

/** One GPU's harness: its run's figures (this shape, without workers and together), or why it has none. */
export interface ConnectorGpuWorker {
  device: number
  results: ConnectorResults | null
  error: string | null
}

/** One design over the GPUs whose harness ran it; gbps and pctOfCeiling in the run's direction. */
export interface ConnectorTogetherRow extends AcrossGpus {
  name: string
  role: ConnectorDesignFigures['role']
  /** false when any GPU's loads came back wrong, null when none was checked. */
  verified: boolean | null
  /** Every GPU's forward outputs right. */
  outputsCorrect: boolean
}

export interface ConnectorTogether {
  gpus: number[]
  ceilings: {h2dGBps: number; d2hGBps: number}
  designs: ConnectorTogetherRow[]
}

export function summarizeConnectorTogether(workers: readonly ConnectorGpuWorker[]): ConnectorTogether {
  const ended = workers.filter((w): w is ConnectorGpuWorker & {results: ConnectorResults} => w.results !== null)
  const sum = (f: (r: ConnectorResults) => number) => ended.reduce((a, w) => a + f(w.results), 0)
  const names = [...new Set(ended.flatMap((w) => w.results.designs.map((d) => d.name)))]
  const designs = names.map((name): ConnectorTogetherRow => {
    const on = ended.flatMap((w) => {
      const d = w.results.designs.find((x) => x.name === name && !x.error)
      return d ? [{device: w.device, r: w.results, d}] : []
    })
    const role = on[0]?.d.role ?? ended.flatMap((w) => w.results.designs).find((d) => d.name === name)!.role
    const moving = role !== 'baseline' && on.length > 0
    const gbps = moving ? on.reduce((a, o) => a + o.d[o.r.direction].gbps, 0) : null
    const ceiling = on.reduce((a, o) => a + (o.r.ceilings ? (o.r.direction === 'save' ? o.r.ceilings.d2hGBps : o.r.ceilings.h2dGBps) : 0), 0)
    const slowest = slowestOf(on.map((o) => ({device: o.device, slowdownPct: o.d.slowdownPct})))
    const checked = on.filter((o) => o.d.verify.verified !== null)
    return {
      name,
      role,
      gpus: on.map((o) => o.device),
      gbps,
      pctOfCeiling: gbps !== null && ceiling > 0 ? (100 * gbps) / ceiling : null,
      slowdownPct: on.map((o) => o.d.slowdownPct),
      slowestGpu: slowest?.device ?? null,
      slowestSlowdownPct: slowest?.slowdownPct ?? null,
      verified: checked.length === 0 ? null : checked.every((o) => o.d.verify.verified),
      outputsCorrect: on.every((o) => o.d.outputs.correct),
    }
  })
  return {
    gpus: workers.map((w) => w.device),
    ceilings: {h2dGBps: sum((r) => r.ceilings?.h2dGBps ?? 0), d2hGBps: sum((r) => r.ceilings?.d2hGBps ?? 0)},
    designs,
  }
}
