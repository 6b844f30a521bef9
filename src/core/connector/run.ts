// `kvbench save|load --connector py:MODULE:CLASS`: profile -> plan -> the Python harness (the user's
// connector and the references beside one torch forward) -> raw samples -> figures, verdicts, gates.
import type {Environment} from '../environment.js'
import {checkDeviceFlag, gpuPreflight} from '../gpu-preflight.js'
import {parseGpuList} from '../gpu-list.js'
import {badInput, KvError} from '../errors.js'
import {LINK_CEILING_BYTES} from '../ceilings.js'
import {connectorGateSpecs, evaluateGates, type Gate, type TransferGateFlags} from '../gates.js'
import {connectorMetrics} from '../metrics/connector-metrics.js'
import {applyOverrides, deriveSizes, loadProfile, type DerivedSizes, type Profile, type ProfileOverrides} from '../profile.js'
import {summarize, type Summary} from '../stats.js'
import {ceilingFigures, designFigures, failedDesign, type ConnectorDesignFigures} from './figures.js'
import {runHarness, runHarnessesTogether, type HarnessLine, type HarnessRun} from './harness.js'
import {summarizeConnectorTogether, type ConnectorGpuWorker, type ConnectorTogether} from './together.js'
import {compareWith, connectorConfig, DEFAULT_ACCESSOR, hookTimeout, streamAccessor, userDesign, type ConnectorDesign} from './spec.js'

export interface ConnectorRequest {
  mode: 'save' | 'load'
  profile: string
  overrides: ProfileOverrides
  device: number
  /** --gpus LIST|all: a harness a GPU, every phase started on all of them together (undefined: --device alone). */
  gpus?: string
  /** py:MODULE:CLASS */
  connector: string
  /** --connector-config as given: JSON or @FILE */
  connectorConfig?: string
  streamAccessor: string
  compareWith: string
  hookTimeoutS: number
  python: string
  verify: boolean
  warmupSteps: number
  gates: TransferGateFlags
  onProgress?: (message: string) => void
}

export interface ConnectorResults {
  direction: 'save' | 'load'
  /** Something stopped the run early, or a design failed: the figures cover what ran. */
  partial: boolean
  verify: boolean
  api: string | null
  profile: Profile
  sizes: DerivedSizes
  connector: {spec: string; configKeys: string[]; streamAccessor: string; compareWith: string[]}
  python: {executable: string; version: string | null; torch: string | null; cuda: string | null; gpu: string | null}
  workload: {
    device: number
    steps: number
    warmupSteps: number
    batch: number
    contextBlocks: number
    blocksPerRequest: number
    gpuBlocks: number
    poolBlocks: number
    /** Arrivals per step that offer `offeredFactor` x the ceiling at the connector-off step time. */
    offeredRequestsPerStep: number | null
    offeredFactor: number
    requestBytes: number | null
    gpuCacheBytes: number
    pinnedPoolBytes: number
  }
  ceilings: {bytes: number; d2hGBps: number; h2dGBps: number} | null
  /** The torch forward: each layer's fixed work as CUDA graphs (as vLLM's piecewise graphs), or eager where capture failed. */
  forward: {cudaGraphs: boolean} | null
  /** Host time the harness reports for a hook that returns at once: the floor of every hook figure. */
  harnessFloorUs: Summary | null
  designs: ConnectorDesignFigures[]
  /** Median GPU step of the closing baseline over the opening one, in percent: the run's drift. */
  baselineDriftPct: number | null
  stopped: {reason: 'hook-timeout' | 'crash' | 'unresponsive' | 'interrupted' | 'failed' | 'peer'; design: string | null; hook: string | null; message: string; outputTail?: string[]} | null
  gates: Gate[]
  /** --gpus: every GPU's harness in the order named (this shape, without these two), or its failure; the figures above are the first GPU's that ran. */
  workers?: ConnectorGpuWorker[] | null
  together?: ConnectorTogether | null
}

export interface ConnectorOutcome {
  environment: Environment
  results: ConnectorResults
  notes: string[]
  /** The exit code the run asks for (0, 1, 130, 143) */
  exitCode: number
}

const MiB = 1024 * 1024
// The harness's workload, in requests: prompts saved before loads are measured (load), requests
// that may hold GPU blocks at once, and the reference pool's slots beyond the filled prompts.
const FILL_REQUESTS = 16
const TRANSFER_REQUESTS = 32
const POOL_SPARE_REQUESTS = 8
const DEFAULT_STEPS = 100

export function planConnectorRun(req: ConnectorRequest) {
  checkDeviceFlag(req.device)
  const user = userDesign(req.connector)
  const refs = compareWith(req.compareWith)
  const designs: ConnectorDesign[] = [user, ...refs]
  const config = connectorConfig(req.connectorConfig)
  const accessor = streamAccessor(req.streamAccessor)
  hookTimeout(req.hookTimeoutS)
  if (!Number.isInteger(req.warmupSteps) || req.warmupSteps < 0) throw badInput(`--warmup must be a whole number, got ${req.warmupSteps}`)
  const profile = applyOverrides(loadProfile(req.profile), req.overrides)
  const sizes = deriveSizes(profile)
  const w = profile.workload
  const a = profile.attention
  const contextBlocks = Math.ceil(w.promptTokens / profile.blockSize)
  const blocksPerRequest = Math.max(2, Math.round(contextBlocks * w.prefixHitRate))
  const gpuBlocks = w.batch * contextBlocks + TRANSFER_REQUESTS * blocksPerRequest
  const blockBytes = sizes.layerBlockBytes * profile.layers
  const poolBlocks = (FILL_REQUESTS + POOL_SPARE_REQUESTS) * blocksPerRequest
  const H = profile.hiddenSize
  const M = profile.mlpSize
  const qkvOut = a.kind === 'gqa' ? (a.queryHeads + 2 * a.kvHeads) * a.headDim : 2 * H
  const gpuCacheBytes = gpuBlocks * blockBytes
  const weightBytes = 2 * (H * qkvOut + H * H + 2 * H * M + M * H)
  const gpuBytesNeeded = gpuCacheBytes + blocksPerRequest * blockBytes + weightBytes + LINK_CEILING_BYTES + 2048 * MiB
  const steps = req.overrides.decodeSteps ?? Math.min(w.decodeSteps, DEFAULT_STEPS)
  const harnessConfig = {
    direction: req.mode,
    device: req.device,
    designs,
    connectorConfig: config,
    // null: torch's own per-thread accessor, which the harness calls without importing anything first
    streamAccessor: accessor === DEFAULT_ACCESSOR ? null : accessor,
    hookTimeoutS: req.hookTimeoutS,
    warmupSteps: req.warmupSteps,
    measuredSteps: steps,
    ceilingBytes: LINK_CEILING_BYTES,
    ceilingIterations: 10,
    poolBlocks,
    gpuBytesNeeded,
    // The references' pools (one at a time) and the ceiling's buffer; checked in Python before allocating.
    pinnedBytes: (refs.length > 0 ? poolBlocks * blockBytes : 0) + LINK_CEILING_BYTES / 2,
    geometry: {
      attention: a.kind, layers: profile.layers, parts: sizes.parts, gpuBlocks, blockSize: profile.blockSize, valuesPerTokenPart: sizes.valuesPerTokenPart,
      kvHeads: a.kind === 'gqa' ? a.kvHeads : 1, headDim: a.kind === 'gqa' ? a.headDim : a.latentDim, hiddenSize: H, mlpSize: M, qkvOut,
      batch: w.batch, contextBlocks, blocksPerRequest,
    },
    plan: {verify: req.verify, maxWaiting: TRANSFER_REQUESTS * 2, fillRequests: FILL_REQUESTS, fillStepLimit: 4000, drainStepLimit: 4000, calibrationSteps: 10, offeredFactor: 1.15, returningPerStep: 0.25},
  }
  return {user, refs, designs, config, profile, sizes, harnessConfig, gpuCacheBytes, pinnedPoolBytes: poolBlocks * blockBytes, steps, contextBlocks, blocksPerRequest, gpuBlocks, poolBlocks}
}

export async function runConnectorBench(req: ConnectorRequest, publish: (env: Environment) => void = () => {}): Promise<ConnectorOutcome> {
  if (req.gpus !== undefined) return runConnectorOnGpus(req, req.gpus, publish)
  const p = planConnectorRun(req)
  const gateSpecs = connectorGateSpecs(req.gates)
  // torch in the harness finds the GPU (or says it cannot): the preflight only describes the machine
  const {environment} = gpuPreflight(req.device)
  publish(environment)
  req.onProgress?.(`${req.mode}: ${p.profile.name}, designs ${p.designs.map((d) => d.name).join('/')} beside a torch forward on GPU ${req.device}`)
  const run = await runHarness({python: req.python, config: p.harnessConfig, silenceMs: silenceMsOf(req), recordTo: process.env.KVBENCH_CONNECTOR_RAW || undefined, onLine: progressOf(req)})
  checkStarted(run, req)
  const fatal = fatalOf(run)
  if (fatal && !measured(run)) throw fatalError(fatal)
  const notes: string[] = []
  const results = harnessResults(run, fatal, p, req, notes)
  results.gates = results.partial ? [] : evaluateGates(connectorMetrics(results), gateSpecs)
  notes.push(...verificationFailures(results))
  return {environment, results, notes, exitCode: exitCodeOf(results, run.interrupt)}
}

const silenceMsOf = (req: ConnectorRequest) => (req.hookTimeoutS + 15) * 1000
const progressOf = (req: ConnectorRequest, gpu = '') => (l: HarnessLine) => {
  if (l.type === 'design') req.onProgress?.(`${gpu}${l.name} done`)
}
const fatalOf = (run: HarnessRun) => run.lines.find((l) => l.type === 'fatal')
const measured = (run: HarnessRun) => run.lines.some((l) => l.type === 'design' || l.type === 'design-error')
const fatalError = (fatal: HarnessLine) => new KvError(fatal.code as string, fatal.message as string, fatal.exit as number)

/** Not a Python that runs kvbench's harness (/bin/false, node, a Python 2): bad input, not a crash. */
function checkStarted(run: HarnessRun, req: ConnectorRequest): void {
  if (run.lines.some((l) => l.type === 'hello') || run.killedBy || run.signal) return
  const tail = run.outputTail.at(-1)
  throw badInput(`--python ${req.python}: did not start kvbench's connector harness (exit ${run.exitCode})${tail ? `: ${tail}` : ''}`)
}

/** One harness's figures, with the stop its fatal line (fatalOf) made when something was measured first. */
function harnessResults(run: HarnessRun, fatal: HarnessLine | undefined, p: ReturnType<typeof planConnectorRun>, req: ConnectorRequest, notes: string[]): ConnectorResults {
  const results = connectorResults(run, p, req, notes)
  if (fatal) {
    results.stopped = {reason: 'failed', design: null, hook: null, message: fatal.message as string, outputTail: run.outputTail}
    results.partial = true
    notes.push(`run stopped: ${fatal.message}`)
  }
  return results
}

/**
 * --gpus with a py: connector: one harness a GPU, all at once, every phase started together. The
 * result's own figures are the first GPU's that measured something (workers and together hold every
 * GPU's and their sum); notes every GPU gave are said once, the others with their GPU; gates hold
 * on every GPU.
 */
async function runConnectorOnGpus(req: ConnectorRequest, gpus: string, publish: (env: Environment) => void): Promise<ConnectorOutcome> {
  const gateSpecs = connectorGateSpecs(req.gates)
  planConnectorRun(req)  // the flags and the profile are checked before the GPUs are looked at
  // The GPUs named are checked against those the addon lists: without it they cannot be.
  const {environment, problem} = gpuPreflight()
  publish(environment)
  if (problem) throw problem
  const devices = parseGpuList(gpus, environment.gpus.map((g) => g.index))
  environment.gpus = environment.gpus.filter((g) => devices.includes(g.index))
  const plans = devices.map((device) => ({device, req: {...req, device}, p: planConnectorRun({...req, device})}))
  // Every harness pins its pools at once: the host's available memory is checked against them all.
  const pinnedTogether = plans.reduce((a, x) => a + x.p.harnessConfig.pinnedBytes, 0)
  req.onProgress?.(`${req.mode}: ${plans[0].p.profile.name}, designs ${plans[0].p.designs.map((d) => d.name).join('/')} beside a torch forward on GPUs ${devices.join(', ')} at once`)
  const raw = process.env.KVBENCH_CONNECTOR_RAW
  const runs = await runHarnessesTogether(
    plans.map((x) => ({
      python: req.python,
      config: {...x.p.harnessConfig, together: true, pinnedBytesTogether: pinnedTogether},
      silenceMs: silenceMsOf(req),
      recordTo: raw ? `${raw}.gpu${x.device}` : undefined,
      onLine: progressOf(req, `GPU ${x.device}: `),
    })),
  )
  runs.forEach((run) => checkStarted(run, req))
  const workerNotes: string[][] = []
  const workers: ConnectorGpuWorker[] = plans.map((x, i) => {
    const run = runs[i]
    const fatal = fatalOf(run)
    const notes: string[] = []
    workerNotes.push(notes)
    if (fatal && !measured(run)) return {device: x.device, results: null, error: fatal.message as string}
    return {device: x.device, results: harnessResults(run, fatal, x.p, x.req, notes), error: null}
  })
  const first = workers.findIndex((w) => w.results !== null)
  if (first < 0) {
    const fatal = runs.map(fatalOf).find((l) => l !== undefined)
    throw fatalError(fatal ?? {type: 'fatal', code: 'PYTHON_FAILED', message: `GPU ${devices[0]}: the harness measured nothing`, exit: 1})
  }
  // A harness stopped because another ended early says which one.
  const cause = workers.find((w) => (w.results ? w.results.stopped && w.results.stopped.reason !== 'peer' && w.results.stopped.reason !== 'interrupted' : w.error))
  for (const w of workers) {
    const s = w.results?.stopped
    if (s?.reason !== 'peer') continue
    s.message = `stopped with the other GPUs: ${cause ? `GPU ${cause.device}'s harness ended early (${cause.error ?? cause.results?.stopped?.message})` : 'another GPU\'s harness ended early'}`
  }
  const notes: string[] = []
  const noted = workerNotes.filter((_, i) => workers[i].results !== null)
  for (const n of new Set(noted.flat())) {
    const on = workers.filter((_, i) => workers[i].results !== null && workerNotes[i].includes(n)).map((w) => w.device)
    notes.push(on.length === noted.length ? n : `GPU ${on.join(', ')}: ${n}`)
  }
  for (const w of workers) if (w.error) notes.push(`GPU ${w.device}'s harness FAILED: ${w.error}`)
  const ran = workers.filter((w): w is ConnectorGpuWorker & {results: ConnectorResults} => w.results !== null)
  const results: ConnectorResults = {...workers[first].results!, workers, together: summarizeConnectorTogether(workers)}
  if (workers.some((w) => w.error || w.results?.partial)) results.partial = true
  // Gates check every GPU's figures (named gpu<N>/...) and the sums (together/...).
  results.gates = results.partial ? [] : evaluateGates(connectorMetrics(results), gateSpecs)
  for (const w of ran) notes.push(...verificationFailures(w.results).map((n) => `GPU ${w.device}: ${n}`))
  const interrupt = runs.find((r) => r.interrupt)?.interrupt ?? null
  const wrong = ran.some((w) => wrongDesigns(w.results).length > 0)
  return {environment, results, notes, exitCode: exitCodeOf(results, interrupt, wrong)}
}

/** The run's figures from the harness's raw lines (exported for tests that replay recorded lines). */
export function connectorResults(run: HarnessRun, p: ReturnType<typeof planConnectorRun>, req: ConnectorRequest, notes: string[]): ConnectorResults {
  const by = (t: string) => run.lines.filter((l) => l.type === t)
  const hello = by('hello')[0]
  const torch = by('torch')[0]
  const ceilLine = by('ceiling')[0]
  const ceilings = ceilLine ? ceilingFigures(ceilLine) : null
  const floor = by('floor')[0]
  const offered = by('offered')[0]
  const fwd = by('forward')[0]
  if (fwd?.note) notes.push(fwd.note as string)
  const lines = by('design')
  const before = lines.find((l) => l.name === 'off-before')
  const baseStep = (l: HarnessLine | undefined) => {
    const gpu = (l?.stepGpuMs as number[] | undefined) ?? []
    const wall = (l?.stepWallMs as number[] | undefined) ?? []
    return gpu.length && wall.length ? {gpu: summarize(gpu).p50, wall: summarize(wall).p50} : null
  }
  const baseline = baseStep(before)
  const designs = lines.map((l) => designFigures(l, ceilings ?? {d2hGBps: 0, h2dGBps: 0}, l.name === 'off-before' ? null : baseline, req.verify))
  for (const e of by('design-error')) {
    const d = p.designs.find((x) => x.name === e.design)
    designs.push(failedDesign(String(e.design), d?.role ?? 'user', d?.spec ?? null, e.hook as string, e.message as string))
    notes.push(`design ${e.design} stopped: its ${e.hook} raised ${e.message}; the other designs' figures are kept`)
  }
  const after = baseStep(lines.find((l) => l.name === 'off-after'))
  const stopped = stoppedBy(run)
  if (stopped) stopped.outputTail = run.outputTail  // what Python and the connector printed last: the crash's traceback
  if (stopped) notes.push(`run stopped: ${stopped.message}`)
  if (!req.verify) notes.push('verification skipped: --no-verify (loaded blocks were not checked)')
  for (const d of designs) {
    if (d.role !== 'baseline' && !d.error && d.verify.requests === 0 && req.verify) notes.push(`${d.name}: no prefix came back loaded, so nothing it saved was checked`)
    if (d.drain.undrained > 0) notes.push(`${d.name}: ${d.drain.undrained} requests still in flight after ${d.drain.steps} drain steps`)
  }
  if (floor) notes.push(`the harness's own floor: a hook that returns at once reads ${summarize((floor.ns as number[]).map((v) => v / 1000)).p50.toFixed(2)} µs at p50; every hook figure includes it`)
  return {
    direction: req.mode,
    partial: stopped !== null || by('design-error').length > 0,
    verify: req.verify,
    api: (hello?.api as string) ?? null,
    profile: p.profile,
    sizes: p.sizes,
    connector: {spec: req.connector, configKeys: Object.keys(p.config), streamAccessor: req.streamAccessor, compareWith: p.refs.map((r) => r.name)},
    python: {executable: (hello?.executable as string) ?? req.python, version: (hello?.python as string) ?? null, torch: (torch?.version as string) ?? null, cuda: (torch?.cuda as string) ?? null, gpu: (torch?.gpu as string) ?? null},
    workload: {
      device: req.device, steps: p.steps, warmupSteps: req.warmupSteps, batch: p.profile.workload.batch, contextBlocks: p.contextBlocks, blocksPerRequest: p.blocksPerRequest,
      gpuBlocks: p.gpuBlocks, poolBlocks: p.poolBlocks, offeredRequestsPerStep: (offered?.requestsPerStep as number) ?? null, offeredFactor: p.harnessConfig.plan.offeredFactor,
      requestBytes: (offered?.requestBytes as number) ?? null, gpuCacheBytes: p.gpuCacheBytes, pinnedPoolBytes: p.pinnedPoolBytes,
    },
    ceilings,
    forward: fwd ? {cudaGraphs: Boolean(fwd.graphs)} : null,
    harnessFloorUs: floor ? summarize((floor.ns as number[]).map((v) => v / 1000)) : null,
    designs,
    baselineDriftPct: baseline && after ? (100 * (after.gpu - baseline.gpu)) / baseline.gpu : null,
    stopped,
    gates: [],
  }
}

function stoppedBy(run: HarnessRun): ConnectorResults['stopped'] {
  const timeout = run.lines.find((l) => l.type === 'hook-timeout')
  if (timeout) {
    return {reason: 'hook-timeout', design: timeout.design as string, hook: timeout.hook as string, message: `${timeout.design}: its ${timeout.hook} blocked past --hook-timeout ${timeout.timeoutS} s`}
  }
  const design = run.lastBeat.design
  const inHook = run.lastBeat.hook ? ` in ${run.lastBeat.hook}` : ''
  if (!run.interrupt && (run.killedBy === 'peer' || run.lines.some((l) => l.type === 'peer-stopped'))) {
    return {reason: 'peer', design, hook: null, message: 'stopped with the other GPUs: another GPU\'s harness ended early'}
  }
  if (run.killedBy === 'interrupt' || run.lines.some((l) => l.type === 'interrupted')) {
    return {reason: 'interrupted', design, hook: null, message: `interrupted (${run.interrupt ?? 'SIGINT'}): the Python process was ended; figures cover the designs that finished`}
  }
  if (run.killedBy === 'unresponsive') {
    return {reason: 'unresponsive', design, hook: run.lastBeat.hook, message: `the Python process stopped reporting${inHook}${design ? ` (design ${design})` : ''} for longer than --hook-timeout + 15 s (a hook holding the GIL?) and was killed`}
  }
  if (run.signal) {
    // faulthandler's first frame: the line of the connector (or its extension's caller) that crashed
    const at = run.outputTail.findIndex((l) => l.startsWith('Current thread'))
    const tail = at >= 0 && run.outputTail[at + 1] ? run.outputTail[at + 1].trim() : run.outputTail.at(-1)
    return {reason: 'crash', design, hook: run.lastBeat.hook, message: `the Python process died of ${run.signal}${design ? ` during design ${design}${inHook}` : ''}${tail ? ` (last output: ${tail})` : ''}`}
  }
  const done = run.lines.some((l) => l.type === 'done')
  if (!done && !run.lines.some((l) => l.type === 'fatal' || l.type === 'design-error')) {
    const tail = run.outputTail.at(-1)
    return {reason: 'crash', design, hook: null, message: `the Python process exited with code ${run.exitCode} before reporting${tail ? ` (last output: ${tail})` : ''}`}
  }
  return null
}

/** A design (not the baseline) whose loaded chunks or forward outputs were wrong: one note each. */
function wrongDesigns(r: ConnectorResults): ConnectorDesignFigures[] {
  return r.designs.filter((d) => d.role !== 'baseline' && (d.verify.verified === false || !d.outputs.correct))
}

function verificationFailures(r: ConnectorResults): string[] {
  return wrongDesigns(r).map((d) => {
    const what = [d.verify.verified === false ? `${d.verify.chunksBad} loaded chunks differ` : '', d.outputs.correct ? '' : `${d.outputs.wrong + d.outputs.nonFinite} of ${d.outputs.steps} forward outputs wrong (${d.outputs.nonFinite} NaN)`]
    return `verification FAILED: ${d.name}: ${what.filter(Boolean).join('; ')}`
  })
}

function exitCodeOf(r: ConnectorResults, interrupt: NodeJS.Signals | null, wrong = wrongDesigns(r).length > 0): number {
  if (interrupt || r.stopped?.reason === 'interrupted') return interrupt === 'SIGTERM' ? 143 : 130
  if (r.partial) return 1
  return wrong || r.gates.some((g) => !g.passed) ? 1 : 0
}
