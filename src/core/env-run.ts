// The `env` job: fingerprint the machine and, when asked, measure the copy
// ceilings. Commands call this; it knows nothing of oclif.
import {checkLockedMemory, planCeilings, summarizeCeiling, type CeilingResults} from './ceilings.js'
import {readHost, type Environment} from './environment.js'
import {KvError} from './errors.js'
import {checkDeviceFlag, gpuPreflight} from './gpu-preflight.js'
import {measureCeilings} from '../native/index.js'

export interface EnvRequest {
  measure: boolean
  /** Explicit GPU; undefined means every GPU is described and GPU 0 measured. */
  device?: number
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

export async function runEnv(req: EnvRequest, publish: (env: Environment) => void = () => {}): Promise<EnvOutcome> {
  if (req.device !== undefined) checkDeviceFlag(req.device)
  const plan = req.measure ? planCeilings({device: req.device ?? 0, sizeMiB: req.sizeMiB, iterations: req.iterations, verify: req.verify}) : null
  const {environment, problem} = gpuPreflight(req.device)
  publish(environment)
  // without --device, --measure on a host without GPUs still answers with the host part
  if ((req.measure || req.device !== undefined) && problem) throw problem
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
  checkLockedMemory(plan, readHost().lockedMemoryLimitBytes)
  if (!req.verify) notes.push('verification skipped: --no-verify (copied data was not checked)')
  req.onProgress?.(`measuring copy ceilings on GPU ${plan.device}`)
  const copies = await measureCeilings(plan)
  results.measured = true
  results.device = plan.device
  results.ceilings = copies.map(summarizeCeiling)
  const bad = results.ceilings.filter((c) => req.verify && !c.verified)
  if (bad.length > 0) {
    throw new KvError(
      'VERIFY_FAILED',
      `copied data did not verify: ${bad.map((c) => `${c.id} (${c.mismatches} words differ)`).join(', ')}`,
      1,
    )
  }
  return {environment, results, notes}
}
