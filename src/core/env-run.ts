// The `env` job: fingerprint the machine and, when asked, measure the copy
// ceilings. Commands call this; it knows nothing of oclif.
import {checkLockedMemory, planCeilings, summarizeCeiling, summarizeTogether, type CeilingResults} from './ceilings.js'
import {readHost, type Environment} from './environment.js'
import {badInput, KvError} from './errors.js'
import {checkDeviceFlag, gpuPreflight} from './gpu-preflight.js'
import {parseGpuList} from './gpu-list.js'
import {measureCeilings, measureCeilingsTogether, ncclInfo} from '../native/index.js'

export interface EnvRequest {
  measure: boolean
  /** Explicit GPU; undefined means every GPU is described and GPU 0 measured. */
  device?: number
  /** --gpus LIST|all: with --measure, these GPUs' pinned copies at once (after the first one's alone). */
  gpus?: string
  sizeMiB: number
  iterations: number
  verify: boolean
  onProgress?: (message: string) => void
}

export interface EnvOutcome {
  environment: Environment
  results: CeilingResults
  notes: string[]
}

/** NCCL for --all-reduce as the addon would load it, or why it cannot tell (the addon did not load). */
function ncclOrWhyNot(problem: KvError | null): NonNullable<Environment['cuda']['nccl']> {
  try {
    return ncclInfo()
  } catch (error) {
    return {library: null, version: null, reason: problem?.message ?? (error as Error).message}
  }
}

export async function runEnv(req: EnvRequest, publish: (env: Environment) => void = () => {}): Promise<EnvOutcome> {
  if (req.device !== undefined) checkDeviceFlag(req.device)
  if (req.gpus !== undefined && !req.measure) throw badInput('--gpus names the GPUs --measure copies with at once: add --measure')
  if (req.gpus !== undefined && req.device !== undefined) throw badInput('--gpus and --device: name every GPU to measure in --gpus')
  const plan = req.measure ? planCeilings({device: req.device ?? 0, sizeMiB: req.sizeMiB, iterations: req.iterations, verify: req.verify}) : null
  const {environment, problem} = gpuPreflight(req.device)
  environment.cuda.nccl = ncclOrWhyNot(problem)
  publish(environment)
  // without --device, --measure on a host without GPUs still answers with the host part
  if ((req.measure || req.device !== undefined) && problem) throw problem
  const gpus = req.gpus === undefined ? null : parseGpuList(req.gpus, environment.gpus.map((g) => g.index))
  if (plan && gpus) plan.device = gpus[0]  // the first GPU named is also measured alone
  if (req.device !== undefined) environment.gpus = environment.gpus.filter((g) => g.index === req.device)

  const notes: string[] = []
  const results: CeilingResults = {measured: false, reason: null, device: null, verify: req.verify, ceilings: []}
  if (!plan) {
    results.reason = 'not requested (use --measure)'
    return {environment, results, notes}
  }
  if (environment.gpus.length === 0) {
    results.reason = 'no GPU to measure (environment.gpusReason says why)'  // the reason said once, in the GPUs line
    return {environment, results, notes}
  }
  // Locked memory is checked once there is a GPU to measure, before anything is pinned: without
  // one, the host part is the whole answer (exit 0).
  checkLockedMemory(plan, readHost().lockedMemoryLimitBytes, gpus?.length ?? 1)
  if (!req.verify) notes.push('verification skipped: --no-verify (copied data was not checked)')
  req.onProgress?.(`measuring copy ceilings on GPU ${plan.device}`)
  const copies = await measureCeilings(plan)
  results.measured = true
  results.device = plan.device
  results.ceilings = copies.map(summarizeCeiling)
  if (gpus) {
    req.onProgress?.(`measuring pinned copies on GPUs ${gpus.join(', ')} at once`)
    results.together = summarizeTogether(await measureCeilingsTogether(plan, gpus))
  }
  const together = (results.together?.perGpu ?? []).flatMap((g) => g.ceilings.map((c) => ({...c, id: `GPU ${g.device} ${c.id} (together)`})))
  const bad = [...results.ceilings, ...together].filter((c) => req.verify && !c.verified)
  if (bad.length > 0) {
    throw new KvError(
      'VERIFY_FAILED',
      `copied data did not verify: ${bad.map((c) => `${c.id} (${c.mismatches} words differ)`).join(', ')}`,
      1,
    )
  }
  return {environment, results, notes}
}
