// The only module that loads the native addon. It explains every way loading can fail and
// turns native error codes into KvErrors with the project's exit codes; each operation's types
// and call are in src/native/<operation>.ts, beside native/addon/<operation>.cc.
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {EXIT_BAD_INPUT, EXIT_RUN_FAILED, KvError} from '../core/errors.js'
import {ADDON_ABI} from './abi.js'
import type {NativeCudaInfo} from './cuda-info.js'
import type {NativeNcclInfo} from './nccl-info.js'
import type {NativeMemInfo} from './mem-info.js'
import type {MeasurePlan, NativeCopyMeasurement, NativeDeviceCeilings} from './measure-ceilings.js'
import type {NativeGpuWorker, NativeHostPlacement, NativeSaveLoadResult, SaveLoadPlan} from './run-save-load.js'
import type {BackendBenchPlan, NativeBackendBench} from './run-backend-bench.js'
import type {NativeProbe} from './run-stream-probes.js'
import type {StoreHandle, StoreSpec} from './store-handle.js'
import type {RunProgress} from './run-control.js'

export interface Addon {
  abiVersion: number
  /** what every GPU entry point of an addon built without CUDA says */
  noCudaMessage: string
  StoreHandle: new (spec: StoreSpec) => StoreHandle
  cudaInfo(): NativeCudaInfo
  ncclInfo(): NativeNcclInfo
  ncclUniqueId(): string
  memInfo(device: number): NativeMemInfo
  measureCeilings(plan: MeasurePlan): Promise<{copies: NativeCopyMeasurement[]}>
  measureCeilingsTogether(r: {plan: MeasurePlan; devices: number[]}): Promise<{devices: NativeDeviceCeilings[]}>
  runSaveLoad(plan: SaveLoadPlan): Promise<NativeSaveLoadResult>
  runSaveLoadTogether(r: {plan: SaveLoadPlan; devices: number[]; placements: NativeHostPlacement[] | null}): Promise<{workers: NativeGpuWorker[]}>
  runStreamProbes(device: number): Promise<NativeProbe[]>
  runBackendBench(plan: BackendBenchPlan): Promise<NativeBackendBench>
  cancelRun(): void
  runProgress(): RunProgress
  exitNow(code: number): never
  abortAllReduce(why: string): void
}

/** Where the addon may be: an explicit override, next to a bundled build, or node-gyp's output. */
export function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url))
  // lib/kvbench.mjs of a bundle has it beside; dist/native/load.js has node-gyp's build two levels up.
  const list = [join(here, 'kvbench.node'), resolve(here, '..', '..', 'build', 'Release', 'kvbench.node')]
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
export function call<T>(fn: (addon: Addon) => T): T {
  try {
    return fn(loadAddon())
  } catch (error) {
    throw fromNative(error)
  }
}

export async function callAsync<T>(fn: (addon: Addon) => Promise<T>): Promise<T> {
  try {
    return await fn(loadAddon())
  } catch (error) {
    throw fromNative(error)
  }
}


/** The addon if it is loaded already, without loading it (a signal handler must not). */
export function loadedAddon(): Addon | undefined {
  return cached
}

/** What an addon built without CUDA says, in its own words. */
export const noCudaMessage = (): string => call((a) => a.noCudaMessage)
