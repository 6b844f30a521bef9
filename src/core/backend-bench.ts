// `kvbench backend bench`: a store alone, from host memory, at a profile's chunk and
// block sizes. No GPU. Sizes and op counts are decided here, once.
import {Bench} from 'tinybench'

import {badInput, KvError} from './errors.js'
import {backendGateSpecs, evaluateGates, type BackendGateFlags, type Gate} from './gates.js'
import {backendMetrics} from './metrics/backend-metrics.js'
import {memAvailableBytes} from './plan.js'
import {deriveSizes, loadProfile} from './profile.js'
import {formatBytes} from './render.js'
import {gbPerSecond, summarize, type Summary} from './stats.js'
import {maskBackend, storeSpec} from './store-spec.js'
import {withSignals, type StopSignal} from './interrupt.js'
import {cancelRun, openStoreHandle, runBackendBench, runProgress, type BackendBenchPlan, type NativeBackendSize} from '../native.js'

export interface BackendBenchRequest {
  backend: string
  profile: string
  mibPerSize: number
  threads: number
  /** records per pipelined store call of one I/O thread */
  pipeline: number
  fsync: 'never' | 'always'
  direct: boolean
  verify: boolean
  injectCorrupt: boolean
  /** Thresholds checked when the bench ends (a failed one fails the run). */
  gates: BackendGateFlags
  /** Store operations done of the total, a few times a second while the store is measured. */
  onProgress?: (done: number, total: number) => void
}

export interface SizeFigures {
  label: 'chunk' | 'block'
  bytes: number
  ops: number
  put: {gbps: number; latencyUs: Summary | null; failed: number}
  get: {gbps: number; latencyUs: Summary | null; missing: number; corrupt: number}
  verified: boolean | null
  mismatches: number
  firstError: string | null
}

/** tinybench's view of one call, in microseconds. */
export interface CallLatency {
  calls: number
  p50: number
  p99: number
  mean: number
}

export interface LookupFigures {
  keys: number
  /** The synchronous lookup a blocking scheduler makes (waits for the store). */
  sync: {hit: CallLatency; miss: CallLatency}
  /** The non-blocking lookup: the call itself, and how long until the answer was there. */
  nonBlocking: {call: CallLatency; answerUs: Summary}
}

export interface BackendBenchResults {
  backend: {spec: string; store: string; direct: boolean; note: string | null}
  profile: string
  threads: number
  pipeline: number
  fsync: 'never' | 'always'
  verify: boolean
  sizes: SizeFigures[]
  lookup: LookupFigures | null
  /** Some puts or gets failed: the figures cover what completed. */
  partial: boolean
  /** --min-put-gbps, --min-get-gbps, --max-p99-us, each figure they checked */
  gates: Gate[]
}

const MiB = 1024 * 1024

/** GB/s over the time spent in the store; a pass that never reached the store (every call refused at once) moved nothing. */
function rate(bytes: number, ms: number): number {
  return ms > 0 ? gbPerSecond(bytes, ms) : 0
}

function figures(label: 'chunk' | 'block', s: NativeBackendSize, verify: boolean): SizeFigures {
  const okPuts = s.ops - s.putFailed
  const okGets = okPuts - s.getMissing - s.getCorrupt
  return {
    label,
    bytes: s.bytes,
    ops: s.ops,
    put: {gbps: rate(okPuts * s.bytes, s.putWallMs), latencyUs: s.putUs.length ? summarize(s.putUs) : null, failed: s.putFailed},
    get: {gbps: rate(Math.max(0, okGets) * s.bytes, s.getWallMs), latencyUs: s.getUs.length ? summarize(s.getUs) : null, missing: s.getMissing, corrupt: s.getCorrupt},
    // Only records read back whole and compared count as verified.
    verified: verify ? s.putFailed === 0 && s.getMissing === 0 && s.getCorrupt === 0 && s.mismatches === 0 : null,
    mismatches: s.mismatches,
    firstError: s.firstError,
  }
}

function callLatency(task: {result?: unknown} | undefined): CallLatency {
  const result = task?.result as {latency?: {samplesCount: number; p50?: number; p99?: number; mean: number}; error?: Error} | undefined
  if (result?.error) throw result.error
  const lat = result?.latency
  if (!lat) throw new Error('tinybench returned no latency')
  return {calls: lat.samplesCount, p50: (lat.p50 ?? lat.mean) * 1000, p99: (lat.p99 ?? lat.mean) * 1000, mean: lat.mean * 1000}
}

/** Lookup latency, timed by tinybench from this (the scheduler's) thread. */
export async function benchLookups(plan: BackendBenchPlan, recordBytes: number, keys = 64): Promise<LookupFigures> {
  const handle = openStoreHandle({...plan.store, connections: 2, run: `${plan.store.run}l`})
  try {
    for (let k = 0; k < keys; k++) handle.put(k, recordBytes)
    // First, with nothing queued: ask, then ask again after each turn of the event loop, as a scheduler step would.
    const answerUs: number[] = []
    for (let k = 0; k < keys; k++) {
      const t0 = performance.now()
      let a = handle.lookupNonBlocking(k)
      while (a === 'pending') {
        await new Promise((res) => setImmediate(res))
        a = handle.lookupNonBlocking(k)
      }
      if (a !== 'hit') throw new KvError('STORE_IO', `non-blocking lookup of a stored key answered ${a}`, 1)
      answerUs.push((performance.now() - t0) * 1000)
    }
    let hit = 0
    let miss = 2 ** 40
    const fresh = 2 ** 41
    let turn = 0
    const bench = new Bench({time: 150, warmupTime: 20})
    bench.add('sync hit', () => void handle.lookup(hit++ % keys))
    bench.add('sync miss', () => void handle.lookup(miss++))
    // Keys not stored, cycled over a window a scheduler could have waiting: a key asked
    // again while pending is not queued twice, so the store's queue stays bounded.
    bench.add('non-blocking call', () => void handle.lookupNonBlocking(fresh + (turn++ % 4096)))
    await bench.run()
    const task = (name: string) => bench.tasks.find((t) => t.name === name)
    return {
      keys,
      sync: {hit: callLatency(task('sync hit')), miss: callLatency(task('sync miss'))},
      nonBlocking: {call: callLatency(task('non-blocking call')), answerUs: summarize(answerUs)},
    }
  } finally {
    handle.close()
  }
}

// Per record: its put and get latencies (8 bytes each) and a failure flag, plus the vector's slack.
const BOOKKEEPING_BYTES_PER_OP = 24

/**
 * Needed against available before anything is allocated: the host store keeps every record in
 * this process; every store needs the per-record bookkeeping and one buffer per pipelined record.
 */
export function checkBenchMemory(backend: string, sizes: readonly number[], ops: readonly number[], buffers: number, mib: number, available = memAvailableBytes()): void {
  if (ops.some((n) => n > 2 ** 31 - 1)) throw badInput(`--mib ${mib} needs ${Math.max(...ops)} records of one size, more than kvbench counts (2^31 - 1): lower --mib`, 'TOO_BIG')
  let need = 0
  for (let i = 0; i < sizes.length; i++) need += ops[i] * BOOKKEEPING_BYTES_PER_OP + buffers * sizes[i] + (backend === 'host' ? ops[i] * sizes[i] : 0)
  if (available !== null && need > available * 0.9) {
    throw badInput(`--mib ${mib} needs ${formatBytes(need)} of host memory${backend === 'host' ? ' (the host store keeps every record)' : ''} but the host has ${formatBytes(available)} available: lower --mib`, 'TOO_BIG')
  }
}

export interface BackendBenchOutcome {
  results: BackendBenchResults
  /** The signal that stopped the bench early (its records removed; the sizes measured whole kept). */
  signal: StopSignal | null
}

export async function benchBackend(r: BackendBenchRequest): Promise<BackendBenchOutcome> {
  const spec = storeSpec(r.backend, r, 'threads', false)
  if (!spec) throw new Error('unreachable: a store bench always has a store')
  if (!Number.isInteger(r.mibPerSize) || r.mibPerSize < 1) throw badInput(`--mib must be a positive whole number, got ${r.mibPerSize}`)
  const profile = loadProfile(r.profile)
  const sizes = deriveSizes(profile)
  const plan = [
    ['chunk', sizes.chunkBytes],
    ['block', sizes.kvBytesPerBlock],
  ] as const
  const ops = plan.map(([, bytes]) => Math.max(1, Math.floor((r.mibPerSize * MiB) / bytes)))  // --mib as asked, one record at least
  checkBenchMemory(spec.backend, plan.map(([, b]) => b), ops, r.threads * r.pipeline, r.mibPerSize)
  const nativePlan: BackendBenchPlan = {
    store: spec,
    sizes: plan.map(([, b]) => b),
    ops,
    pipeline: r.pipeline,
    verify: r.verify,
    corruptOne: r.injectCorrupt,
  }
  // A signal stops the bench at its next store call; the run's records are removed whatever happens.
  const total = 2 * ops.reduce((a, b) => a + b, 0)  // a put and a get per record
  const poll = r.onProgress ? setInterval(() => r.onProgress?.(runProgress(), total), 200) : null
  const {value: native, signal: during} = await withSignals(cancelRun, () => runBackendBench(nativePlan)).finally(() => poll && clearInterval(poll))
  const figs = native.sizes.map((s, i) => figures(plan[i][0], s, r.verify))
  // Lookups only against a store that answered puts and gets, and not after a signal.
  const healthy = figs.every((f) => f.put.failed === 0 && f.get.missing === 0)
  let lookup: LookupFigures | null = null
  let signal = during
  if (healthy && !during) {
    // A fraction of a second: a signal here lets it finish and close (removing its keys), then stops.
    const l = await withSignals(() => {}, () => benchLookups(nativePlan, sizes.chunkBytes))
    lookup = l.signal ? null : l.value
    signal = l.signal
  }
  const results: BackendBenchResults = {
    backend: {spec: maskBackend(r.backend), store: native.store, direct: native.direct, note: native.note},
    profile: profile.name,
    threads: r.threads,
    pipeline: r.pipeline,
    fsync: r.fsync,
    verify: r.verify,
    sizes: figs,
    lookup,
    partial: !healthy || signal !== null,
    gates: [],
  }
  if (!signal) results.gates = evaluateGates(backendMetrics(results), backendGateSpecs(r.gates))
  return {results, signal}
}
