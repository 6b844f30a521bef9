// The only module that loads the native addon. It explains every way loading can
// fail, gives the addon's functions TypeScript types, and turns native error codes
// into KvErrors with the project's exit codes.
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {EXIT_BAD_INPUT, EXIT_RUN_FAILED, KvError} from './core/errors.js'

export interface PcieLink {
  currentGen: number | null
  maxGen: number | null
  currentWidth: number | null
  maxWidth: number | null
  source: string | null
}

export interface NativeGpu {
  index: number
  name: string
  uuid: string
  busId: string
  computeCapability: string
  smCount: number
  memoryBytes: number
  l2Bytes: number
  memoryBusWidthBits: number
  copyEngines: number
  canMapHostMemory: boolean
  pcie: PcieLink
}

export interface NativeCudaInfo {
  builtWithCuda: boolean
  gencodes: string[]
  runtimeVersion: number
  driverVersion: number
  driverRelease: string | null
  nvml: string
  errorName: string | null
  errorMessage: string | null
  gpus: NativeGpu[]
}

export interface MeasurePlan {
  device: number
  bytes: number
  pageableBytes: number
  iterations: number
  pageableIterations: number
  warmup: number
  smallBytes: number
  smallIterations: number
  verify: boolean
}

export interface NativeCopyMeasurement {
  id: string
  label: string
  bytesPerSample: number
  timer: 'cuda-events' | 'host-wall'
  samplesMs: number[]
  verified: boolean
  mismatches: number
}

/** Strategies, designs and faults cross the boundary by name; the native core maps each name to its enum
 * (native/core/copy/strategy.h, run/save_load.h) and refuses one it does not know. */
export const STRATEGY_NAMES = ['per-chunk', 'batch', 'mapped-kernel', 'staged'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]
export type DesignName = 'off' | 'async' | 'blocking'
export const FAULT_NAMES = ['none', 'corrupt-host', 'drop-event-wait', 'corrupt-store'] as const
export type FaultName = (typeof FAULT_NAMES)[number]
/** Where the staged ring lives; native/core/run/save_load.h StagingL2 (passed by name). */
export type StagingL2 = 'normal' | 'persist' | 'auto'

export interface SaveLoadPlan {
  device: number
  load: boolean
  strategies: StrategyName[]
  designs: DesignName[]
  geometry: {layers: number; parts: number; chunkBytes: number; gpuBlocks: number; layout: number}
  forward: {batch: number; contextBlocks: number; kvHeads: number; headDim: number; queryHeads: number; hiddenSize: number; mlpSize: number; blockSize: number}
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
}

export interface NativeTransfer {
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

export interface NativeConcurrent {
  design: DesignName
  strategy: StrategyName | '-'
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
  store: NativeConcurrentStore | null
}

export interface NativeConcurrentStore {
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

export interface NativeStoreLeg {
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
  gemmEngine: string
  flopsPerStep: number
  hbmBytesPerStep: number
  cancelled: boolean
  /** --strategy auto's choice for the run's direction, set when auto narrowed the designs to it. */
  picked: StrategyName | null
  /** The strategy each direction's table marks, by auto's rule (native/core/run/pick.h); null: none verified. */
  best: {save: StrategyName | null; load: StrategyName | null}
  notes: string[]
  transfers: NativeTransfer[]
  concurrent: NativeConcurrent[]
  store: string | null
  storeNote: string | null
  storeDirect: boolean
  /** The staged ring ran in an L2 persisting window. */
  stagingInL2: boolean
  storeLeg: NativeStoreLeg | null
  /** Probed on a thread of its own while the forward ran alone; null when no baseline ran. */
  hostNoise: NativeHostNoise | null
  /** The forward with a contiguous copy stream beside it instead of a connector; null when not run. */
  reference: NativeLinkReference | null
}

export interface NativeLinkReference {
  /** a connector-off phase (design 'reference'): its step times and measured window */
  steps: NativeConcurrent
  /** copied during the measured steps */
  bytes: number
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

export interface RedisTarget {
  host: string
  port: number
  user: string
  password: string
  db: number
  /** rediss:// */
  tls: boolean
  /** CA certificates to trust (rediss://...?cacert=PATH); empty: the system's */
  caFile: string
}

/** Which store a run talks to (native/core/backends/open_store.h). */
export interface StoreSpec {
  /** host, file:DIR, redis (then `redis` says where) or plugin:PATH.so[?config] */
  backend: string
  redis?: RedisTarget
  /** namespace of this run's keys and files */
  run: string
  /** I/O threads, and Redis connections (one each) */
  connections: number
  fsync: 'never' | 'always'
  direct: boolean
}

export interface BackendBenchPlan {
  store: StoreSpec
  sizes: number[]
  ops: number[]
  /** records per pipelined store call */
  pipeline: number
  verify: boolean
  corruptOne: boolean
}

export interface NativeBackendSize {
  bytes: number
  ops: number
  putUs: number[]
  getUs: number[]
  putWallMs: number
  getWallMs: number
  putFailed: number
  getMissing: number
  getCorrupt: number
  mismatches: number
  firstError: string | null
}

export interface NativeBackendBench {
  store: string
  note: string | null
  direct: boolean
  /** the sizes measured whole before a cancel (cancelRun) */
  sizes: NativeBackendSize[]
  cancelled: boolean
}

export interface NativeProbe {
  id: string
  outcome: 'pass' | 'leak' | 'hazard' | 'skip' | 'error'
  evidence: string
}

export interface StoreHandle {
  put(key: number, bytes: number): void
  lookup(key: number): boolean
  lookupNonBlocking(key: number): 'pending' | 'hit' | 'miss' | 'error'
  close(): void
}

interface Addon {
  abiVersion: number
  StoreHandle: new (spec: StoreSpec) => StoreHandle
  cudaInfo(): NativeCudaInfo
  memInfo(device: number): {freeBytes: number; totalBytes: number}
  measureCeilings(plan: MeasurePlan): Promise<{copies: NativeCopyMeasurement[]}>
  runSaveLoad(plan: SaveLoadPlan): Promise<NativeSaveLoadResult>
  runStreamProbes(device: number): Promise<NativeProbe[]>
  runBackendBench(plan: BackendBenchPlan): Promise<NativeBackendBench>
  cancelRun(): void
  /** Store operations the running backend bench has done (puts and gets). */
  runProgress(): number
}

export const NO_CUDA_MESSAGE = 'kvbench was built without CUDA: install the CUDA toolkit and run npm rebuild'
const ADDON_ABI = 13

/** Where the addon may be: an explicit override, next to a bundled build, or node-gyp's output. */
export function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url))
  const list = [join(here, 'kvbench.node'), resolve(here, '..', 'build', 'Release', 'kvbench.node')]
  return process.env.KVBENCH_ADDON ? [resolve(process.env.KVBENCH_ADDON)] : list
}

let cached: Addon | undefined

export function loadAddon(): Addon {
  if (cached) return cached
  const candidates = addonCandidates()
  const found = candidates.find((p) => existsSync(p))
  if (!found) {
    throw new KvError(
      'ADDON_MISSING',
      `the native addon is not built (looked for ${candidates.join(', ')}): run npm rebuild`,
      EXIT_BAD_INPUT,
    )
  }
  let addon: Addon
  try {
    addon = createRequire(import.meta.url)(found) as Addon
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]
    throw new KvError('ADDON_LOAD_FAILED', `the native addon at ${found} failed to load: ${reason}; run npm rebuild`, EXIT_BAD_INPUT)
  }
  if (addon.abiVersion !== ADDON_ABI) {
    throw new KvError(
      'ADDON_STALE',
      `the native addon at ${found} has ABI ${addon.abiVersion}, this kvbench needs ${ADDON_ABI}: run npm rebuild`,
      EXIT_BAD_INPUT,
    )
  }
  cached = addon
  return addon
}

/** Native rejections carry `.code`; map them to user-facing errors and exit codes. */
export function fromNative(error: unknown): KvError {
  if (error instanceof KvError) return error
  const e = error as {code?: string; message?: string}
  const message = e?.message ?? String(error)
  switch (e?.code) {
    case 'NO_CUDA':
    case 'NO_DEVICE':
    case 'BAD_INPUT':
    case 'STORE_CONFIG':
      return new KvError(e.code, message, EXIT_BAD_INPUT)
    case 'CUDA_ERROR':
    case 'VERIFY_FAILED':
      return new KvError(e.code, message, EXIT_RUN_FAILED)
    default:
      return new KvError(e?.code ?? 'INTERNAL', message, EXIT_RUN_FAILED)
  }
}

/** Every addon call goes through here: native failures become KvErrors with exit codes. */
function call<T>(fn: (addon: Addon) => T): T {
  try {
    return fn(loadAddon())
  } catch (error) {
    throw fromNative(error)
  }
}

async function callAsync<T>(fn: (addon: Addon) => Promise<T>): Promise<T> {
  try {
    return await fn(loadAddon())
  } catch (error) {
    throw fromNative(error)
  }
}

export const cudaInfo = (): NativeCudaInfo => call((a) => a.cudaInfo())
export const memInfo = (device: number): {freeBytes: number; totalBytes: number} => call((a) => a.memInfo(device))
export const measureCeilings = async (plan: MeasurePlan): Promise<NativeCopyMeasurement[]> =>
  (await callAsync((a) => a.measureCeilings(plan))).copies
export const runSaveLoad = (plan: SaveLoadPlan): Promise<NativeSaveLoadResult> => callAsync((a) => a.runSaveLoad(plan))
export const runStreamProbes = (device: number): Promise<NativeProbe[]> => callAsync((a) => a.runStreamProbes(device))
export const runBackendBench = (plan: BackendBenchPlan): Promise<NativeBackendBench> => callAsync((a) => a.runBackendBench(plan))

/** Asks a running save/load to stop after its current step (Ctrl-C). */
export function runProgress(): number {
  return cached?.runProgress() ?? 0
}

export function cancelRun(): void {
  cached?.cancelRun()
}

/** Opens a store for the lookup measurement; close() removes what it stored. */
export const openStoreHandle = (spec: StoreSpec): StoreHandle => call((a) => new a.StoreHandle(spec))
