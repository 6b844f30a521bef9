// Typed view of native/addon/nccl_info.cc: NCCL as the forward's all-reduce would load it.
import {call} from './load.js'

/** reason: why it cannot be used (null when it can). */
export interface NativeNcclInfo {
  library: string | null
  version: string | null
  reason: string | null
}

export const ncclInfo = (): NativeNcclInfo => call((a) => a.ncclInfo())
