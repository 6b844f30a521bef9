// Typed view of native/addon/run_save_load.cc (one save, load or mixed run beside the synthetic forward).
import {callAsync} from './load.js'
import type {MeasurePlan} from './measure-ceilings.js'
import type {StoreSpec} from './store-handle.js'

/** Strategies, designs and faults cross the boundary by name; the native core maps each name to its enum
 * (native/core/copy/strategy.h, run/save_load.h) and refuses one it does not know. */
export const STRATEGY_NAMES = ['per-chunk', 'batch', 'mapped-kernel', 'staged'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]
export type DesignName = 'off' | 'async' | 'blocking'
export const FAULT_NAMES = ['none', 'corrupt-host', 'drop-event-wait', 'corrupt-store', 'allreduce-unordered', 'gpu-worker-fails'] as const
export type FaultName = (typeof FAULT_NAMES)[number]
/** Where the staged ring lives; native/core/run/save_load.h StagingL2 (passed by name). */
export const STAGING_L2_MODES = ['auto', 'persist', 'normal'] as const
export type StagingL2 = (typeof STAGING_L2_MODES)[number]

export interface SaveLoadPlan {
  device: number
  load: boolean
  /** Both directions each step (load false): saves in one half of the transfer set, loads in the other. */
  mix: boolean
  strategies: StrategyName[]
  designs: DesignName[]
  geometry: {layers: number; parts: number; chunkBytes: number; gpuBlocks: number; layout: number}
  forward: {batch: number; contextBlocks: number; kvHeads: number; headDim: number; queryHeads: number; hiddenSize: number; mlpSize: number; blockSize: number}
  /** The forward's tensor-parallel all-reduce through NCCL, after each row-parallel product (two a layer); null: none.
   * uniqueIdHex: rank 0's communicator id, which every rank is given; null with a world of one (made natively). */
  allReduce: {world: number; rank: number; uniqueIdHex: string | null} | null
  transferBlocks: number
  blocksPerJob: number
  steps: number
  warmupSteps: number
  offeredFactor: number
  /** measured steps of the link reference (a contiguous copy stream beside the forward); 0: not run */
  referenceSteps: number
  stagingBytes: number
  /** staged: the ring's slots and the bytes of each (src/core/plan.ts decides them) */
  stagingSlots: number
  stagingSlotBytes: number
  copyCtas: number
  mappedCtas: number
  /** the link's ceilings, read before and after the strategies (src/core/ceilings.ts) */
  ceiling: MeasurePlan
  verify: boolean
  fault: FaultName
  prefixHitRate: number
  pickBest: boolean
  streamingCopies: boolean
  /** staged: the staging ring in HBM, in an L2 persisting window, or in L2 where the GPU's set-aside holds it */
  stagingL2: StagingL2
  /** staged: share (%) of each part's blocks moved as batch copies beside the ring */
  batchSharePct: number
  /** null: the pinned pool is the store (--backend host). */
  store: StoreSpec | null
  storeQueueDepth: number
  storePipeline: number
  /** --trace: the first measured steps of each design timed for a timeline; 0: none */
  traceSteps: number
}

export interface NativeStrategyAlone {
  strategy: StrategyName
  bytes: number
  saveMs: number
  loadMs: number
  saveEnqueueMs: number
  loadEnqueueMs: number
  /** The pass in groups of jobs, each timed by CUDA events (sampleBytes: each group's size). */
  saveSampleMs: number[]
  loadSampleMs: number[]
  sampleBytes: number[]
  saveMismatches: number
  loadMismatches: number
  chunksChecked: number
}

export interface NativeDesign {
  design: DesignName
  /** A mixed run whose directions ran different strategies: save's/load's. */
  strategy: StrategyName | '-' | `${StrategyName}/${StrategyName}`
  stepGpuMs: number[]
  stepWallMs: number[]
  hookUs: Record<string, number[]>
  transferLatencyMs: number[]
  bytesMoved: number
  windowMs: number
  jobsOffered: number
  jobsDone: number
  jobsSkipped: number
  mismatches: number
  chunksChecked: number
  nonFinite: number
  requestsScheduled: number
  requestsNotReadySteps: number
  offeredBytesPerStep: number
  stepsRun: number
  /** The async connector's thread over its life: time doing work, and alive (0 without one). */
  connectorBusyUs: number
  connectorAliveUs: number
  /** With the all-reduce: each measured step's all-reduce GPU ms, the phase's calls, and the probe sums that came out wrong. */
  allReduceMs: number[]
  allReduceCalls: number
  allReduceMismatches: number
  store: NativeDesignStore | null
  /** --trace (plan.traceSteps > 0); null otherwise */
  trace: NativeDesignTrace | null
  /** A mixed run's connector designs: the save side, then the load side (this one: both together); else empty. */
  directions: NativeDesign[]
}

/** native/core/run/trace.h: host times are the native steady clock's µs; GPU times placed on it. */
export interface NativeDesignTrace {
  firstStep: number
  steps: number
  /** the GPU-to-host placement's error bound, µs */
  alignErrorUs: number
  hookNames: string[]
  hooks: Array<{step: number; hook: number; startUs: number; durUs: number}>
  /** kvWrittenUs: a save's KV write of each layer done (what its copies wait for); empty for loads */
  stepsTraced: Array<{step: number; wallStartUs: number; wallEndUs: number; gpuStartUs: number; gpuEndUs: number; layerEndUs: number[]; kvWrittenUs: number[]}>
  /** false: the design's copies were not timed (only the async connector's are) */
  copiesTraced: boolean
  copies: Array<{job: number; step: number; layer: number; bytes: number; enqueueUs: number; enqueuedUs: number; gpuStartUs: number; gpuEndUs: number}>
  copiesDropped: number
  /** --backend other than host: the store requests handled during the traced steps */
  storeCalls: Array<{op: 'put' | 'get' | 'lookup'; thread: number; bytes: number; queuedUs: number; startUs: number; doneUs: number; ok: boolean}>
}

export interface NativeDesignStore {
  putsDone: number
  putsFailed: number
  putsDropped: number
  savesSkippedBusy: number
  getsDone: number
  getsFailed: number
  lookupsFailed: number
  lookupsRefused: number
  requestsFailed: number
  bytesPut: number
  bytesGot: number
  putMs: number[]
  getMs: number[]
  queueDepth: number[]
  recordsChecked: number
  recordsUnreadable: number
  mismatches: number
  verifyError: string | null
  firstError: string | null
}

export interface NativeStoreAlone {
  bytes: number
  putMs: number
  getMs: number
  records: number
  putFailed: number
  getFailed: number
  mismatches: number
  chunksChecked: number
  firstError: string | null
}

export interface NativeSaveLoadResult {
  ceilingH2dGBps: number
  ceilingD2hGBps: number
  /** Both directions at once, the two added (bidir_pinned). */
  ceilingBothGBps: number
  gemmEngine: string
  /** With the all-reduce: NCCL's library and version. */
  allReduceLibrary: string | null
  flopsPerStep: number
  hbmBytesPerStep: number
  cancelled: boolean
  /** The strategy each direction's table marks, by auto's rule (native/core/run/pick.h); null: none verified.
   * With --strategy auto (plan.pickBest), the run's direction's is the one its designs ran with. */
  best: {save: StrategyName | null; load: StrategyName | null}
  notes: string[]
  /** each strategy alone */
  strategies: NativeStrategyAlone[]
  /** each design beside the forward, in the order they ran */
  designs: NativeDesign[]
  store: string | null
  storeNote: string | null
  storeDirect: boolean
  /** The staged ring ran in an L2 persisting window. */
  stagingInL2: boolean
  /** the store alone (--backend other than host) */
  storeAlone: NativeStoreAlone | null
  /** Probed on a thread of its own while the forward ran alone; null when no baseline ran. */
  hostNoise: NativeHostNoise | null
  /** The forward with a contiguous copy stream beside it instead of a connector; null when not run. */
  reference: NativeLinkReference | null
}

export interface NativeLinkReference {
  /** a connector-off phase (design 'reference'): its step times and measured window */
  steps: NativeDesign
  /** copied during the measured steps */
  bytes: number
  /** of which each direction (a mixed run copies both ways at once) */
  saveBytes: number
  loadBytes: number
  chunkBytes: number
}

export interface NativeHostNoise {
  seconds: number
  reps: number
  repUs: number
  over10us: number
  over20us: number
  over50us: number
  /** repetitions over twice repUs */
  slowReps: number
  maxUs: number
}

export const runSaveLoad = (plan: SaveLoadPlan): Promise<NativeSaveLoadResult> => callAsync((a) => a.runSaveLoad(plan))

/** --gpus: one GPU's worker of native/addon/run_save_load_together.cc. */
export interface NativeGpuWorker {
  device: number
  /** null: the worker failed (code and error say how) */
  result: NativeSaveLoadResult | null
  code: string | null
  error: string | null
  /** left waiting in an all-reduce for a failed GPU until its communicator was aborted */
  stuck: boolean
  /** Its thread's CPUs and memory node as the kernel gave them; null when no placement was asked. */
  placement: {cpusAllowed: number; memoryBound: boolean; note: string | null} | null
}

/** Where one GPU's worker thread runs (cpus) and allocates (numaNode); src/core/host-placement.ts decides. */
export interface NativeHostPlacement {
  numaNode: number | null
  cpus: number[]
}

/** The same plan on every GPU of `devices` at once, a worker thread each (plan.device is ignored; with the all-reduce, one communicator across them). */
export const runSaveLoadTogether = (plan: SaveLoadPlan, devices: number[], placements: NativeHostPlacement[] | null): Promise<{workers: NativeGpuWorker[]}> =>
  callAsync((a) => a.runSaveLoadTogether({plan, devices, placements}))
