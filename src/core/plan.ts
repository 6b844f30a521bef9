// The save/load workload plan: every size of a run, derived once from the profile
// and flags, checked against GPU, host and locked memory before anything is allocated.

import {badInput} from './errors.js'
import {deriveSizes, type DerivedSizes, type Profile} from './profile.js'
import {formatBytes} from './bytes.js'
import {storeSpec} from './store-spec.js'
import {STRATEGY_NAMES, type DesignName, type FaultName, type SaveLoadPlan, type StagingL2, type StrategyName} from '../native/index.js'
import {readText} from './read-text.js'
import {LINK_CEILING_BYTES, planLinkCeilings} from './ceilings.js'

export const STRATEGIES: StrategyName[] = [...STRATEGY_NAMES]
export type StrategyChoice = StrategyName | 'auto' | 'all'
export type DesignChoice = 'async' | 'blocking' | 'all'
/** save, load, or both in the same steps (`kvbench mix`). */
export type TransferMode = 'save' | 'load' | 'mix'
export const ALL_REDUCE_CHOICES = ['off', 'nccl'] as const
export type AllReduceChoice = (typeof ALL_REDUCE_CHOICES)[number]

export interface RunOptions {
  mode: TransferMode
  device: number
  strategy: StrategyChoice
  design: DesignChoice
  connector: boolean
  verify: boolean
  warmupSteps: number
  /** --staging-mib; undefined: the profile's staging.mib, else DEFAULT_STAGING's */
  stagingMiB?: number
  copyCtas: number
  mappedCtas: number
  /** Copy kernels use evict-first loads and stores. */
  streamingCopies: boolean
  /** staged: the ring in HBM (normal), in an L2 persisting window (persist), or there where the GPU's set-aside holds it (auto); undefined: the profile's staging.l2, else DEFAULT_STAGING's */
  stagingL2?: StagingL2
  /** staged: share (%) of each part's blocks moved as batch copies beside the ring */
  batchSharePct: number
  /** measured steps of the link reference; undefined: the decode steps, at most 64 (none with the connector off) */
  referenceSteps?: number
  fault: FaultName
  /** The forward's tensor-parallel all-reduce: off, or NCCL's after each row-parallel product (two a layer); the plan's world is one (--gpus and --rendezvous widen it). */
  allReduce: AllReduceChoice
  /** host (the pinned pool), file:DIR, redis://..., plugin:PATH.so */
  backend: string
  /** store I/O threads (Redis: one connection each) */
  ioThreads: number
  /** store requests queued or running before saves are dropped */
  storeQueue: number
  /** records per pipelined store call */
  pipeline: number
  fsync: 'never' | 'always'
  direct: boolean
  /** --trace: the first measured steps of each design timed for a timeline; 0 or undefined: none */
  traceSteps?: number
}

export interface WorkloadPlan {
  plan: SaveLoadPlan
  sizes: DerivedSizes
  /** Strategies the concurrent phase runs; 'auto' decides after the transfer phase. */
  strategyChoice: StrategyChoice
  designs: DesignName[]
  contextBlocks: number
  loadBlocksPerRequest: number
  gpuCacheBytes: number
  pinnedBytes: number
  gpuBytesNeeded: number
  /** Where the staged ring came from, when the profile chose it and the staged strategy runs; else null. */
  stagingNote: string | null
}

const MiB = 1024 * 1024
// The link reference's default length: enough for a stable median step, little added wall time.
const REFERENCE_STEPS = 64
// kvbench mix: two sequences each way at least (the native core refuses fewer).
const MIX_MIN_SEQUENCES = 4

// The staged strategy's ring (decided here; the native copier takes the slots it is given).
// While the copy engine drains one slot, the kernel fills the next; more than two absorb jitter
// in either. Each slot is one copy-engine copy, and a copy costs a few microseconds of idle link
// before it starts (2 MiB copies reach about 93% of the link, 8 MiB ones 98%), so slots are as
// large as the 8 MiB target allows: a small ring (an L2-resident one) gets two large slots rather
// than four small ones. Each slot is rounded down to 256 bytes so every slot starts aligned for
// the copy kernels' 16-byte accesses (25 MiB in 3 slots would not be).
const STAGING_SLOT_TARGET = 8 * MiB
const STAGING_SLOTS = {min: 2, max: 8}
const STAGING_SLOT_ALIGN = 256

// The ring every profile gets unless it says otherwise: two 8 MiB slots in an L2 set-aside, what
// costs the forwards of most shipped profiles least at full rate (docs/benchmarks.md).
export const DEFAULT_STAGING = {mib: 16, l2: 'auto'} as const satisfies {mib: number; l2: StagingL2}

/** The run's ring: each of --staging-mib and --staging-l2, else the profile's, else the default; with the note saying where it came from when the profile set it. */
export function stagingFor(profile: Profile, o: Pick<RunOptions, 'stagingMiB' | 'stagingL2'>): {mib: number; l2: StagingL2; note: string | null} {
  const mib = o.stagingMiB ?? profile.staging?.mib ?? DEFAULT_STAGING.mib
  const l2 = o.stagingL2 ?? profile.staging?.l2 ?? DEFAULT_STAGING.l2
  const fromProfile = [o.stagingMiB === undefined && profile.staging?.mib !== undefined ? `${mib} MiB` : '', o.stagingL2 === undefined && profile.staging?.l2 !== undefined ? `--staging-l2 ${l2}` : '']
    .filter(Boolean)
    .join(', ')
  return {mib, l2, note: fromProfile ? `staging ring ${fromProfile}: profile ${profile.name}'s staging (--staging-mib and --staging-l2 override it)` : null}
}

export function stagingSlots(stagingBytes: number): {slots: number; slotBytes: number} {
  const slots = Math.min(STAGING_SLOTS.max, Math.max(STAGING_SLOTS.min, Math.floor(stagingBytes / STAGING_SLOT_TARGET)))
  return {slots, slotBytes: Math.floor(stagingBytes / slots / STAGING_SLOT_ALIGN) * STAGING_SLOT_ALIGN}
}

export function planWorkload(profile: Profile, o: RunOptions): WorkloadPlan {
  const sizes = deriveSizes(profile)
  const w = profile.workload
  const a = profile.attention
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) throw badInput(`--warmup must be a whole number, got ${o.warmupSteps}`)
  const staging = stagingFor(profile, o)
  if (!Number.isInteger(staging.mib) || staging.mib < 1) throw badInput(`--staging-mib must be a positive whole number, got ${staging.mib}`)
  if (!Number.isInteger(o.copyCtas) || o.copyCtas < 0 || o.copyCtas > 65535) {
    throw badInput(`--copy-ctas must be between 0 (one per chunk) and 65535, got ${o.copyCtas}`)
  }
  if (!Number.isInteger(o.mappedCtas) || o.mappedCtas < 1 || o.mappedCtas > 65535) throw badInput(`--mapped-ctas must be between 1 and 65535, got ${o.mappedCtas}`)
  if (!Number.isInteger(o.batchSharePct) || o.batchSharePct < 0 || o.batchSharePct > 100) {
    throw badInput(`--batch-share must be a whole percentage from 0 to 100, got ${o.batchSharePct}`)
  }
  if (o.batchSharePct > 0 && !['staged', 'auto', 'all'].includes(o.strategy)) {
    throw badInput(`--batch-share splits the staged strategy's copies; it does nothing with --strategy ${o.strategy}`)
  }
  if (o.referenceSteps !== undefined && (!Number.isInteger(o.referenceSteps) || o.referenceSteps < 0)) {
    throw badInput(`--reference-steps must be a whole number, 0 or more, got ${o.referenceSteps}`)
  }
  if (!Number.isInteger(o.storeQueue) || o.storeQueue < 1 || o.storeQueue > 65536) throw badInput(`--store-queue must be between 1 and 65536, got ${o.storeQueue}`)
  const store = storeSpec(o.backend, {threads: o.ioThreads, pipeline: o.pipeline, fsync: o.fsync, direct: o.direct}, 'io-threads', true)
  if (o.fault === 'corrupt-store' && !store) throw badInput('--inject corrupt-store needs a --backend other than host')
  if (o.fault === 'allreduce-unordered' && o.allReduce === 'off') throw badInput('--inject allreduce-unordered breaks the forward\'s all-reduce: add --all-reduce nccl')
  if (o.mode === 'mix' && store) throw badInput(`--backend ${o.backend}: kvbench mix moves both directions through the pinned pool only (host); measure a store with save or load`)
  if (o.mode === 'mix' && o.traceSteps) throw badInput('--trace: kvbench mix does not write a timeline; trace save or load')
  if (sizes.chunkBytes % 16) {
    throw badInput(`--block-size ${profile.blockSize} gives ${sizes.chunkBytes}-byte chunks; the layout needs a multiple of 16 bytes`)
  }
  const contextBlocks = Math.ceil(w.promptTokens / profile.blockSize)
  const stagingBytes = staging.mib * MiB
  const {slots, slotBytes} = stagingSlots(stagingBytes)
  if (slotBytes < sizes.layerBlockBytes) {
    throw badInput(`--staging-mib ${staging.mib} gives ${slots} staging ring slots of ${formatBytes(slotBytes)}, less than one block of one layer (${formatBytes(sizes.layerBlockBytes)}) each`)
  }
  const blocksPerJob = contextBlocks
  const transferBlocks = (w.transferSequences ?? w.batch) * contextBlocks
  // A mixed run saves in one half of the transfer set and loads within the other (a load's source and destination apart).
  if (o.mode === 'mix' && transferBlocks / contextBlocks < MIX_MIN_SEQUENCES) {
    throw badInput(`--transfer-sequences ${transferBlocks / contextBlocks}: kvbench mix needs ${MIX_MIN_SEQUENCES} or more (half saved, half loaded)`)
  }
  const gpuBlocks = w.batch * contextBlocks + transferBlocks
  if (gpuBlocks > 2 ** 31 - 1) throw badInput(`--batch ${w.batch} and --transfer-sequences ${w.transferSequences ?? w.batch} x --prompt-tokens ${w.promptTokens} need ${gpuBlocks} blocks, too many to index`)
  const strategies = o.strategy === 'all' || o.strategy === 'auto' ? STRATEGIES : [o.strategy]
  const designs: DesignName[] = ['off']
  if (o.connector) {
    if (o.design === 'all' || o.design === 'async') designs.push('async')
    if (o.design === 'all' || o.design === 'blocking') designs.push('blocking')
  }
  const kvHeads = a.kind === 'gqa' ? a.kvHeads : 1
  const headDim = a.kind === 'gqa' ? a.headDim : a.latentDim
  const gpuCacheBytes = gpuBlocks * sizes.layerBlockBytes * profile.layers
  const pinnedBytes = transferBlocks * sizes.layerBlockBytes * profile.layers + 2 * LINK_CEILING_BYTES
  const H = profile.hiddenSize
  const M = profile.mlpSize
  const qkvOut = a.kind === 'gqa' ? (a.queryHeads + 2 * a.kvHeads) * a.headDim : 2 * H
  const weightBytes = 2 * (H * qkvOut + H * H + 3 * H * M) + 2 * w.batch * (Math.max(qkvOut, H) + 2 * M + 2 * H)
  // Chunk descriptors (16 bytes a chunk: fills, checks, the per-step write ring), CUDA context and cuBLAS workspace.
  const descriptorBytes = 16 * sizes.parts * profile.layers * (gpuBlocks + 2 * transferBlocks)
  // mix: every step's KV-write descriptors on the GPU up front (native/core/run/save_steps.h), at most an eighth of the set saved a step.
  const mixDescriptorBytes = o.mode === 'mix' ? 16 * sizes.parts * profile.layers * Math.ceil(transferBlocks / 8) * (w.decodeSteps + o.warmupSteps) : 0
  // mix: a staging ring each way.
  const gpuBytesNeeded = gpuCacheBytes + (o.mode === 'mix' ? 2 : 1) * stagingBytes + weightBytes + descriptorBytes + mixDescriptorBytes + 2 * LINK_CEILING_BYTES + 1024 * MiB
  return {
    plan: {
      device: o.device,
      load: o.mode === 'load',
      mix: o.mode === 'mix',
      strategies,
      designs,
      geometry: {layers: profile.layers, parts: sizes.parts, chunkBytes: sizes.chunkBytes, gpuBlocks, layout: profile.layout === 'layer-major' ? 0 : 1},
      forward: {batch: w.batch, contextBlocks, kvHeads, headDim, queryHeads: a.queryHeads, hiddenSize: H, mlpSize: M, blockSize: profile.blockSize},
      allReduce: o.allReduce === 'nccl' ? {world: 1, rank: 0, uniqueIdHex: null} : null,
      transferBlocks,
      blocksPerJob,
      steps: w.decodeSteps,
      warmupSteps: o.warmupSteps,
      offeredFactor: 1.15,
      referenceSteps: o.referenceSteps ?? (o.connector ? Math.min(w.decodeSteps, REFERENCE_STEPS) : 0),
      stagingBytes,
      stagingSlots: slots,
      stagingSlotBytes: slotBytes,
      copyCtas: o.copyCtas,
      mappedCtas: o.mappedCtas,
      ceiling: planLinkCeilings(o.device, o.verify),
      verify: o.verify,
      fault: o.fault,
      prefixHitRate: w.prefixHitRate,
      pickBest: o.strategy === 'auto',
      streamingCopies: o.streamingCopies,
      stagingL2: staging.l2,
      batchSharePct: o.batchSharePct,
      store,
      storeQueueDepth: o.storeQueue,
      storePipeline: o.pipeline,
      traceSteps: o.traceSteps ?? 0,
    },
    sizes,
    strategyChoice: o.strategy,
    designs,
    contextBlocks,
    loadBlocksPerRequest: Math.max(1, Math.round(blocksPerJob * w.prefixHitRate)),
    gpuCacheBytes,
    pinnedBytes,
    gpuBytesNeeded,
    stagingNote: strategies.includes('staged') ? staging.note : null,
  }
}

export function memAvailableBytes(meminfo = readText('/proc/meminfo')): number | null {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo ?? '')
  return m ? Number(m[1]) * 1024 : null
}


/** Needed versus available, before allocating anything. */
/** Each GPU the run uses holds the plan's device memory, and the host one pool a GPU (--gpus: several). */
export function checkFits(p: WorkloadPlan, gpus: ReadonlyArray<{device: number; freeBytes: number}>, hostAvailable: number | null, memlock: number | null): void {
  const hint = 'lower --batch or --prompt-tokens'
  for (const gpu of gpus) {
    if (p.gpuBytesNeeded > gpu.freeBytes) {
      throw badInput(`GPU ${gpu.device} needs ${formatBytes(p.gpuBytesNeeded)} (KV cache ${formatBytes(p.gpuCacheBytes)}) but has ${formatBytes(gpu.freeBytes)} free: ${hint}`, 'TOO_BIG')
    }
  }
  const pinned = p.pinnedBytes * gpus.length
  const pools = gpus.length === 1 ? 'the host pool needs' : `the host pools of ${gpus.length} GPUs need`
  if (hostAvailable !== null && pinned > hostAvailable * 0.9) {
    throw badInput(`${pools} ${formatBytes(pinned)} of pinned memory but the host has ${formatBytes(hostAvailable)} available: ${hint}`, 'TOO_BIG')
  }
  if (memlock !== null && pinned > memlock) {
    throw badInput(
      `locked-memory limit (ulimit -l) is ${formatBytes(memlock)} but the run pins ${formatBytes(pinned)}: raise it with \`ulimit -l unlimited\` (containers: --ulimit memlock=-1) or ${hint}`,
      'MEMLOCK_LIMIT',
    )
  }
}
