// The native run's samples made into the reported figures: every statistic of a save or load
// run is computed here (the native core returns samples).
import {gbPerSecond, logHistogram, summarize, type Summary} from '../stats.js'
import {maskBackend} from '../store-spec.js'
import type {TransferMode, WorkloadPlan} from '../plan.js'
import type {Profile} from '../profile.js'
import type {NativeDesign, NativeSaveLoadResult, NativeStrategyAlone, StrategyName} from '../../native/index.js'
import type {AllReduceFigures, BackendFigures, DesignFigures, DesignStoreFigures, DirectionFigures, HookFigures, HostNoiseFigures, ReferenceDirection, ReferenceFigures, StrategyFigures, TransferResults} from './results.js'

export function referenceFigures(
  ref: NativeSaveLoadResult['reference'] | undefined,
  ceiling: number,
  baseline: {gpu: number; wall: number} | null,
  mixed = false,
): ReferenceFigures | null {
  if (!ref || ref.steps.stepsRun === 0) return null
  const gpu = summarizeOrNull(ref.steps.stepGpuMs)
  const wall = summarizeOrNull(ref.steps.stepWallMs)
  const rate = (bytes: number) => (ref.steps.windowMs > 0 ? gbPerSecond(bytes, ref.steps.windowMs) : 0)
  const gbps = rate(ref.bytes)
  const oneWay = (bytes: number): ReferenceDirection => ({gbps: rate(bytes), pctOfCeiling: (100 * rate(bytes)) / (ceiling / 2), bytes})
  return {
    steps: ref.steps.stepsRun,
    chunkBytes: ref.chunkBytes,
    stepGpuMs: gpu,
    stepsGpuMs: ref.steps.stepGpuMs,
    ...slowdowns(gpu, wall, baseline),
    gbps,
    pctOfCeiling: (100 * gbps) / ceiling,
    bytes: ref.bytes,
    windowMs: ref.steps.windowMs,
    nonFiniteOutputs: ref.steps.nonFinite,
    allReduce: allReduceFigures(ref.steps),
    ...(mixed ? {directions: {save: oneWay(ref.saveBytes), load: oneWay(ref.loadBytes)}} : {}),
  }
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

function direction(t: NativeStrategyAlone, dir: 'save' | 'load', ceiling: number, verify: boolean): DirectionFigures {
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

/** A phase's all-reduce figures; null when the forward ran without one (no calls). */
function allReduceFigures(c: NativeDesign): AllReduceFigures | null {
  if (!(c.allReduceCalls > 0)) return null
  return {stepMs: summarizeOrNull(c.allReduceMs), calls: c.allReduceCalls, mismatches: c.allReduceMismatches}
}

function designFigures(
  c: NativeDesign,
  ceiling: number,
  baseline: {gpu: number; wall: number} | null,
  verify: boolean,
  mode: 'save' | 'load',
  queueLimit: number,
  direction?: DesignFigures['direction'],
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
    ...(direction ? {direction} : {}),
    strategy: on && !c.strategy.includes('/') ? (c.strategy as StrategyName) : null,
    steps: c.stepsRun,
    stepGpuMs: gpu,
    stepWallMs: wall,
    stepsGpuMs: c.stepGpuMs,
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
    connectorBusyPct: c.connectorAliveUs > 0 ? (100 * c.connectorBusyUs) / c.connectorAliveUs : null,
    requestsScheduled: on ? c.requestsScheduled : null,
    requestsNotReadySteps: on ? c.requestsNotReadySteps : null,
    verified: on && verify ? c.mismatches === 0 : null,
    mismatches: c.mismatches,
    chunksChecked: c.chunksChecked,
    nonFiniteOutputs: c.nonFinite,
    allReduce: allReduceFigures(c),
    store: c.store && on ? storeFigures(c, mode, queueLimit, verify) : null,
  }
}

function storeFigures(c: NativeDesign, mode: 'save' | 'load', queueLimit: number, verify: boolean): DesignStoreFigures {
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

/** The baseline runs before and after the designs; both form one connector-off row. */
function mergeBaselines(runs: NativeDesign[]): NativeDesign[] {
  const offs = runs.filter((c) => c.design === 'off')
  if (offs.length < 2) return runs
  const merged: NativeDesign = {
    ...offs[0],
    stepGpuMs: offs.flatMap((o) => o.stepGpuMs),
    stepWallMs: offs.flatMap((o) => o.stepWallMs),
    stepsRun: offs.reduce((a, o) => a + o.stepsRun, 0),
    nonFinite: offs.reduce((a, o) => a + o.nonFinite, 0),
    allReduceMs: offs.flatMap((o) => o.allReduceMs ?? []),
    allReduceCalls: offs.reduce((a, o) => a + (o.allReduceCalls ?? 0), 0),
    allReduceMismatches: offs.reduce((a, o) => a + (o.allReduceMismatches ?? 0), 0),
  }
  return [merged, ...runs.filter((c) => c.design !== 'off')]
}

/**
 * The ceiling a design row reads against: its direction's (save, load), or in a mix both directions'
 * together for the together row and half of it for each direction's row. Both ways is the sum of the
 * two in results from before 1.10.0, which did not measure it.
 */
export function rowCeilingGBps(c: TransferResults['ceilings'], mode: TransferMode, direction?: DesignFigures['direction']): number {
  const both = c.bothGBps ?? c.h2dGBps + c.d2hGBps
  if (direction === 'save' || direction === 'load') return both / 2
  return mode === 'save' ? c.d2hGBps : mode === 'load' ? c.h2dGBps : both
}

function ceilingsOf(native: NativeSaveLoadResult): TransferResults['ceilings'] {
  return {h2dGBps: native.ceilingH2dGBps, d2hGBps: native.ceilingD2hGBps, bothGBps: native.ceilingBothGBps}
}

/** One design's rows: save/load one; mix the together row, then each direction's against half the both-ways ceiling. */
function designRows(c: NativeDesign, native: NativeSaveLoadResult, mode: TransferMode, baseline: {gpu: number; wall: number} | null, verify: boolean, queueLimit: number): DesignFigures[] {
  const ceilings = ceilingsOf(native)
  if (mode !== 'mix') return [designFigures(c, rowCeilingGBps(ceilings, mode), baseline, verify, mode, queueLimit)]
  return [
    designFigures(c, rowCeilingGBps(ceilings, mode, 'both'), baseline, verify, 'save', queueLimit, 'both'),
    ...c.directions.map((d, i) => {
      const direction = i === 0 ? 'save' : 'load'
      return designFigures(d, rowCeilingGBps(ceilings, mode, direction), baseline, verify, direction, queueLimit, direction)
    }),
  ]
}

export function summarizeRun(native: NativeSaveLoadResult, wp: WorkloadPlan, profile: Profile, mode: TransferMode, backendSpec = 'host'): TransferResults {
  native = {...native, designs: mergeBaselines(native.designs)}
  const verify = wp.plan.verify
  const strategies: StrategyFigures[] = native.strategies.map((t) => ({
    strategy: t.strategy,
    bytes: t.bytes,
    save: direction(t, 'save', native.ceilingD2hGBps, verify),
    load: direction(t, 'load', native.ceilingH2dGBps, verify),
  }))
  const baseline = native.designs.find((c) => c.design === 'off')
  const baselineMs = baseline && baseline.stepGpuMs.length > 0 ? summarize(baseline.stepGpuMs).p50 : null
  const baselineSteps = baselineMs && baseline ? {gpu: baselineMs, wall: summarize(baseline.stepWallMs).p50} : null
  const ceiling = rowCeilingGBps(ceilingsOf(native), mode)
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
    ceilings: ceilingsOf(native),
    forward: {
      gemmEngine: native.gemmEngine,
      stepMs: baseline ? summarizeOrNull(baseline.stepGpuMs) : null,
      tflops: baselineMs ? native.flopsPerStep / (baselineMs * 1e9) : null,
      hbmGBps: baselineMs ? native.hbmBytesPerStep / (baselineMs * 1e6) : null,
      allReduce: wp.plan.allReduce && native.allReduceLibrary ? {library: native.allReduceLibrary, world: wp.plan.allReduce.world, rank: wp.plan.allReduce.rank} : null,
    },
    strategies,
    best: native.best,  // decided once, natively, by auto's rule
    designs: native.designs.flatMap((c) => designRows(c, native, mode, baselineSteps, verify, wp.plan.storeQueueDepth)),
    backend: native.store ? backendFigures(native, backendSpec, verify) : null,
    hostNoise: hostNoiseFigures(native.hostNoise),
    reference: referenceFigures(native.reference, ceiling, baselineSteps, mode === 'mix'),
    gates: [],
  }
}

function backendFigures(native: NativeSaveLoadResult, spec: string, verify: boolean): BackendFigures {
  const l = native.storeAlone
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
