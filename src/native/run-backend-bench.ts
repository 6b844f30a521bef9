// Typed view of native/addon/run_backend_bench.cc (each store alone, per record size).
import {callAsync} from './load.js'
import type {StoreSpec} from './store-handle.js'

export interface BackendBenchPlan {
  store: StoreSpec
  sizes: number[]
  ops: number[]
  /** records per pipelined store call */
  pipeline: number
  verify: boolean
  corruptOne: boolean
  /** keep every store call's thread, start and length (--trace) */
  trace: boolean
}

/** One pipelined store call of one I/O thread (native/core/backends/backend_bench.h StoreCall). */
export interface NativeStoreCall {
  thread: number
  op: 'put' | 'get'
  records: number
  /** the host's steady clock, µs */
  startUs: number
  us: number
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
  /** with plan.trace: every call of both passes; else empty */
  calls: NativeStoreCall[]
}

export interface NativeBackendBench {
  store: string
  note: string | null
  direct: boolean
  /** the sizes measured whole before a cancel (cancelRun) */
  sizes: NativeBackendSize[]
  cancelled: boolean
}

export const runBackendBench = (plan: BackendBenchPlan): Promise<NativeBackendBench> => callAsync((a) => a.runBackendBench(plan))
