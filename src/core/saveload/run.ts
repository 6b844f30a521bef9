// `kvbench save` / `kvbench load` / `kvbench mix`: profile -> plan -> checks -> native run -> figures -> verdicts.
// Commands call runTransferBench; it knows nothing of oclif.
import {readHost, type Environment} from '../environment.js'
import {checkDeviceFlag, gpuPreflight} from '../gpu-preflight.js'
import {withSignals, type StopSignal} from '../interrupt.js'
import {evaluateGates, transferGateSpecs, type GateSpec, type TransferGateFlags} from '../gates.js'
import {transferMetrics} from '../metrics/transfer-metrics.js'
import {toolInfo} from '../tool-info.js'
import {runTrace, type RunTrace} from '../trace/run-trace.js'
import {checkFits, memAvailableBytes, planWorkload, type RunOptions, type TransferMode, type WorkloadPlan} from '../plan.js'
import {applyOverrides, loadProfile, type Profile, type ProfileOverrides} from '../profile.js'
import {abortAllReduce, cancelRun, exitNow, fromNative, memInfo, ncclUniqueId, runProgress, openStoreHandle, runSaveLoad, runSaveLoadTogether, watchRunProgress, type NativeGpuWorker, type NativeSaveLoadResult} from '../../native/index.js'
import {parseGpuList} from '../gpu-list.js'
import {launcherWorld} from '../launch/world.js'
import {exchangeNcclId} from '../launch/rendezvous/nccl-id.js'
import {withRankWatchdog} from '../launch/rank-watchdog.js'
import type {RendezvousTarget} from '../launch/rendezvous/target.js'
import {EXIT_RUN_FAILED, KvError} from '../errors.js'
import {cpuRanges, hostPlacements, type HostPlacementPlan} from '../host-placement.js'
import {summarizeRun} from './figures.js'
import type {TransferResults} from './results.js'
import {summarizeTogether, type GpuWorker} from './together.js'
import {checkTransferGates, storeFailures, underOffered} from './verdicts.js'

export interface TransferRequest extends RunOptions {
  profile: string
  overrides: ProfileOverrides
  /** Thresholds checked when the run ends (a failed one fails the run). */
  gates: TransferGateFlags
  /** --gpus LIST|all: the same run on each of these GPUs at once, a worker each (undefined: --device alone). */
  gpus?: string
  /** --all-reduce nccl under a launcher's ranks: where they meet for rank 0's NCCL id. */
  rendezvous?: RendezvousTarget
  /** With --rendezvous: how long a rank waits for the id, and for a forward step, before it takes a peer to have died. */
  rankTimeoutS?: number
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
  const {environment, problem} = gpuPreflight(req.gpus === undefined ? req.device : undefined)
  publish(environment)
  if (problem) throw problem
  const devices = req.gpus === undefined ? null : parseGpuList(req.gpus, environment.gpus.map((g) => g.index))
  const used = devices ?? [req.device]
  environment.gpus = environment.gpus.filter((g) => used.includes(g.index))
  checkFits(wp, used.map((device) => ({device, ...memInfo(device)})), memAvailableBytes(), readHost().lockedMemoryLimitBytes)

  const notes: string[] = []
  if (!req.verify) notes.push('verification skipped: --no-verify (saved and loaded data were not checked)')
  if (req.fault !== 'none') notes.push(`fault injected on purpose: ${req.fault}`)
  if (wp.stagingNote) notes.push(wp.stagingNote)
  if (req.batchSharePct > 0) {
    notes.push(`--batch-share ${req.batchSharePct}: staged moves ${req.batchSharePct}% of each job's blocks as batch copies straight from the cache beside its ring; "staged" figures include them`)
  }
  let stopped = false
  const stop = (sig: StopSignal) => {
    stopped = true
    notes.push(`interrupted (${sig}): stopped after the current step; figures cover what was measured`)
    cancelRun()
  }
  const {value, signal} = await withSignals(stop, async () => {
    req.onProgress?.(`${req.mode}: ${profile.name}, ${wp.plan.strategies.length} strategies, designs ${wp.designs.join('/')} on ${used.length === 1 ? 'GPU' : 'GPUs'} ${used.join(', ')}`)
    const onSteps = req.onSteps
    const stopWatching = onSteps ? watchRunProgress(({done, total}) => total > 0 && onSteps(done, total)) : null
    const placements = devices ? hostPlacements(environment.gpus, devices, environment.host.numaNodes) : []
    const world = req.rendezvous === undefined ? null : launcherWorld()
    const gpu = {host: world?.host ?? '', busId: environment.gpus[0]?.busId ?? '', device: req.device}
    const ranks = world && req.rendezvous ? await exchangeNcclId(world, req.rendezvous, gpu, ncclUniqueId, 1000 * req.rankTimeoutS!, () => stopped) : null
    if (world && ranks) {
      wp.plan.allReduce = {world: world.size, rank: world.rank, uniqueIdHex: ranks.idHex}
      notes.push(`all-reduce across the ${world.size} ranks of this ${world.launcher} run; rank 0's NCCL id through ${ranks.where}`)
    }
    // the watchdog's last resort: its line on stderr, since no exit handler runs to print anything
    const endNow = (code: number, why: string) => (process.stderr.write(`${why}\n`), exitNow(code))
    const one = () => runSaveLoad(wp.plan).then((native) => ({native, results: summarizeRun(native, wp, profile, req.mode, req.backend)}))
    const work = devices ? runOnGpus(wp, devices, placements, profile, req, notes) : world ? withRankWatchdog(one(), {rank: world.rank, timeoutS: req.rankTimeoutS!, steps: () => runProgress().done, stopRun: cancelRun, abortAllReduce, endProcess: endNow}) : one()
    const ran = await work.finally(async () => {
      stopWatching?.()
      await ranks?.close()
    })
    const {native, results} = ran
    if (!devices) notes.push(...native.notes)
    const rule = 'by the median of its timed groups; within 1% of it, the cheapest to enqueue'
    if (wp.plan.pickBest && req.mode !== 'mix' && native.best[req.mode]) {
      notes.push(`--strategy auto picked ${native.best[req.mode]} (fastest verified copy-engine ${req.mode} in the transfer phase, ${rule})`)
    }
    if (wp.plan.pickBest && req.mode === 'mix' && native.best.save && native.best.load) {
      notes.push(`--strategy auto picked ${native.best.save} for the saves and ${native.best.load} for the loads (each the fastest verified copy-engine one that way in the transfer phase, ${rule})`)
    }
    notes.push(...underOffered(results))
    if (native.gemmEngine.startsWith('fallback')) notes.push(`cuBLAS not found: the forward's matrix work used kvbench's own kernel (${native.gemmEngine})`)
    results.gates = evaluateGates(transferMetrics(results), gateSpecs)
    if (native.storeNote) notes.push(native.storeNote)
    const failures = results.workers ? results.workers.flatMap((w) => (w.results ? storeFailures(w.results).map((f) => `GPU ${w.device}: ${f}`) : [])) : storeFailures(results)
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

/**
 * --gpus: the plan on every GPU at once. The result's own figures are the first GPU's whose worker
 * ended (workers and together hold every GPU's and their sum); no worker that ended fails the run
 * with the first worker's error. Notes every GPU gave are said once, the others with their GPU.
 */
async function runOnGpus(wp: WorkloadPlan, devices: number[], placements: HostPlacementPlan[], profile: Profile, req: TransferRequest, notes: string[]): Promise<{native: NativeSaveLoadResult; results: TransferResults}> {
  const {workers} = await runSaveLoadTogether(wp.plan, devices, placements)
  return gpuRunResults(workers, wp, profile, req.mode, req.backend, notes, placements)
}

/** The workers' native results as one run's (see runOnGpus); notes are added to `notes`. */
export function gpuRunResults(workers: readonly NativeGpuWorker[], wp: WorkloadPlan, profile: Profile, mode: TransferMode, backend: string, notes: string[], placements: readonly HostPlacementPlan[] = []): {native: NativeSaveLoadResult; results: TransferResults} {
  const devices = workers.map((w) => w.device)
  const gpuWorkers: GpuWorker[] = workers.map((w, rank) => {
    // Each GPU's figures in its own terms: its index, and its rank of the all-reduce's world.
    const mine: WorkloadPlan = {...wp, plan: {...wp.plan, device: w.device, allReduce: wp.plan.allReduce ? {world: devices.length, rank, uniqueIdHex: null} : null}}
    const asked = placements[rank]
    const placement = w.placement && asked ? {numaNode: asked.numaNode, cpus: cpuRanges(asked.cpus), ...w.placement} : null
    return {device: w.device, results: w.result ? summarizeRun(w.result, mine, profile, mode, backend) : null, error: w.error, stuck: w.stuck, placement}
  })
  const first = workers.findIndex((w) => w.result !== null)
  if (first < 0) {
    const failed = workers.find((w) => w.error) ?? workers[0]
    throw fromNative({code: failed.code, message: `GPU ${failed.device}: ${failed.error}`})
  }
  const noted = workers.filter((w) => w.result).map((w) => w.result!.notes)
  for (const n of new Set(noted.flat())) {
    const on = workers.filter((w) => w.result?.notes.includes(n)).map((w) => w.device)
    notes.push(on.length === noted.length ? n : `GPU ${on.join(', ')}: ${n}`)
  }
  for (const w of workers) {
    if (w.placement?.note) notes.push(`GPU ${w.device}'s worker placement: ${w.placement.note}`)
    if (w.error) notes.push(`GPU ${w.device}'s worker FAILED: ${w.error}`)
    if (w.stuck) notes.push(`GPU ${w.device}'s worker waited for a failed GPU's all-reduce until the run aborted its communicator`)
  }
  const results: TransferResults = {...gpuWorkers[first].results!, workers: gpuWorkers, together: summarizeTogether(mode, gpuWorkers)}
  if (workers.some((w) => w.error)) results.partial = true
  return {native: workers[first].result!, results}
}

