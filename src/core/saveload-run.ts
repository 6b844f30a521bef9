// `kvbench save` / `kvbench load`: profile -> plan -> checks -> native run -> statistics.
// Commands call runTransferBench; it knows nothing of oclif.
import {buildEnvironment, readHost, type Environment} from './environment.js'
import {describeMissingGpu, checkDeviceFlag} from './env-run.js'
import {KvError} from './errors.js'
import {checkFits, memAvailableBytes, planWorkload, type RunOptions, type WorkloadPlan} from './plan.js'
import {applyOverrides, loadProfile, type Profile, type ProfileOverrides} from './profile.js'
import {gbPerSecond, logHistogram, summarize, type HistogramBin, type Summary} from './stats.js'
import {cancelRun, cudaInfo, memInfo, NO_CUDA_MESSAGE, runSaveLoad, type NativeConcurrent, type NativeSaveLoadResult, type StrategyName} from '../native.js'

export interface TransferRequest extends RunOptions {
  profile: string
  overrides: ProfileOverrides
  onProgress?: (message: string) => void
}

export interface DirectionFigures {
  gbps: number
  pctOfCeiling: number
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
}

export interface TransferResults {
  mode: 'save' | 'load'
  partial: boolean
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
  }
  ceilings: {h2dGBps: number; d2hGBps: number}
  forward: {gemmEngine: string; stepMs: Summary | null; tflops: number | null; hbmGBps: number | null}
  strategies: StrategyFigures[]
  best: {save: StrategyName | null; load: StrategyName | null}
  designs: DesignFigures[]
}

export interface TransferOutcome {
  environment: Environment
  results: TransferResults
  notes: string[]
}

function direction(bytes: number, ms: number, enqueue: number, ceiling: number, verify: boolean, mismatches: number): DirectionFigures {
  const gbps = gbPerSecond(bytes, ms)
  return {gbps, pctOfCeiling: (100 * gbps) / ceiling, ms, enqueueHostMs: enqueue, verified: verify ? mismatches === 0 : null, mismatches}
}

function summarizeOrNull(v: number[]): Summary | null {
  return v.length > 0 ? summarize(v) : null
}

function designFigures(c: NativeConcurrent, ceiling: number, baseline: {gpu: number; wall: number} | null, verify: boolean): DesignFigures {
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
    slowdownPct: gpu && baseline ? (100 * (gpu.p50 - baseline.gpu)) / baseline.gpu : null,
    wallSlowdownPct: wall && baseline ? (100 * (wall.p50 - baseline.wall)) / baseline.wall : null,
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
  }
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

export function summarizeRun(native: NativeSaveLoadResult, wp: WorkloadPlan, profile: Profile, mode: 'save' | 'load'): TransferResults {
  native = {...native, concurrent: mergeBaselines(native.concurrent)}
  const verify = wp.plan.verify
  const strategies: StrategyFigures[] = native.transfers.map((t) => ({
    strategy: t.strategy,
    bytes: t.bytes,
    save: direction(t.bytes, t.saveMs, t.saveEnqueueMs, native.ceilingD2hGBps, verify, t.saveMismatches),
    load: direction(t.bytes, t.loadMs, t.loadEnqueueMs, native.ceilingH2dGBps, verify, t.loadMismatches),
  }))
  const pick = (dir: 'save' | 'load') =>
    strategies.filter((s) => s[dir].verified !== false).sort((a, b) => b[dir].gbps - a[dir].gbps)[0]?.strategy ?? null
  const baseline = native.concurrent.find((c) => c.design === 'off')
  const baselineMs = baseline && baseline.stepGpuMs.length > 0 ? summarize(baseline.stepGpuMs).p50 : null
  const baselineSteps = baselineMs && baseline ? {gpu: baselineMs, wall: summarize(baseline.stepWallMs).p50} : null
  const ceiling = mode === 'save' ? native.ceilingD2hGBps : native.ceilingH2dGBps
  return {
    mode,
    partial: native.cancelled,
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
    },
    ceilings: {h2dGBps: native.ceilingH2dGBps, d2hGBps: native.ceilingD2hGBps},
    forward: {
      gemmEngine: native.gemmEngine,
      stepMs: baseline ? summarizeOrNull(baseline.stepGpuMs) : null,
      tflops: baselineMs ? native.flopsPerStep / (baselineMs * 1e9) : null,
      hbmGBps: baselineMs ? native.hbmBytesPerStep / (baselineMs * 1e6) : null,
    },
    strategies,
    best: {save: pick('save'), load: pick('load')},
    designs: native.concurrent.map((c) => designFigures(c, ceiling, baselineSteps, verify)),
  }
}

export async function runTransferBench(req: TransferRequest, publish: (env: Environment) => void = () => {}): Promise<TransferOutcome> {
  checkDeviceFlag(req.device)
  const profile = applyOverrides(loadProfile(req.profile), req.overrides)
  const wp = planWorkload(profile, req)
  const cuda = cudaInfo()
  const environment = buildEnvironment(cuda, null)
  publish(environment)
  if (!cuda.builtWithCuda) throw new KvError('NO_CUDA', NO_CUDA_MESSAGE)
  if (!environment.gpus.some((g) => g.index === req.device)) throw new KvError('NO_DEVICE', describeMissingGpu(req.device, environment))
  environment.gpus = environment.gpus.filter((g) => g.index === req.device)
  checkFits(wp, memInfo(req.device), memAvailableBytes(), readHost().lockedMemoryLimitBytes)

  const notes: string[] = []
  if (!req.verify) notes.push('verification skipped: --no-verify (saved and loaded data were not checked)')
  if (req.fault !== 'none') notes.push(`fault injected on purpose: ${req.fault}`)
  const onSigint = () => {
    notes.push('interrupted (Ctrl-C): stopped after the current step; figures cover what was measured')
    cancelRun()
  }
  process.once('SIGINT', onSigint)
  try {
    req.onProgress?.(`${req.mode}: ${profile.name}, ${wp.plan.strategies.length} strategies, designs ${wp.designs.join('/')} on GPU ${req.device}`)
    const native = await runSaveLoad(wp.plan)
    notes.push(...native.notes)
    if (native.picked) notes.push(`--strategy auto picked ${native.picked} (fastest verified ${req.mode} in the transfer phase)`)
    if (native.gemmEngine.startsWith('fallback')) notes.push(`cuBLAS not found: the forward's matrix work used kvbench's own kernel (${native.gemmEngine})`)
    const results = summarizeRun(native, wp, profile, req.mode)
    return {environment, results, notes}
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}
