// `--backend host|file:DIR|redis://...|plugin:PATH.so[?config]`: parsed and checked once,
// here, for `kvbench backend bench` and `kvbench save/load`. Passwords never leave this
// module in a message: errors and displays use the masked form.
import {randomUUID} from 'node:crypto'

import {badInput} from './errors.js'
import type {RedisTarget, StoreSpec} from '../native.js'

export interface StoreOptions {
  /** I/O threads (and Redis connections, one each) */
  threads: number
  fsync: 'never' | 'always'
  /** file: try O_DIRECT */
  direct: boolean
}

/** The spec as it may be shown: the password of a URL replaced by ***. */
export function maskBackend(spec: string): string {
  return spec.replace(/\/\/([^/@]*):[^/@]*@/, '//$1:***@')
}

/** redis://[user:pass@]host:port[/db]; the password is never echoed in errors. */
export function parseRedisUrl(spec: string): RedisTarget {
  let u: URL
  const shown = maskBackend(spec)
  try {
    u = new URL(spec)
  } catch {
    throw badInput(`--backend ${shown}: not a valid redis://[user:pass@]host:port[/db] URL`)
  }
  if (u.protocol === 'rediss:') throw badInput(`--backend ${shown}: rediss:// (TLS) is not supported yet; use redis://`)
  if (u.protocol !== 'redis:') throw badInput(`--backend ${shown}: unknown backend (host, file:DIR, redis://)`)
  if (!u.hostname) throw badInput(`--backend ${shown}: no host`)
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0
  if (!Number.isInteger(db) || db < 0) throw badInput(`--backend ${shown}: the database must be a whole number, got ${u.pathname.slice(1)}`)
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    db,
  }
}

export function checkBackendSpec(spec: string): RedisTarget | undefined {
  if (spec === 'host') return undefined
  if (spec.startsWith('file:') && spec.length > 5) return undefined
  if (spec.startsWith('plugin:') && spec.length > 7) return undefined
  if (/^rediss?:\/\//.test(spec)) return parseRedisUrl(spec)
  throw badInput(`--backend ${spec}: unknown backend (host, file:DIR, redis://, plugin:PATH.so)`)
}


export function checkStoreOptions(o: StoreOptions, threadsFlag: string): void {
  if (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > 256) throw badInput(`--${threadsFlag} must be between 1 and 256, got ${o.threads}`)
}

/** The native store description; null for `host` where the caller's own pool is the store. */
export function storeSpec(backend: string, o: StoreOptions, hostIsPool: boolean): StoreSpec | null {
  const redis = checkBackendSpec(backend)
  if (backend === 'host' && hostIsPool) return null
  return {
    backend: redis ? 'redis' : backend,
    redis,
    run: randomUUID().slice(0, 8),
    connections: o.threads,
    fsync: o.fsync,
    direct: o.direct,
  }
}
