// Typed view of native/addon/nccl_unique_id.cc: a new NCCL communicator id (rank 0 makes it).
import {call} from './load.js'

/** 256 hex digits; a KvError (exit 2) naming why when NCCL cannot be loaded. */
export const ncclUniqueId = (): string => call((a) => a.ncclUniqueId())
