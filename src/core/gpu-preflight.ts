// The one GPU preflight of env, save, load, the connector harness and audit-streams: the
// environment as far as it can be read (always, for the envelope), and why GPU `device` cannot
// run here: the addon did not load, it was built without CUDA, or there is no such GPU (in the
// words env uses: "no NVIDIA driver" where there is none).
import {buildEnvironment, type Environment} from './environment.js'
import {badInput, KvError} from './errors.js'
import {cudaInfo, noCudaMessage, type NativeCudaInfo} from '../native/index.js'

export interface GpuPreflight {
  environment: Environment
  /** null when GPU `device` can run (device undefined: when the addon can run CUDA at all). */
  problem: KvError | null
}

export function describeMissingGpu(device: number, env: Environment): string {
  const n = env.gpus.length
  const list = n > 0 ? ` (${env.gpus.map((g) => g.index).join(', ')})` : env.gpusReason ? ` (${env.gpusReason})` : ''
  return `no GPU ${device}: this host has ${n} ${n === 1 ? 'GPU' : 'GPUs'}${list}`
}

export function checkDeviceFlag(device: number): void {
  if (!Number.isInteger(device) || device < 0) throw badInput(`--device must be a GPU index (0, 1, ...), got ${device}`)
}

export function gpuPreflight(device?: number): GpuPreflight {
  let cuda: NativeCudaInfo | null = null
  let problem: KvError | null = null
  try {
    cuda = cudaInfo()
  } catch (error) {
    problem = error instanceof KvError ? error : new KvError('ADDON', (error as Error).message)
  }
  const environment = buildEnvironment(cuda, problem?.message ?? null)
  if (!problem && cuda && !cuda.builtWithCuda) problem = new KvError('NO_CUDA', noCudaMessage())  // the addon's own words
  if (!problem && device !== undefined && !environment.gpus.some((g) => g.index === device)) problem = new KvError('NO_DEVICE', describeMissingGpu(device, environment))
  return {environment, problem}
}
