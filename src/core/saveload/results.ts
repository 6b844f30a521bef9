// What a save or load run reports (schemas/transfer.schema.json): the figures of each strategy
// alone, each design beside the forward, the store alone and the link reference.
import type {Gate} from '../gates.js'
import type {TransferMode, WorkloadPlan} from '../plan.js'
import type {Profile} from '../profile.js'
import type {HistogramBin, Summary} from '../stats.js'
import type {StrategyName} from '../../native/index.js'
import type {GpuWorker, TogetherFigures} from './together.js'

export interface DirectionFigures {
  /** The whole pass: bytes over first copy to last. */
  gbps: number
  pctOfCeiling: number
  /** Each timed group of the pass; its median is the robust figure (the ceiling is a median too). */
  samplesGBps: Summary | null
  medianPctOfCeiling: number | null
  ms: number
  enqueueHostMs: number
  verified: boolean | null
  mismatches: number
}

export interface StrategyFigures {
  strategy: StrategyName
  bytes: number
  save: DirectionFigures
  load: DirectionFigures
}

export interface HookFigures {
  calls: number
  us: Summary
  histogram: HistogramBin[]
}

export interface DesignFigures {
  design: 'off' | 'async' | 'blocking'
  /** kvbench mix only: the row of both directions together, or one direction's share of the same steps. Absent before 1.10.0 and in save/load. */
  direction?: 'both' | 'save' | 'load'
  /** kvbench mix, directions on different strategies: the together row's is null (each direction's row names its own). */
  strategy: StrategyName | null
  steps: number
  stepGpuMs: Summary | null
  stepWallMs: Summary | null
  /** Each measured step's GPU time in order (the connector-off row: the baseline before the designs, then the one after). Absent before 1.8.0. */
  stepsGpuMs?: number[]
  /** Median GPU step time over the connector-off baseline, in percent. */
  slowdownPct: number | null
  /** Median wall step time (host blocking included) over the baseline, in percent. */
  wallSlowdownPct: number | null
  transfer: {
    gbps: number
    pctOfCeiling: number
    bytes: number
    windowMs: number
    offeredBytesPerStep: number
    latencyMs: Summary | null
    jobsOffered: number
    jobsDone: number
    jobsSkipped: number
  } | null
  hooks: Record<string, HookFigures>
  blockedPerStepUs: Summary | null
  /** The async connector's thread: the share of its life it spent working (expanding, enqueuing, taking completions), %. Absent before 1.8.0. */
  connectorBusyPct?: number | null
  requestsScheduled: number | null
  requestsNotReadySteps: number | null
  verified: boolean | null
  mismatches: number
  chunksChecked: number
  nonFiniteOutputs: number
  /** The forward's all-reduce in these steps (--all-reduce nccl); null without it. Absent before 1.11.0. */
  allReduce?: AllReduceFigures | null
  /** What the store did beside this design (--backend other than host). */
  store: DesignStoreFigures | null
}

/**
 * The forward's tensor-parallel all-reduce (NCCL) in one phase: two a layer, each also summing a
 * probe the compute stream wrote just before it, checked on the same stream after it.
 */
export interface AllReduceFigures {
  /** GPU ms of a step's all-reduces, each from the end of the work before it to its own end (a rank waiting for the others counts). */
  stepMs: Summary | null
  calls: number
  /** Probe sums that came out wrong: an all-reduce that did not wait for the compute stream's writes. */
  mismatches: number
}

export interface DesignStoreFigures {
  /** Bytes that reached the store (save) or came back from it (load), over the design's transfer window. */
  gbps: number
  bytes: number
  /** queued -> done per store request (put for save, get for load) */
  latencyMs: Summary | null
  /** Requests queued or running at the end of each measured step, and the bound. */
  queueDepth: {p50: number; max: number; limit: number} | null
  puts: {done: number; failed: number; droppedQueueFull: number; savesSkippedStoreBusy: number}
  gets: {done: number; failed: number}
  lookups: {failed: number; refusedQueueFull: number}
  requestsFailed: number
  /** save: records read back after the run and compared; null when not verified */
  recordsChecked: number
  recordsUnreadable: number
  verified: boolean | null
  mismatches: number
  firstError: string | null
}

export interface BackendFigures {
  /** --backend as given, the password masked */
  spec: string
  store: string
  direct: boolean
  note: string | null
  /** The store alone, once per run: every pool extent put, then read back (I/O threads, no GPU work). */
  alone: {
    records: number
    bytes: number
    putGBps: number
    getGBps: number
    putFailed: number
    getFailed: number
    verified: boolean | null
    mismatches: number
    firstError: string | null
  } | null
}

export interface TransferResults {
  mode: TransferMode
  partial: boolean
  /** Store requests failed (server gone, disk full, ...): partial, and the exit code says so. */
  storeFailed: boolean
  verify: boolean
  profile: Profile
  sizes: WorkloadPlan['sizes']
  workload: {
    device: number
    steps: number
    warmupSteps: number
    contextBlocksPerSequence: number
    transferBlocks: number
    blocksPerJob: number
    loadBlocksPerRequest: number
    gpuCacheBytes: number
    pinnedBytes: number
    stagingBytes: number
    /** --batch-share: % of each staged job's blocks moved as batch copies beside the ring */
    batchSharePct: number
    /** The staged ring ran in an L2 persisting window (--staging-l2 persist, or auto where it fit). */
    stagingInL2: boolean
    /** CTAs of each gather/scatter launch; 0: one per chunk. */
    copyCtas: number
  }
  /** bothGBps: both directions at once, added (absent before 1.10.0); a mix's together rows read against it, each direction against half of it. */
  ceilings: {h2dGBps: number; d2hGBps: number; bothGBps?: number}
  /** allReduce: the forward's all-reduce (--all-reduce nccl): NCCL's library and version, the world and this rank; null without it (absent before 1.11.0). */
  forward: {gemmEngine: string; stepMs: Summary | null; tflops: number | null; hbmGBps: number | null; allReduce?: {library: string; world: number; rank: number} | null}
  strategies: StrategyFigures[]
  best: {save: StrategyName | null; load: StrategyName | null}
  designs: DesignFigures[]
  /** null with --backend host: the pinned pool is the store. */
  backend: BackendFigures | null
  /** The host's own noise while the forward ran alone; null when no connector-off baseline ran. */
  hostNoise: HostNoiseFigures | null
  /** The forward with a contiguous copy stream beside it instead of a connector; null when not run. */
  reference: ReferenceFigures | null
  /** --min-pct-of-ceiling, --max-slowdown, --max-blocked-p99-us, each figure they checked */
  gates: Gate[]
  /** --gpus: every GPU's worker, its figures (each in this shape) or its failure; the figures above are the first GPU's whose worker ended. Null without --gpus (absent before 1.12.0). */
  workers?: GpuWorker[] | null
  /** --gpus: what the GPUs did at once. Null without --gpus (absent before 1.12.0). */
  together?: TogetherFigures | null
}

/**
 * The link reference: back-to-back contiguous copies of `chunkBytes` on a stream of their own
 * while the forward runs. What they move is the most any connector can move here beside the
 * forward, and their slowdown the least a connector moving that much can cost.
 */
export interface ReferenceFigures {
  steps: number
  chunkBytes: number
  stepGpuMs: Summary | null
  /** Each measured step's GPU time in order. Absent before 1.8.0. */
  stepsGpuMs?: number[]
  slowdownPct: number | null
  wallSlowdownPct: number | null
  gbps: number
  pctOfCeiling: number
  bytes: number
  windowMs: number
  nonFiniteOutputs: number
  /** The forward's all-reduce in the reference's steps; null without it. Absent before 1.11.0. */
  allReduce?: AllReduceFigures | null
  /** kvbench mix: a contiguous stream each way at once, and what each moved (against half the both-ways ceiling). Absent otherwise. */
  directions?: {save: ReferenceDirection; load: ReferenceDirection}
}

export interface ReferenceDirection {
  gbps: number
  pctOfCeiling: number
  bytes: number
}

export interface HostNoiseFigures {
  probeSeconds: number
  repUs: number
  stallsPerSecond: {over10us: number; over20us: number; over50us: number}
  /** % of repetitions that took over twice repUs: the thread ran at under half speed */
  slowRepsPct: number | null
  longestUs: number
}
