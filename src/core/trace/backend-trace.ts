// `kvbench backend bench --trace FILE`: the bench as a Chrome trace-event timeline (Perfetto,
// chrome://tracing): a track of the passes (each size's put and get pass, per measured run) and a
// track per I/O thread with every pipelined store call. Times are the host's steady clock, as the
// native core read it around each call, from the first call traced.
import type {NativeBackendBench} from '../../native/index.js'

/** One complete event ('X') or a metadata event ('M') naming a process or a track. */
export interface TraceEvent {
  name: string
  ph: 'X' | 'M'
  pid: number
  tid: number
  ts?: number
  dur?: number
  cat?: string
  args?: Record<string, unknown>
}

export interface TraceFile {
  traceEvents: TraceEvent[]
  displayTimeUnit: 'ms'
  otherData: Record<string, unknown>
}

// Far under 50 MB a file (about 150 bytes an event); a longer bench keeps its first calls and says so.
export const MAX_TRACE_EVENTS = 250_000

const PID = 1
const PASSES_TID = 0

export function backendTrace(runs: readonly NativeBackendBench[], labels: readonly string[], tool: {version: string}): TraceFile {
  const events: TraceEvent[] = []
  const threads = new Set<number>()
  let t0 = Infinity
  for (const run of runs) for (const s of run.sizes) for (const c of s.calls) t0 = Math.min(t0, c.startUs)
  let dropped = 0
  runs.forEach((run, ri) => {
    run.sizes.forEach((size, si) => {
      for (const op of ['put', 'get'] as const) {
        const calls = size.calls.filter((c) => c.op === op)
        if (calls.length === 0) continue
        const start = Math.min(...calls.map((c) => c.startUs))
        const end = Math.max(...calls.map((c) => c.startUs + c.us))
        const records = calls.reduce((a, c) => a + c.records, 0)
        events.push({name: `${op} ${labels[si] ?? si} (run ${ri + 1})`, ph: 'X', cat: 'pass', pid: PID, tid: PASSES_TID, ts: start - t0, dur: end - start, args: {recordBytes: size.bytes, records}})
        for (const c of calls) {
          if (events.length >= MAX_TRACE_EVENTS) {
            dropped++
            continue
          }
          threads.add(c.thread)
          events.push({name: op, ph: 'X', cat: 'store', pid: PID, tid: c.thread + 1, ts: c.startUs - t0, dur: c.us, args: {records: c.records, bytes: c.records * size.bytes}})
        }
      }
    })
  })
  const store = runs[0]?.store ?? ''
  const meta: TraceEvent[] = [
    {name: 'process_name', ph: 'M', pid: PID, tid: PASSES_TID, args: {name: `kvbench backend bench: ${store}`}},
    {name: 'thread_name', ph: 'M', pid: PID, tid: PASSES_TID, args: {name: 'passes'}},
    ...[...threads].sort((a, b) => a - b).map((t): TraceEvent => ({name: 'thread_name', ph: 'M', pid: PID, tid: t + 1, args: {name: `I/O thread ${t}`}})),
  ]
  return {
    traceEvents: [...meta, ...events],
    displayTimeUnit: 'ms',
    otherData: {kvbench: tool.version, clock: 'host steady clock, µs from the first store call', droppedCalls: dropped},
  }
}
