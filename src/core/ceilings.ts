// `env --measure`: the measurement plan (sizes decided here, once), the locked-memory
// pre-check, and the summary of the native samples.
import {badInput} from './errors.js'
import {gbPerSecond, summarize, type Summary} from './stats.js'
import type {MeasurePlan, NativeCopyMeasurement, NativeDeviceCeilings} from '../native/index.js'
import {formatBytes} from './bytes.js'

const MiB = 1024 * 1024

export interface CeilingOptions {
  device: number
  sizeMiB: number
  iterations: number
  verify: boolean
}

export function planCeilings(o: CeilingOptions): MeasurePlan {
  if (!Number.isInteger(o.sizeMiB) || o.sizeMiB < 1) throw badInput(`--size must be a positive whole number of MiB, got ${o.sizeMiB}`)
  if (!Number.isInteger(o.iterations) || o.iterations < 1) throw badInput(`--iterations must be a positive whole number, got ${o.iterations}`)
  const bytes = o.sizeMiB * MiB
  return {
    device: o.device,
    bytes,
    // Pageable copies run at a fraction of the pinned rate: a smaller buffer keeps the run short.
    pageableBytes: Math.min(bytes, 64 * MiB),
    iterations: o.iterations,
    pageableIterations: Math.max(3, Math.ceil(o.iterations / 2)),
    warmup: 2,
    smallBytes: 4096,
    smallIterations: 200,
    verify: o.verify,
  }
}

// The ceilings a save/load run (and the connector harness) reads before and after its
// strategies: only the pinned copies count there, so the pageable and small ones are kept short.
export const LINK_CEILING_BYTES = 256 * MiB

export function planLinkCeilings(device: number, verify: boolean): MeasurePlan {
  return {
    device,
    bytes: LINK_CEILING_BYTES,
    pageableBytes: 8 * MiB,
    iterations: 10,
    pageableIterations: 2,
    warmup: 2,
    smallBytes: 4096,
    smallIterations: 10,
    verify,
  }
}

/** Pinned bytes the plan allocates: one upload and one download buffer. */
export function pinnedBytesNeeded(plan: MeasurePlan): number {
  return 2 * plan.bytes
}

/** Refuses, before anything is allocated, a plan the locked-memory limit cannot hold (`gpus` measuring at once, each its own buffers). */
export function checkLockedMemory(plan: MeasurePlan, limitBytes: number | null, gpus = 1): void {
  if (limitBytes === null) return
  const need = gpus * pinnedBytesNeeded(plan)
  if (need > limitBytes) {
    throw badInput(
      `locked-memory limit (ulimit -l) is ${formatBytes(limitBytes)} but --measure pins ${formatBytes(need)}: ` +
        `raise it with \`ulimit -l unlimited\` (containers: --ulimit memlock=-1) or lower --size`,
      'MEMLOCK_LIMIT',
    )
  }
}

export interface Ceiling {
  id: string
  label: string
  bytesPerSample: number
  timer: 'cuda-events' | 'host-wall'
  samples: number
  /** GB/s per sample, summarized (p50 is the headline figure). */
  gbps: Summary
  /** Time per sample in microseconds, summarized. */
  latencyUs: Summary
  verified: boolean
  mismatches: number
}

export function summarizeCeiling(m: NativeCopyMeasurement): Ceiling {
  return {
    id: m.id,
    label: m.label,
    bytesPerSample: m.bytesPerSample,
    timer: m.timer,
    samples: m.samplesMs.length,
    gbps: summarize(m.samplesMs.map((ms) => gbPerSecond(m.bytesPerSample, ms))),
    latencyUs: summarize(m.samplesMs.map((ms) => ms * 1000)),
    verified: m.verified,
    mismatches: m.mismatches,
  }
}

export interface CeilingResults {
  measured: boolean
  /** Why nothing was measured (no GPU, not asked for); null when measured. */
  reason: string | null
  device: number | null
  verify: boolean
  ceilings: Ceiling[]
  /** --gpus: the pinned copies of every GPU named, all copying at once; null without --gpus. Absent before 1.11.0. */
  together?: TogetherCeilings | null
}

/**
 * Each GPU's H2D, D2H and both-at-once copies while every GPU named runs the same one (a barrier
 * starts each measurement on all of them), and their totals: what the host's PCIe and memory give
 * a whole server at once, against `ceilings` (the first GPU alone, in the same run).
 */
export interface TogetherCeilings {
  devices: number[]
  perGpu: Array<{device: number; ceilings: Ceiling[]}>
  /** The GPUs' medians added, per measurement id (h2d_pinned, d2h_pinned, bidir_pinned). */
  totalGBps: Record<string, number>
}

export function summarizeTogether(devices: NativeDeviceCeilings[]): TogetherCeilings {
  const perGpu = devices.map((d) => ({device: d.device, ceilings: d.copies.map(summarizeCeiling)}))
  const totalGBps: Record<string, number> = {}
  for (const g of perGpu) for (const c of g.ceilings) totalGBps[c.id] = (totalGBps[c.id] ?? 0) + c.gbps.p50
  return {devices: devices.map((d) => d.device), perGpu, totalGBps}
}
