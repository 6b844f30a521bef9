// `kvbench save|load --trace FILE`: the designs' first traced steps as a Chrome trace-event
// timeline (Perfetto, chrome://tracing). A process per design, tracks: the scheduler's thread
// (each step on the host and every hook call inside it), the compute stream (the forward's steps
// and layers, each save layer opening with its KV write), the connector's copy stream (each job:
// from where its stream could start it, after its layer's KV write, to done) and the connector thread (each job's enqueue). GPU times are CUDA
// events placed on the host clock by one calibration per design; its error is in otherData. With
// a store (--backend other than host), a track per store I/O thread: each request it ran.
import type {NativeDesign} from '../../native/index.js'
import type {TraceEvent, TraceFile} from './backend-trace.js'

const TID = {scheduler: 1, compute: 2, copies: 3, connector: 4} as const
/** Store I/O thread n's track. */
const STORE_TID = 10
const TRACK_NAMES: Record<number, string> = {
  [TID.scheduler]: 'scheduler thread: steps (host) and hooks',
  [TID.compute]: 'compute stream: forward steps and layers (GPU)',
  [TID.copies]: "connector's copy stream: jobs (GPU)",
  [TID.connector]: 'connector thread: enqueues (host)',
}

/** The timeline, and what its note says of it. */
export interface RunTrace {
  file: TraceFile
  /** traced steps over every design, and the designs traced */
  steps: number
  designs: number
  /** the largest GPU-to-host alignment error of the designs' clocks, µs */
  worstAlignErrorUs: number
}

export function traceNote(t: RunTrace, path: string): string {
  return `trace: ${t.steps} steps of ${t.designs} design(s) in ${path} (open it in ui.perfetto.dev; GPU times placed on the host clock within ${t.worstAlignErrorUs.toFixed(1)} µs)`
}

export function runTrace(designs: readonly NativeDesign[], mode: 'save' | 'load', profile: string, tool: {version: string}): RunTrace {
  const traced = designs.filter((d) => d.trace && d.trace.stepsTraced.length > 0)
  let t0 = Infinity
  for (const d of traced) for (const s of d.trace!.stepsTraced) t0 = Math.min(t0, s.wallStartUs, s.gpuStartUs)
  const ts = (us: number) => us - t0
  const events: TraceEvent[] = []
  const alignment: Record<string, number> = {}
  let baselines = 0
  traced.forEach((d, i) => {
    const t = d.trace!
    const pid = i + 1
    // The run's connector-off baseline comes twice: before the designs and after them (the closing one).
    const name = d.design !== 'off' ? `${d.design}/${d.strategy}` : baselines++ === 0 ? 'connector off' : 'connector off (closing)'
    alignment[name] = t.alignErrorUs
    events.push({name: 'process_name', ph: 'M', pid, tid: 0, args: {name: `kvbench ${mode} ${profile}: ${name}`}})
    const tracks = d.design === 'async' && t.copiesTraced ? [TID.scheduler, TID.compute, TID.copies, TID.connector] : [TID.scheduler, TID.compute]
    for (const tid of tracks) events.push({name: 'thread_name', ph: 'M', pid, tid, args: {name: TRACK_NAMES[tid]}})
    for (const s of t.stepsTraced) {
      events.push({name: `step ${s.step}`, ph: 'X', cat: 'step', pid, tid: TID.scheduler, ts: ts(s.wallStartUs), dur: s.wallEndUs - s.wallStartUs, args: {step: s.step}})
      events.push({name: `forward step ${s.step}`, ph: 'X', cat: 'forward', pid, tid: TID.compute, ts: ts(s.gpuStartUs), dur: s.gpuEndUs - s.gpuStartUs, args: {step: s.step}})
      let from = s.gpuStartUs
      s.layerEndUs.forEach((end, layer) => {
        events.push({name: `layer ${layer}`, ph: 'X', cat: 'layer', pid, tid: TID.compute, ts: ts(from), dur: Math.max(0, end - from), args: {step: s.step, layer}})
        // A save's KV write opens the layer: its copies wait for this, not for the layer's end.
        const written = s.kvWrittenUs[layer]
        if (written !== undefined) events.push({name: 'KV write', ph: 'X', cat: 'kv-write', pid, tid: TID.compute, ts: ts(from), dur: Math.max(0, written - from), args: {step: s.step, layer}})
        from = end
      })
    }
    for (const h of t.hooks) events.push({name: t.hookNames[h.hook] ?? `hook ${h.hook}`, ph: 'X', cat: 'hook', pid, tid: TID.scheduler, ts: ts(h.startUs), dur: h.durUs, args: {step: h.step}})
    const ioThreads = new Set<number>()
    for (const c of t.storeCalls ?? []) {
      ioThreads.add(c.thread)
      events.push({name: `store ${c.op}`, ph: 'X', cat: 'store', pid, tid: STORE_TID + c.thread, ts: ts(c.startUs), dur: Math.max(0, c.doneUs - c.startUs), args: {bytes: c.bytes, queuedUs: c.startUs - c.queuedUs, ok: c.ok}})
    }
    for (const n of [...ioThreads].sort((a, b) => a - b)) events.push({name: 'thread_name', ph: 'M', pid, tid: STORE_TID + n, args: {name: `store I/O thread ${n}: requests (host)`}})
    for (const c of t.copies) {
      const args = {job: c.job, step: c.step, layer: c.layer, bytes: c.bytes}
      events.push({name: `${mode} job ${c.job}`, ph: 'X', cat: 'copy', pid, tid: TID.copies, ts: ts(c.gpuStartUs), dur: Math.max(0, c.gpuEndUs - c.gpuStartUs), args})
      events.push({name: `enqueue job ${c.job}`, ph: 'X', cat: 'enqueue', pid, tid: TID.connector, ts: ts(c.enqueueUs), dur: c.enqueuedUs - c.enqueueUs, args})
    }
  })
  const file: TraceFile = {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      kvbench: tool.version,
      clock: 'host steady clock, µs from the first traced step; GPU times are CUDA events placed on it',
      alignmentErrorUs: alignment,
      tracedSteps: traced.map((d) => ({design: d.design, strategy: d.strategy, first: d.trace!.firstStep, steps: d.trace!.stepsTraced.length})),
      copiesDropped: traced.reduce((a, d) => a + d.trace!.copiesDropped, 0),
    },
  }
  return {file, steps: traced.reduce((a, d) => a + d.trace!.stepsTraced.length, 0), designs: traced.length, worstAlignErrorUs: Math.max(0, ...Object.values(alignment))}
}
