// Typed view of native/addon/store_handle.cc (which store to open, and a store opened from JS for the lookup measurement).
import {call} from './load.js'

export interface RedisTarget {
  host: string
  port: number
  user: string
  password: string
  db: number
  /** rediss:// */
  tls: boolean
  /** CA certificates to trust (rediss://...?cacert=PATH); empty: the system's */
  caFile: string
}

/** Which store a run talks to (native/core/backends/open_store.h). */
export interface StoreSpec {
  /** host, file:DIR, redis (then `redis` says where) or plugin:PATH.so[?config] */
  backend: string
  redis?: RedisTarget
  /** namespace of this run's keys and files */
  run: string
  /** I/O threads, and Redis connections (one each) */
  connections: number
  fsync: 'never' | 'always'
  direct: boolean
}

export interface StoreHandle {
  put(key: number, bytes: number): void
  lookup(key: number): boolean
  lookupNonBlocking(key: number): 'pending' | 'hit' | 'miss' | 'error'
  close(): void
}

export const openStoreHandle = (spec: StoreSpec): StoreHandle => call((a) => new a.StoreHandle(spec))
