// Model profiles: load by name (profiles/NAME.json) or path, validate every field
// (errors name the file and the field), apply flag overrides, derive KV sizes once.
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {STAGING_L2_MODES, type StagingL2} from '../native/run-save-load.js'
import {badInput} from './errors.js'

export type Layout = 'layer-major' | 'block-contiguous'
export type Dtype = 'bf16'

export interface GqaAttention {
  kind: 'gqa'
  queryHeads: number
  kvHeads: number
  headDim: number
}
export interface MlaAttention {
  kind: 'mla'
  queryHeads: number
  latentDim: number
}

export interface Workload {
  batch: number
  promptTokens: number
  decodeSteps: number
  prefixHitRate: number
  /** Sequences whose KV the transfer set holds (default: batch). Saves rotate over them, a sequence's
   * blocks written again only every transferSequences / (saves per step) steps, so a small set caps
   * what a step may offer; loads pick their requests from them. */
  transferSequences?: number
}

/** The staged strategy's ring where a profile's forward wants another than kvbench's own
 * (src/core/plan.ts DEFAULT_STAGING); --staging-mib and --staging-l2 override it. */
export interface ProfileStaging {
  mib?: number
  l2?: StagingL2
}

export interface Profile {
  name: string
  description: string
  tensorParallel?: number
  layers: number
  attention: GqaAttention | MlaAttention
  dtype: Dtype
  blockSize: number
  layout: Layout
  hiddenSize: number
  mlpSize: number
  workload: Workload
  staging?: ProfileStaging
}

export interface DerivedSizes {
  dtypeBytes: number
  /** K and V (2) or one MLA latent (1). */
  parts: number
  /** Values per token per layer per part. */
  valuesPerTokenPart: number
  kvBytesPerToken: number
  kvBytesPerBlock: number
  /** One (layer, K or V, block) chunk: the unit a per-chunk connector copies. */
  chunkBytes: number
  /** One block of one layer, all parts. */
  layerBlockBytes: number
}

/** Flag overrides; undefined leaves the profile's value. */
export interface ProfileOverrides {
  layers?: number
  queryHeads?: number
  kvHeads?: number
  headDim?: number
  latentDim?: number
  blockSize?: number
  layout?: Layout
  hiddenSize?: number
  mlpSize?: number
  batch?: number
  promptTokens?: number
  decodeSteps?: number
  transferSequences?: number
  prefixHitRate?: number
}

const DTYPE_BYTES: Record<Dtype, number> = {bf16: 2}

export function profilesDir(): string {
  // dist/core/profile.js -> ../../profiles; the bundle's lib/kvbench.mjs -> ../profiles
  const here = dirname(fileURLToPath(import.meta.url))
  for (const candidate of [resolve(here, '..', '..', 'profiles'), resolve(here, '..', 'profiles')]) {
    if (existsSync(candidate)) return candidate
  }
  return resolve(here, '..', '..', 'profiles')
}

class FieldChecker {
  constructor(private readonly file: string) {}
  /** Fields the schema does not know are refused, named (the schema says additionalProperties: false). */
  only(o: Record<string, unknown>, known: readonly string[], prefix: string): void {
    const extra = Object.keys(o).find((k) => !known.includes(k))
    if (extra !== undefined) this.fail(prefix + extra, `is not a profile field (known here: ${known.filter((k) => k !== '$schema').join(', ')})`)
  }
  fail(field: string, what: string): never {
    throw badInput(`${this.file}: field '${field}' ${what}`, 'BAD_PROFILE')
  }
  obj(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, v === undefined ? 'is missing' : 'must be an object')
    return v as Record<string, unknown>
  }
  int(o: Record<string, unknown>, key: string, prefix: string, min = 1, max = 1 << 30): number {
    const v = o[key]
    const field = prefix + key
    if (v === undefined) this.fail(field, 'is missing')
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(field, `must be a whole number, got ${JSON.stringify(v)}`)
    if (v < min || v > max) this.fail(field, `must be between ${min} and ${max}, got ${v}`)
    return v
  }
  num(o: Record<string, unknown>, key: string, prefix: string, min: number, max: number): number {
    const v = o[key]
    const field = prefix + key
    if (v === undefined) this.fail(field, 'is missing')
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, `must be a number, got ${JSON.stringify(v)}`)
    if (v < min || v > max) this.fail(field, `must be between ${min} and ${max}, got ${v}`)
    return v
  }
  str<T extends string>(o: Record<string, unknown>, key: string, prefix: string, allowed?: readonly T[]): T {
    const v = o[key]
    const field = prefix + key
    if (v === undefined) this.fail(field, 'is missing')
    if (typeof v !== 'string') this.fail(field, `must be a string, got ${JSON.stringify(v)}`)
    if (allowed && !allowed.includes(v as T)) this.fail(field, `must be one of ${allowed.join(', ')}, got "${v}"`)
    return v as T
  }
}

export function validateProfile(raw: unknown, file: string): Profile {
  const c = new FieldChecker(file)
  const o = c.obj(raw, '(root)')
  const att = c.obj(o.attention, 'attention')
  const kind = c.str(att, 'kind', 'attention.', ['gqa', 'mla'] as const)
  const attention: GqaAttention | MlaAttention =
    kind === 'gqa'
      ? {kind, queryHeads: c.int(att, 'queryHeads', 'attention.'), kvHeads: c.int(att, 'kvHeads', 'attention.'), headDim: c.int(att, 'headDim', 'attention.', 8, 1024)}
      : {kind, queryHeads: c.int(att, 'queryHeads', 'attention.'), latentDim: c.int(att, 'latentDim', 'attention.', 8, 1024)}
  c.only(att, kind === 'gqa' ? ['kind', 'queryHeads', 'kvHeads', 'headDim'] : ['kind', 'queryHeads', 'latentDim'], 'attention.')
  const w = c.obj(o.workload, 'workload')
  c.only(w, ['batch', 'promptTokens', 'decodeSteps', 'prefixHitRate', 'transferSequences'], 'workload.')
  c.only(o, ['$schema', 'name', 'description', 'tensorParallel', 'layers', 'attention', 'dtype', 'blockSize', 'layout', 'hiddenSize', 'mlpSize', 'workload', 'staging'], '')
  const profile: Profile = {
    name: c.str(o, 'name', ''),
    description: typeof o.description === 'string' ? o.description : '',
    layers: c.int(o, 'layers', '', 1, 1024),
    attention,
    dtype: c.str(o, 'dtype', '', ['bf16'] as const),
    blockSize: c.int(o, 'blockSize', '', 1, 4096),
    layout: c.str(o, 'layout', '', ['layer-major', 'block-contiguous'] as const),
    hiddenSize: c.int(o, 'hiddenSize', '', 8, 1 << 17),
    mlpSize: c.int(o, 'mlpSize', '', 8, 1 << 18),
    workload: {
      batch: c.int(w, 'batch', 'workload.', 1, 4096),
      promptTokens: c.int(w, 'promptTokens', 'workload.', 1, 1 << 21),
      decodeSteps: c.int(w, 'decodeSteps', 'workload.', 1, 100000),
      prefixHitRate: c.num(w, 'prefixHitRate', 'workload.', 0, 1),
    },
  }
  if (o.tensorParallel !== undefined) profile.tensorParallel = c.int(o, 'tensorParallel', '', 1, 1024)
  if (w.transferSequences !== undefined) profile.workload.transferSequences = c.int(w, 'transferSequences', 'workload.', 1, 65536)
  if (o.staging !== undefined) {
    const s = c.obj(o.staging, 'staging')
    c.only(s, ['mib', 'l2'], 'staging.')
    profile.staging = {}
    if (s.mib !== undefined) profile.staging.mib = c.int(s, 'mib', 'staging.', 1, 4096)
    if (s.l2 !== undefined) profile.staging.l2 = c.str(s, 'l2', 'staging.', STAGING_L2_MODES)
  }
  checkShape(profile, (field, what) => c.fail(field, what))
  return profile
}

/** Shape rules that hold for profiles and overrides alike. */
function checkShape(p: Profile, fail: (field: string, what: string) => never): void {
  if (p.attention.kind === 'gqa') {
    if (p.attention.headDim % 8) fail('attention.headDim', `must be a multiple of 8 (16-byte copies), got ${p.attention.headDim}`)
    if (p.attention.queryHeads % p.attention.kvHeads) fail('attention.queryHeads', `must be a multiple of kvHeads (${p.attention.kvHeads})`)
  } else if (p.attention.latentDim % 8) {
    fail('attention.latentDim', `must be a multiple of 8 (16-byte copies), got ${p.attention.latentDim}`)
  }
}

export function loadProfile(nameOrPath: string): Profile {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json')
  const file = isPath ? resolve(nameOrPath) : join(profilesDir(), `${nameOrPath}.json`)
  if (!existsSync(file)) {
    const known = listProfileNames().join(', ')
    throw badInput(isPath ? `--profile: no such file ${file}` : `--profile: unknown profile "${nameOrPath}" (known: ${known}; or give a path to a .json file)`, 'BAD_PROFILE')
  }
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw badInput(`${file}: not valid JSON: ${(error as Error).message}`, 'BAD_PROFILE')
  }
  return validateProfile(raw, isPath ? file : basename(file))
}

export function listProfileNames(): string[] {
  try {
    return readdirSync(profilesDir()).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort()
  } catch {
    return []
  }
}

export function applyOverrides(p: Profile, o: ProfileOverrides): Profile {
  const out: Profile = structuredClone(p)
  const fail = (field: string, what: string): never => {
    throw badInput(`--${field} ${what}`)
  }
  const positive = (flag: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) fail(flag, `must be a positive whole number, got ${v}`)
    return v
  }
  if (positive('layers', o.layers) !== undefined) out.layers = o.layers!
  if (positive('block-size', o.blockSize) !== undefined) out.blockSize = o.blockSize!
  if (positive('hidden-size', o.hiddenSize) !== undefined) out.hiddenSize = o.hiddenSize!
  if (positive('mlp-size', o.mlpSize) !== undefined) out.mlpSize = o.mlpSize!
  if (positive('batch', o.batch) !== undefined) out.workload.batch = o.batch!
  if (positive('prompt-tokens', o.promptTokens) !== undefined) out.workload.promptTokens = o.promptTokens!
  if (positive('decode-steps', o.decodeSteps) !== undefined) out.workload.decodeSteps = o.decodeSteps!
  if (positive('transfer-sequences', o.transferSequences) !== undefined) out.workload.transferSequences = o.transferSequences!
  if (o.prefixHitRate !== undefined) {
    if (!(o.prefixHitRate >= 0 && o.prefixHitRate <= 1)) fail('prefix-hit-rate', `must be between 0 and 1, got ${o.prefixHitRate}`)
    out.workload.prefixHitRate = o.prefixHitRate
  }
  if (o.layout !== undefined) out.layout = o.layout
  if (positive('query-heads', o.queryHeads) !== undefined) out.attention.queryHeads = o.queryHeads!
  const a = out.attention
  if (a.kind === 'gqa') {
    if (o.latentDim !== undefined) fail('latent-dim', `applies to MLA profiles; ${p.name} has K/V heads`)
    if (positive('kv-heads', o.kvHeads) !== undefined) a.kvHeads = o.kvHeads!
    if (positive('head-dim', o.headDim) !== undefined) a.headDim = o.headDim!
  } else {
    if (o.kvHeads !== undefined || o.headDim !== undefined) fail(o.kvHeads !== undefined ? 'kv-heads' : 'head-dim', `does not apply to MLA profile ${p.name} (use --latent-dim)`)
    if (positive('latent-dim', o.latentDim) !== undefined) a.latentDim = o.latentDim!
  }
  checkShape(out, (field, what) => {
    const flag = {'attention.headDim': 'head-dim', 'attention.latentDim': 'latent-dim', 'attention.queryHeads': 'query-heads'}[field] ?? field
    return fail(flag, what)
  })
  return out
}

export function deriveSizes(p: Profile): DerivedSizes {
  const dtypeBytes = DTYPE_BYTES[p.dtype]
  const parts = p.attention.kind === 'gqa' ? 2 : 1
  const valuesPerTokenPart = p.attention.kind === 'gqa' ? p.attention.kvHeads * p.attention.headDim : p.attention.latentDim
  const chunkBytes = p.blockSize * valuesPerTokenPart * dtypeBytes
  const kvBytesPerToken = p.layers * parts * valuesPerTokenPart * dtypeBytes
  return {
    dtypeBytes,
    parts,
    valuesPerTokenPart,
    kvBytesPerToken,
    kvBytesPerBlock: kvBytesPerToken * p.blockSize,
    chunkBytes,
    layerBlockBytes: chunkBytes * parts,
  }
}
