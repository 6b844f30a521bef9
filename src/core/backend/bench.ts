// `kvbench backend bench`: a store alone, from host memory, at a profile's chunk and
// block sizes. No GPU. Sizes and op counts are decided here, once.
import {Bench} from 'tinybench'

import {badInput, KvError} from '../errors.js'
import {backendGateSpecs, evaluateGates, type BackendGateFlags, type Gate} from '../gates.js'
import {backendMetrics} from '../metrics/backend-metrics.js'
import {memAvailableBytes} from '../plan.js'
import {deriveSizes, loadProfile} from '../profile.js'
import {formatBytes} from '../bytes.js'
import {gbPerSecond, summarize, type Summary} from '../stats.js'
import {maskBackend, storeKind, storeSpec} from '../store-spec.js'
import {withSignals, type StopSignal} from '../interrupt.js'
import {toolInfo} from '../tool-info.js'
import {backendTrace, type TraceFile} from '../trace/backend-trace.js'
import {cancelRun, openStoreHandle, runBackendBench, watchRunProgress, type BackendBenchPlan, type NativeBackendBench, type NativeBackendSize} from '../../native/index.js'

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
  /** Measured repetitions (--runs) after unmeasured ones (--warmup-runs), each a whole bench. */
  runs: number
  warmupRuns: number
  /** Store operations done of the total, a few times a second while the store is measured. */
  onProgress?: (done: number, total: number) => void
  /** --trace: keep every store call of the measured runs for a timeline */
  trace?: boolean
}

export interface SizeFigures {
  label: 'chunk' | 'block'
  bytes: number
  ops: number
  /** gbps: the median of the runs; runsGBps: each measured run's */
  put: {gbps: number; runsGBps: number[]; latencyUs: Summary | null; failed: number}
  get: {gbps: number; runsGBps: number[]; latencyUs: Summary | null; missing: number; corrupt: number}
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
  /** Measured runs (fewer than --runs when a signal stopped the bench), and warm-up runs before them. */
  runs: number
  warmupRuns: number
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

/**
 * One record size over the measured runs: GB/s the median of the runs (each run's figure kept in
 * runsGBps, their range the spread), latencies over every call of every run, failures summed.
 */
function figures(label: 'chunk' | 'block', runs: readonly NativeBackendSize[], verify: boolean): SizeFigures {
  const sum = (f: (s: NativeBackendSize) => number) => runs.reduce((a, s) => a + f(s), 0)
  const put = runs.map((s) => rate((s.ops - s.putFailed) * s.bytes, s.putWallMs))
  const get = runs.map((s) => rate(Math.max(0, s.ops - s.putFailed - s.getMissing - s.getCorrupt) * s.bytes, s.getWallMs))
  const putUs = runs.flatMap((s) => s.putUs)
  const getUs = runs.flatMap((s) => s.getUs)
  const [putFailed, getMissing, getCorrupt, mismatches] = [sum((s) => s.putFailed), sum((s) => s.getMissing), sum((s) => s.getCorrupt), sum((s) => s.mismatches)]
  return {
    label,
    bytes: runs[0].bytes,
    ops: runs[0].ops,
    put: {gbps: summarize(put).p50, runsGBps: put, latencyUs: putUs.length ? summarize(putUs) : null, failed: putFailed},
    get: {gbps: summarize(get).p50, runsGBps: get, latencyUs: getUs.length ? summarize(getUs) : null, missing: getMissing, corrupt: getCorrupt},
    // Only records read back whole and compared count as verified.
    verified: verify ? putFailed === 0 && getMissing === 0 && getCorrupt === 0 && mismatches === 0 : null,
    mismatches,
    firstError: runs.map((s) => s.firstError).find((e) => e) ?? null,
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
  /** --trace: the measured runs' store calls as a trace-event timeline; null without it */
  trace: TraceFile | null
  /** The signal that stopped the bench early (its records removed; the sizes measured whole kept). */
  signal: StopSignal | null
}

/** Everything a bench decides before it touches the store: sizes, op counts, the native plan. */
export interface BackendBenchSetup {
  request: BackendBenchRequest
  profileName: string
  chunkBytes: number
  sizes: ReadonlyArray<readonly ['chunk' | 'block', number]>
  ops: number[]
  nativePlan: BackendBenchPlan
}

/** The checks and sizes of a bench, without running it: every refusal here is bad input. */
export function planBackendBench(r: BackendBenchRequest): BackendBenchSetup {
  const spec = storeSpec(r.backend, r, 'threads', false)
  if (!spec) throw new Error('unreachable: a store bench always has a store')
  if (!Number.isInteger(r.mibPerSize) || r.mibPerSize < 1) throw badInput(`--mib must be a positive whole number, got ${r.mibPerSize}`)
  if (!Number.isInteger(r.runs) || r.runs < 1 || r.runs > 100) throw badInput(`--runs must be between 1 and 100, got ${r.runs}`)
  if (!Number.isInteger(r.warmupRuns) || r.warmupRuns < 0 || r.warmupRuns > 10) throw badInput(`--warmup-runs must be between 0 and 10, got ${r.warmupRuns}`)
  const profile = loadProfile(r.profile)
  const derived = deriveSizes(profile)
  const sizes = [
    ['chunk', derived.chunkBytes],
    ['block', derived.kvBytesPerBlock],
  ] as const
  const ops = sizes.map(([, bytes]) => Math.max(1, Math.floor((r.mibPerSize * MiB) / bytes)))  // --mib as asked, one record at least
  checkBenchMemory(spec.backend, sizes.map(([, b]) => b), ops, r.threads * r.pipeline, r.mibPerSize)
  const nativePlan: BackendBenchPlan = {
    store: spec,
    sizes: sizes.map(([, b]) => b),
    ops,
    pipeline: r.pipeline,
    verify: r.verify,
    corruptOne: r.injectCorrupt,
    trace: r.trace === true,
  }
  return {request: r, profileName: profile.name, chunkBytes: derived.chunkBytes, sizes, ops, nativePlan}
}

export async function benchBackend(setup: BackendBenchSetup): Promise<BackendBenchOutcome> {
  const {request: r, sizes: plan, ops, nativePlan} = setup
  // A signal stops the bench at its next store call; each run's records are removed whatever happens.
  const perRun = 2 * ops.reduce((a, b) => a + b, 0)  // a put and a get per record
  const total = perRun * (r.warmupRuns + r.runs)
  let finished = 0
  const onProgress = r.onProgress
  const stopWatching = onProgress ? watchRunProgress(({done}) => onProgress(finished * perRun + done, total)) : null
  const measured: NativeBackendBench[] = []
  const {signal: during} = await withSignals(cancelRun, async () => {
    for (let i = 0; i < r.warmupRuns + r.runs; i++) {
      const native = await runBackendBench(nativePlan)
      finished++
      if (native.cancelled) {
        if (i >= r.warmupRuns && native.sizes.length > 0) measured.push(native)
        return
      }
      if (i >= r.warmupRuns) measured.push(native)
    }
  }).finally(() => stopWatching?.())
  const first = measured[0]
  // Sizes every measured run finished whole.
  const whole = Math.min(...measured.map((m) => m.sizes.length), 2)
  const figs = first ? plan.slice(0, whole).map(([label], i) => figures(label, measured.map((m) => m.sizes[i]), r.verify)) : []
  // Lookups only against a store that answered puts and gets, and not after a signal.
  const healthy = figs.every((f) => f.put.failed === 0 && f.get.missing === 0)
  let lookup: LookupFigures | null = null
  let signal = during
  if (healthy && !during) {
    // A fraction of a second: a signal here lets it finish and close (removing its keys), then stops.
    const l = await withSignals(() => {}, () => benchLookups(nativePlan, setup.chunkBytes))
    lookup = l.signal ? null : l.value
    signal = l.signal
  }
  const results: BackendBenchResults = {
    backend: {spec: maskBackend(r.backend), store: first?.store ?? storeKind(r.backend), direct: first?.direct ?? false, note: first?.note ?? null},
    profile: setup.profileName,
    threads: r.threads,
    pipeline: r.pipeline,
    fsync: r.fsync,
    verify: r.verify,
    runs: measured.length,
    warmupRuns: r.warmupRuns,
    sizes: figs,
    lookup,
    partial: !healthy || signal !== null,
    gates: [],
  }
  if (!signal) results.gates = evaluateGates(backendMetrics(results), backendGateSpecs(r.gates))
  const trace = r.trace ? backendTrace(measured, plan.slice(0, whole).map(([label, bytes]) => `${label} ${formatBytes(bytes)}`), toolInfo()) : null
  return {results, signal, trace}
}
