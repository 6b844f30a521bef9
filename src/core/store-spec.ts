// `--backend host|file:DIR|redis://...|plugin:PATH.so[?config]`: parsed and checked once,
// here, for `kvbench backend bench` and `kvbench save/load`. Passwords never leave this
// module in a message: errors and displays use the masked form.
import {randomUUID} from 'node:crypto'
import {accessSync, constants, readFileSync, statSync} from 'node:fs'

import {badInput} from './errors.js'
import {maskSecrets, REDIS_PASSWORD_ENV} from './secrets.js'
import type {RedisTarget, StoreSpec} from '../native/index.js'

export interface StoreOptions {
  /** I/O threads (and Redis connections, one each) */
  threads: number
  /** records per pipelined store call */
  pipeline: number
  fsync: 'never' | 'always'
  /** file: try O_DIRECT */
  direct: boolean
}

/** The spec as it may be shown: the password of a URL replaced by ***. */
export function maskBackend(spec: string): string {
  return maskSecrets(spec)
}

/**
 * redis://[user:pass@]host:port[/db], or rediss:// for TLS (the server's certificate is checked
 * against the system's trust store, or `?cacert=PATH`); the password is never echoed in errors.
 */
export function parseRedisUrl(spec: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  let u: URL
  const shown = maskBackend(spec)
  try {
    u = new URL(spec)
  } catch {
    throw badInput(`--backend ${shown}: not a valid redis://[user:pass@]host:port[/db] URL`)
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw badInput(`--backend ${shown}: unknown backend (host, file:DIR, redis://)`)
  const tls = u.protocol === 'rediss:'
  const params = [...u.searchParams.keys()]
  const unknown = params.filter((k) => k !== 'cacert' || !tls)
  if (unknown.length > 0) throw badInput(`--backend ${shown}: unknown parameter ${unknown[0]} (${tls ? 'rediss:// takes ?cacert=PATH' : 'redis:// takes none'})`)
  const caFile = u.searchParams.get('cacert') ?? ''
  if (caFile && !isReadableFile(caFile)) throw badInput(`--backend ${shown}: cacert ${caFile} is not a readable file`)
  if (caFile && !readFileSync(caFile, 'latin1').includes('-----BEGIN CERTIFICATE-----')) {
    throw badInput(`--backend ${shown}: cacert ${caFile} is not a PEM certificate file (no -----BEGIN CERTIFICATE----- line; convert DER with openssl x509 -inform der)`)
  }
  if (!u.hostname) throw badInput(`--backend ${shown}: no host`)
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0
  if (!Number.isInteger(db) || db < 0) throw badInput(`--backend ${shown}: the database must be a whole number, got ${u.pathname.slice(1)}`)
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    user: decodeURIComponent(u.username),
    // No password in the URL: REDISCLI_AUTH, as redis-cli reads it, so it need not sit in ps or history.
    password: u.password ? decodeURIComponent(u.password) : (env[REDIS_PASSWORD_ENV] ?? ''),
    db,
    tls,
    caFile,
  }
}

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The kind of store a --backend names (host, file, redis, plugin), as metric names carry it. */
export function storeKind(spec: string): string {
  const m = /^(host|file|rediss?|plugin)\b/.exec(spec)
  return m ? m[1].replace('rediss', 'redis') : 'store'
}

export function checkBackendSpec(spec: string): RedisTarget | undefined {
  if (spec === 'host') return undefined
  if (spec === 'file:') throw badInput('--backend file: needs the directory to write to after the colon (file:DIR, e.g. file:/mnt/nvme)')
  if (spec === 'plugin:') throw badInput('--backend plugin: needs the shared library after the colon (plugin:PATH.so[?config])')
  if (spec.startsWith('file:') && spec.length > 5) return undefined
  if (spec.startsWith('plugin:') && spec.length > 7) return undefined
  if (/^rediss?:\/\//i.test(spec)) return parseRedisUrl(spec)  // a URL's scheme is case-insensitive
  const hint = /^rediss?\b/i.test(spec) ? ' (did you mean redis://, with its colon and both slashes?)' : ''
  throw badInput(`--backend ${maskSecrets(spec)}: unknown backend (host, file:DIR, redis://, plugin:PATH.so)${hint}`)
}

/**
 * The native store description, its flags checked (`threadsFlag` names the threads flag);
 * null for `host` where the caller's own pool is the store.
 */
export function storeSpec(backend: string, o: StoreOptions, threadsFlag: string, hostIsPool: boolean): StoreSpec | null {
  if (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > 256) throw badInput(`--${threadsFlag} must be between 1 and 256, got ${o.threads}`)
  if (!Number.isInteger(o.pipeline) || o.pipeline < 1 || o.pipeline > 1024) throw badInput(`--pipeline must be between 1 and 1024, got ${o.pipeline}`)
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
