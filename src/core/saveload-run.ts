// `kvbench save` / `kvbench load`: profile -> plan -> checks -> native run -> statistics.
// Commands call runTransferBench; it knows nothing of oclif.
import {readHost, type Environment} from './environment.js'
import {checkDeviceFlag, gpuPreflight} from './gpu-preflight.js'
import {badInput} from './errors.js'
import {withSignals, type StopSignal} from './interrupt.js'
import {evaluateGates, transferGateSpecs, type Gate, type TransferGateFlags} from './gates.js'
import {transferMetrics} from './metrics/transfer-metrics.js'
import {checkFits, memAvailableBytes, planWorkload, type RunOptions, type WorkloadPlan} from './plan.js'
import {applyOverrides, loadProfile, type Profile, type ProfileOverrides} from './profile.js'
import {gbPerSecond, logHistogram, summarize, type HistogramBin, type Summary} from './stats.js'
import {maskBackend} from './store-spec.js'
import {cancelRun, memInfo, openStoreHandle, runSaveLoad, type NativeConcurrent, type NativeSaveLoadResult, type NativeTransfer, type StrategyName} from '../native.js'

export interface TransferRequest extends RunOptions {
  profile: string
  overrides: ProfileOverrides
  /** Thresholds checked when the run ends (a failed one fails the run). */
  gates: TransferGateFlags
  onProgress?: (message: string) => void
}

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
  strategy: StrategyName | null
  steps: number
  stepGpuMs: Summary | null
  stepWallMs: Summary | null
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
  requestsScheduled: number | null
  requestsNotReadySteps: number | null
  verified: boolean | null
  mismatches: number
  chunksChecked: number
  nonFiniteOutputs: number
  /** What the store did beside this design (--backend other than host). */
  store: DesignStoreFigures | null
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
  mode: 'save' | 'load'
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
  ceilings: {h2dGBps: number; d2hGBps: number}
  forward: {gemmEngine: string; stepMs: Summary | null; tflops: number | null; hbmGBps: number | null}
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
  slowdownPct: number | null
  wallSlowdownPct: number | null
  gbps: number
  pctOfCeiling: number
  bytes: number
  windowMs: number
  nonFiniteOutputs: number
}

export function referenceFigures(
  ref: NativeSaveLoadResult['reference'] | undefined,
  ceiling: number,
  baseline: {gpu: number; wall: number} | null,
): ReferenceFigures | null {
  if (!ref || ref.steps.stepsRun === 0) return null
  const gpu = summarizeOrNull(ref.steps.stepGpuMs)
  const wall = summarizeOrNull(ref.steps.stepWallMs)
  const gbps = ref.steps.windowMs > 0 ? gbPerSecond(ref.bytes, ref.steps.windowMs) : 0
  return {
    steps: ref.steps.stepsRun,
    chunkBytes: ref.chunkBytes,
    stepGpuMs: gpu,
    ...slowdowns(gpu, wall, baseline),
    gbps,
    pctOfCeiling: (100 * gbps) / ceiling,
    bytes: ref.bytes,
    windowMs: ref.steps.windowMs,
    nonFiniteOutputs: ref.steps.nonFinite,
  }
}

export interface HostNoiseFigures {
  probeSeconds: number
  repUs: number
  stallsPerSecond: {over10us: number; over20us: number; over50us: number}
  /** % of repetitions that took over twice repUs: the thread ran at under half speed */
  slowRepsPct: number | null
  longestUs: number
}

export function hostNoiseFigures(h: NativeSaveLoadResult['hostNoise'] | undefined): HostNoiseFigures | null {
  if (!h || !(h.seconds > 0)) return null
  const perSecond = (n: number) => n / h.seconds
  return {
    probeSeconds: h.seconds,
    repUs: h.repUs,
    stallsPerSecond: {over10us: perSecond(h.over10us), over20us: perSecond(h.over20us), over50us: perSecond(h.over50us)},
    slowRepsPct: h.reps > 0 ? (100 * h.slowReps) / h.reps : null,
    longestUs: h.maxUs,
  }
}

export interface TransferOutcome {
  environment: Environment
  results: TransferResults
  notes: string[]
  /** The signal that stopped the run early, if one did. */
  signal: StopSignal | null
}

function direction(t: NativeTransfer, dir: 'save' | 'load', ceiling: number, verify: boolean): DirectionFigures {
  const ms = dir === 'save' ? t.saveMs : t.loadMs
  const sampleMs = dir === 'save' ? t.saveSampleMs : t.loadSampleMs
  const mismatches = dir === 'save' ? t.saveMismatches : t.loadMismatches
  const gbps = gbPerSecond(t.bytes, ms)
  const rates = sampleMs.map((m, i) => gbPerSecond(t.sampleBytes[i], m)).filter((v) => Number.isFinite(v) && v > 0)
  const samplesGBps = rates.length > 0 ? summarize(rates) : null
  return {
    gbps,
    pctOfCeiling: (100 * gbps) / ceiling,
    samplesGBps,
    medianPctOfCeiling: samplesGBps ? (100 * samplesGBps.p50) / ceiling : null,
    ms,
    enqueueHostMs: dir === 'save' ? t.saveEnqueueMs : t.loadEnqueueMs,
    verified: verify ? mismatches === 0 : null,
    mismatches,
  }
}

/** Median GPU and wall step time over the connector-off baseline's, in percent. */
function slowdowns(gpu: Summary | null, wall: Summary | null, baseline: {gpu: number; wall: number} | null) {
  return {
    slowdownPct: gpu && baseline ? (100 * (gpu.p50 - baseline.gpu)) / baseline.gpu : null,
    wallSlowdownPct: wall && baseline ? (100 * (wall.p50 - baseline.wall)) / baseline.wall : null,
  }
}

function summarizeOrNull(v: number[]): Summary | null {
  return v.length > 0 ? summarize(v) : null
}

function designFigures(
  c: NativeConcurrent,
  ceiling: number,
  baseline: {gpu: number; wall: number} | null,
  verify: boolean,
  mode: 'save' | 'load',
  queueLimit: number,
): DesignFigures {
  const gpu = summarizeOrNull(c.stepGpuMs)
  const wall = summarizeOrNull(c.stepWallMs)
  const hooks: Record<string, HookFigures> = {}
  for (const [name, us] of Object.entries(c.hookUs)) {
    if (name === 'blocked_per_step' || us.length === 0) continue
    hooks[name] = {calls: us.length, us: summarize(us), histogram: logHistogram(us, 8)}
  }
  const on = c.design !== 'off'
  const gbps = on && c.windowMs > 0 ? gbPerSecond(c.bytesMoved, c.windowMs) : 0
  return {
    design: c.design,
    strategy: on ? (c.strategy as StrategyName) : null,
    steps: c.stepsRun,
    stepGpuMs: gpu,
    stepWallMs: wall,
    ...slowdowns(gpu, wall, baseline),
    transfer: on
      ? {
          gbps,
          pctOfCeiling: (100 * gbps) / ceiling,
          bytes: c.bytesMoved,
          windowMs: c.windowMs,
          offeredBytesPerStep: c.offeredBytesPerStep,
          latencyMs: summarizeOrNull(c.transferLatencyMs),
          jobsOffered: c.jobsOffered,
          jobsDone: c.jobsDone,
          jobsSkipped: c.jobsSkipped,
        }
      : null,
    hooks,
    blockedPerStepUs: summarizeOrNull(c.hookUs.blocked_per_step ?? []),
    requestsScheduled: on ? c.requestsScheduled : null,
    requestsNotReadySteps: on ? c.requestsNotReadySteps : null,
    verified: on && verify ? c.mismatches === 0 : null,
    mismatches: c.mismatches,
    chunksChecked: c.chunksChecked,
    nonFiniteOutputs: c.nonFinite,
    store: c.store && on ? storeFigures(c, mode, queueLimit, verify) : null,
  }
}

function storeFigures(c: NativeConcurrent, mode: 'save' | 'load', queueLimit: number, verify: boolean): DesignStoreFigures {
  const s = c.store!
  const bytes = mode === 'save' ? s.bytesPut : s.bytesGot
  const depth = s.queueDepth.length > 0 ? summarize(s.queueDepth) : null
  const bad = s.mismatches + s.recordsUnreadable
  return {
    gbps: c.windowMs > 0 ? gbPerSecond(bytes, c.windowMs) : 0,
    bytes,
    latencyMs: summarizeOrNull(mode === 'save' ? s.putMs : s.getMs),
    queueDepth: depth ? {p50: depth.p50, max: depth.max, limit: queueLimit} : null,
    puts: {done: s.putsDone, failed: s.putsFailed, droppedQueueFull: s.putsDropped, savesSkippedStoreBusy: s.savesSkippedBusy},
    gets: {done: s.getsDone, failed: s.getsFailed},
    lookups: {failed: s.lookupsFailed, refusedQueueFull: s.lookupsRefused},
    requestsFailed: s.requestsFailed,
    recordsChecked: s.recordsChecked,
    recordsUnreadable: s.recordsUnreadable,
    // A save is verified when every record read back whole and matched; a read-back the store cut short is not.
    verified: !verify ? null : mode === 'save' ? bad === 0 && s.verifyError === null : null,
    mismatches: s.mismatches,
    firstError: s.verifyError ?? s.firstError,
  }
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

/** The baseline runs before and after the designs; both form one connector-off row. */
function mergeBaselines(runs: NativeConcurrent[]): NativeConcurrent[] {
  const offs = runs.filter((c) => c.design === 'off')
  if (offs.length < 2) return runs
  const merged: NativeConcurrent = {
    ...offs[0],
    stepGpuMs: offs.flatMap((o) => o.stepGpuMs),
    stepWallMs: offs.flatMap((o) => o.stepWallMs),
    stepsRun: offs.reduce((a, o) => a + o.stepsRun, 0),
    nonFinite: offs.reduce((a, o) => a + o.nonFinite, 0),
  }
  return [merged, ...runs.filter((c) => c.design !== 'off')]
}

export function summarizeRun(native: NativeSaveLoadResult, wp: WorkloadPlan, profile: Profile, mode: 'save' | 'load', backendSpec = 'host'): TransferResults {
  native = {...native, concurrent: mergeBaselines(native.concurrent)}
  const verify = wp.plan.verify
  const strategies: StrategyFigures[] = native.transfers.map((t) => ({
    strategy: t.strategy,
    bytes: t.bytes,
    save: direction(t, 'save', native.ceilingD2hGBps, verify),
    load: direction(t, 'load', native.ceilingH2dGBps, verify),
  }))
  const baseline = native.concurrent.find((c) => c.design === 'off')
  const baselineMs = baseline && baseline.stepGpuMs.length > 0 ? summarize(baseline.stepGpuMs).p50 : null
  const baselineSteps = baselineMs && baseline ? {gpu: baselineMs, wall: summarize(baseline.stepWallMs).p50} : null
  const ceiling = mode === 'save' ? native.ceilingD2hGBps : native.ceilingH2dGBps
  return {
    mode,
    partial: native.cancelled,
    storeFailed: false,
    verify,
    profile,
    sizes: wp.sizes,
    workload: {
      device: wp.plan.device,
      steps: wp.plan.steps,
      warmupSteps: wp.plan.warmupSteps,
      contextBlocksPerSequence: wp.contextBlocks,
      transferBlocks: wp.plan.transferBlocks,
      blocksPerJob: wp.plan.blocksPerJob,
      loadBlocksPerRequest: wp.loadBlocksPerRequest,
      gpuCacheBytes: wp.gpuCacheBytes,
      pinnedBytes: wp.pinnedBytes,
      stagingBytes: wp.plan.stagingBytes,
      batchSharePct: wp.plan.batchSharePct,
      stagingInL2: native.stagingInL2,
      copyCtas: wp.plan.copyCtas,
    },
    ceilings: {h2dGBps: native.ceilingH2dGBps, d2hGBps: native.ceilingD2hGBps},
    forward: {
      gemmEngine: native.gemmEngine,
      stepMs: baseline ? summarizeOrNull(baseline.stepGpuMs) : null,
      tflops: baselineMs ? native.flopsPerStep / (baselineMs * 1e9) : null,
      hbmGBps: baselineMs ? native.hbmBytesPerStep / (baselineMs * 1e6) : null,
    },
    strategies,
    best: native.best,  // decided once, natively, by auto's rule
    designs: native.concurrent.map((c) => designFigures(c, ceiling, baselineSteps, verify, mode, wp.plan.storeQueueDepth)),
    backend: native.store ? backendFigures(native, backendSpec, verify) : null,
    hostNoise: hostNoiseFigures(native.hostNoise),
    reference: referenceFigures(native.reference, ceiling, baselineSteps),
    gates: [],
  }
}

function backendFigures(native: NativeSaveLoadResult, spec: string, verify: boolean): BackendFigures {
  const l = native.storeLeg
  return {
    spec: maskBackend(spec),
    store: native.store ?? '',
    direct: native.storeDirect,
    note: native.storeNote,
    alone: l
      ? {
          records: l.records,
          bytes: l.bytes,
          putGBps: gbPerSecond(l.bytes, l.putMs),
          getGBps: gbPerSecond(l.bytes - l.getFailed * (l.bytes / Math.max(1, l.records - l.putFailed)), l.getMs),
          putFailed: l.putFailed,
          getFailed: l.getFailed,
          verified: verify ? l.mismatches === 0 && l.putFailed === 0 && l.getFailed === 0 : null,
          mismatches: l.mismatches,
          firstError: l.firstError,
        }
      : null,
  }
}

/** Gates that no design of this run could meet are bad input, before anything runs. */
function checkTransferGates(g: TransferGateFlags, designs: readonly string[]): TransferGateFlags {
  const on = designs.filter((d) => d !== 'off')
  if (on.length === 0 && g.maxSlowdown !== undefined) throw badInput('--max-slowdown gates the designs beside the forward: --connector off runs none')
  if (!on.includes('async') && g.maxBlockedP99Us !== undefined) throw badInput(`--max-blocked-p99-us gates the async design: this run has ${on.length ? `only ${on.join(', ')}` : 'none (--connector off)'}`)
  return g
}

export async function runTransferBench(req: TransferRequest, publish: (env: Environment) => void = () => {}): Promise<TransferOutcome> {
  checkDeviceFlag(req.device)
  const profile = applyOverrides(loadProfile(req.profile), req.overrides)
  const wp = planWorkload(profile, req)
  const gateSpecs = transferGateSpecs(req.mode, checkTransferGates(req.gates, wp.designs))
  // The store is reached once before the GPU is looked at: a wrong address, password or
  // directory is reported the same on any machine, and nothing of it is left behind.
  if (wp.plan.store) openStoreHandle({...wp.plan.store, connections: 1, run: `${wp.plan.store.run}p`}).close()
  const {environment, problem} = gpuPreflight(req.device)
  publish(environment)
  if (problem) throw problem
  environment.gpus = environment.gpus.filter((g) => g.index === req.device)
  checkFits(wp, memInfo(req.device), memAvailableBytes(), readHost().lockedMemoryLimitBytes)

  const notes: string[] = []
  if (!req.verify) notes.push('verification skipped: --no-verify (saved and loaded data were not checked)')
  if (req.fault !== 'none') notes.push(`fault injected on purpose: ${req.fault}`)
  if (req.batchSharePct > 0) {
    notes.push(`--batch-share ${req.batchSharePct}: staged moves ${req.batchSharePct}% of each job's blocks as batch copies straight from the cache beside its ring; "staged" figures include them`)
  }
  const stop = (sig: StopSignal) => {
    notes.push(`interrupted (${sig}): stopped after the current step; figures cover what was measured`)
    cancelRun()
  }
  const {value, signal} = await withSignals(stop, async () => {
    req.onProgress?.(`${req.mode}: ${profile.name}, ${wp.plan.strategies.length} strategies, designs ${wp.designs.join('/')} on GPU ${req.device}`)
    const native = await runSaveLoad(wp.plan)
    notes.push(...native.notes)
    if (native.picked) notes.push(`--strategy auto picked ${native.picked} (fastest verified copy-engine ${req.mode} in the transfer phase, by the median of its timed groups; within 1% of it, the cheapest to enqueue)`)
    if (native.gemmEngine.startsWith('fallback')) notes.push(`cuBLAS not found: the forward's matrix work used kvbench's own kernel (${native.gemmEngine})`)
    const results = summarizeRun(native, wp, profile, req.mode, req.backend)
    results.gates = evaluateGates(transferMetrics(results), gateSpecs)
    if (native.storeNote) notes.push(native.storeNote)
    const failures = storeFailures(results)
    if (failures.length > 0) {
      notes.push(`store FAILED: ${failures.join('; ')}`)
      results.partial = true
      results.storeFailed = true
    }
    return {environment, results, notes}
  })
  return {...value, signal}
}
