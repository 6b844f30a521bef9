// `kvbench save` / `kvbench load` / `kvbench mix`: profile -> plan -> checks -> native run -> figures -> verdicts.
// Commands call runTransferBench; it knows nothing of oclif.
import {readHost, type Environment} from '../environment.js'
import {checkDeviceFlag, gpuPreflight} from '../gpu-preflight.js'
import {withSignals, type StopSignal} from '../interrupt.js'
import {evaluateGates, transferGateSpecs, type GateSpec, type TransferGateFlags} from '../gates.js'
import {transferMetrics} from '../metrics/transfer-metrics.js'
import {toolInfo} from '../tool-info.js'
import {runTrace, type RunTrace} from '../trace/run-trace.js'
import {checkFits, memAvailableBytes, planWorkload, type RunOptions, type WorkloadPlan} from '../plan.js'
import {applyOverrides, loadProfile, type Profile, type ProfileOverrides} from '../profile.js'
import {cancelRun, memInfo, openStoreHandle, runSaveLoad, watchRunProgress} from '../../native/index.js'
import {summarizeRun} from './figures.js'
import type {TransferResults} from './results.js'
import {checkTransferGates, storeFailures} from './verdicts.js'

export interface TransferRequest extends RunOptions {
  profile: string
  overrides: ProfileOverrides
  /** Thresholds checked when the run ends (a failed one fails the run). */
  gates: TransferGateFlags
  onProgress?: (message: string) => void
  /** The forward steps run beside the connector so far, of how many (polled while the run goes). */
  onSteps?: (done: number, total: number) => void
}

export interface TransferOutcome {
  environment: Environment
  results: TransferResults
  notes: string[]
  /** The signal that stopped the run early, if one did. */
  signal: StopSignal | null
  /** --trace: the designs' traced steps as a trace-event timeline; null without it */
  trace: RunTrace | null
}

/** Everything a run decides before it touches a store or the GPU. */
export interface TransferSetup {
  request: TransferRequest
  profile: Profile
  wp: WorkloadPlan
  gateSpecs: GateSpec[]
}

/** The profile, the plan and the gates of a run, without running it: every refusal here is bad input. */
export function planTransferBench(req: TransferRequest): TransferSetup {
  checkDeviceFlag(req.device)
  const profile = applyOverrides(loadProfile(req.profile), req.overrides)
  const wp = planWorkload(profile, req)
  const gateSpecs = transferGateSpecs(req.mode, checkTransferGates(req.gates, wp.designs))
  return {request: req, profile, wp, gateSpecs}
}

export async function runTransferBench(setup: TransferSetup, publish: (env: Environment) => void = () => {}): Promise<TransferOutcome> {
  const {request: req, profile, wp, gateSpecs} = setup
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
    const onSteps = req.onSteps
    const stopWatching = onSteps ? watchRunProgress(({done, total}) => total > 0 && onSteps(done, total)) : null
    const native = await runSaveLoad(wp.plan).finally(() => stopWatching?.())
    notes.push(...native.notes)
    const rule = 'by the median of its timed groups; within 1% of it, the cheapest to enqueue'
    if (wp.plan.pickBest && req.mode !== 'mix' && native.best[req.mode]) {
      notes.push(`--strategy auto picked ${native.best[req.mode]} (fastest verified copy-engine ${req.mode} in the transfer phase, ${rule})`)
    }
    if (wp.plan.pickBest && req.mode === 'mix' && native.best.save && native.best.load) {
      notes.push(`--strategy auto picked ${native.best.save} for the saves and ${native.best.load} for the loads (each the fastest verified copy-engine one that way in the transfer phase, ${rule})`)
    }
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
    const trace = req.traceSteps && req.mode !== 'mix' ? runTrace(native.designs, req.mode, profile.name, toolInfo()) : null  // mix: refused by the plan
    return {environment, results, notes, trace}
  })
  return {...value, signal}
}
