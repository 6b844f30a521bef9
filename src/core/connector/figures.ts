// Figures of a connector run from the harness's raw samples: every statistic here, in TypeScript,
// through the one stats module, as for kvbench's native designs.
import {gbPerSecond, logHistogram, summarize, type HistogramBin, type Summary} from '../stats.js'
import type {HarnessLine} from './harness.js'

export interface ConnectorHookFigures {
  calls: number
  us: Summary
  histogram: HistogramBin[]
}

export interface ConnectorDirectionFigures {
  bytes: number
  gbps: number
  pctOfCeiling: number
}

export interface ConnectorDesignFigures {
  name: string
  role: 'user' | 'reference' | 'baseline'
  /** py:MODULE:CLASS; null for the connector-off baselines */
  spec: string | null
  steps: number
  stepGpuMs: Summary | null
  stepWallMs: Summary | null
  /** Median GPU step over the connector-off baseline's (before the designs), in percent. */
  slowdownPct: number | null
  /** Median wall step (scheduler and every hook included) over the baseline's, in percent. */
  wallSlowdownPct: number | null
  save: ConnectorDirectionFigures
  load: ConnectorDirectionFigures
  windowMs: number
  hooks: Record<string, ConnectorHookFigures>
  /** Host time in the connector's hooks per measured step (all of them run on the step's thread). */
  blockedPerStepUs: Summary | null
  timeToReadyMs: Summary | null
  requests: Record<string, number>
  verify: {requests: number; chunksChecked: number; chunksBad: number; verified: boolean | null}
  outputs: {
    steps: number
    nonFinite: number
    /** finite outputs that differ from the connector-off forward's */
    wrong: number
    correct: boolean
    /** Streams the all-reduce stand-in was enqueued on (what the --stream-accessor returned). */
    streams: Array<{stream: string; device: number; calls: number; compute: boolean}>
  }
  drain: {steps: number; undrained: number}
  /** The hook that raised and its exception's last line; the design's figures are then absent. */
  error: {hook: string; message: string} | null
}

const orNull = (v: readonly number[]): Summary | null => (v.length > 0 ? summarize(v) : null)

export function hookFigures(ns: Record<string, number[]>): Record<string, ConnectorHookFigures> {
  const out: Record<string, ConnectorHookFigures> = {}
  for (const [hook, samples] of Object.entries(ns)) {
    if (samples.length === 0) continue
    const us = samples.map((v) => v / 1000)
    out[hook] = {calls: samples.length, us: summarize(us), histogram: logHistogram(us)}
  }
  return out
}

export function designFigures(
  line: HarnessLine,
  ceilings: {d2hGBps: number; h2dGBps: number},
  baseline: {gpu: number; wall: number} | null,
  verify: boolean,
): ConnectorDesignFigures {
  const arr = (k: string) => (line[k] as number[] | undefined) ?? []
  const gpu = orNull(arr('stepGpuMs'))
  const wall = orNull(arr('stepWallMs'))
  const windowMs = (line.windowMs as number) ?? 0
  const dir = (bytes: number, ceiling: number): ConnectorDirectionFigures => {
    const gbps = windowMs > 0 ? gbPerSecond(bytes, windowMs) : 0
    return {bytes, gbps, pctOfCeiling: ceiling > 0 ? (100 * gbps) / ceiling : 0}
  }
  const v = line.verify as {requests: number; chunksChecked: number; chunksBad: number}
  const o = line.outputs as ConnectorDesignFigures['outputs']
  const role = line.role as ConnectorDesignFigures['role']
  return {
    name: line.name as string,
    role,
    spec: (line.spec as string | null) ?? null,
    steps: arr('stepGpuMs').length,
    stepGpuMs: gpu,
    stepWallMs: wall,
    slowdownPct: gpu && baseline ? (100 * (gpu.p50 - baseline.gpu)) / baseline.gpu : null,
    wallSlowdownPct: wall && baseline ? (100 * (wall.p50 - baseline.wall)) / baseline.wall : null,
    save: dir(line.saveBytes as number, ceilings.d2hGBps),
    load: dir(line.loadBytes as number, ceilings.h2dGBps),
    windowMs,
    hooks: hookFigures((line.hooksNs as Record<string, number[]>) ?? {}),
    blockedPerStepUs: role === 'baseline' ? null : orNull(arr('blockedUs')),
    timeToReadyMs: orNull(arr('timeToReadyMs')),
    requests: (line.requests as Record<string, number>) ?? {},
    verify: {...v, verified: !verify || role === 'baseline' || v.requests === 0 ? null : v.chunksBad === 0},
    outputs: {steps: o.steps, nonFinite: o.nonFinite, wrong: o.wrong, correct: o.nonFinite === 0 && o.wrong === 0, streams: o.streams},
    drain: line.drain as ConnectorDesignFigures['drain'],
    error: null,
  }
}

/** A design whose hook raised: named, with no figures. */
export function failedDesign(name: string, role: ConnectorDesignFigures['role'], spec: string | null, hook: string, message: string): ConnectorDesignFigures {
  return {
    name, role, spec, steps: 0, stepGpuMs: null, stepWallMs: null, slowdownPct: null, wallSlowdownPct: null,
    save: {bytes: 0, gbps: 0, pctOfCeiling: 0}, load: {bytes: 0, gbps: 0, pctOfCeiling: 0}, windowMs: 0, hooks: {},
    blockedPerStepUs: null, timeToReadyMs: null, requests: {}, verify: {requests: 0, chunksChecked: 0, chunksBad: 0, verified: null},
    outputs: {steps: 0, nonFinite: 0, wrong: 0, correct: true, streams: []}, drain: {steps: 0, undrained: 0}, error: {hook, message},
  }
}

/** Median of the ceiling copies, as decimal GB/s. */
export function ceilingFigures(line: HarnessLine): {bytes: number; d2hGBps: number; h2dGBps: number} {
  const bytes = line.bytes as number
  const rate = (ms: number[]) => gbPerSecond(bytes, summarize(ms).p50)
  return {bytes, d2hGBps: rate(line.d2hMs as number[]), h2dGBps: rate(line.h2dMs as number[])}
}
