// Runs python/kvbench_connector/harness.py in the user's Python: an argument array (no shell),
// report lines on file descriptor 3, a watchdog on its heartbeat, and one way every run can end.
import {spawn} from 'node:child_process'
import {appendFileSync, existsSync} from 'node:fs'
import {delimiter, dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {KvError} from '../errors.js'

/** One line of the harness's report (see harness.py for the kinds). */
export type HarnessLine = {type: string} & Record<string, unknown>

export interface HarnessRun {
  lines: HarnessLine[]
  /** How the process ended: its code, or the signal that ended it. */
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** Why kvbench ended it, when it did. */
  killedBy: 'interrupt' | 'unresponsive' | 'peer' | null
  /** The signal kvbench received (SIGINT, SIGTERM), when interrupted. */
  interrupt: NodeJS.Signals | null
  /** The design and hook the last heartbeat named: where a crash or a hang happened. */
  lastBeat: {design: string | null; hook: string | null}
  /** The last lines the connector and Python printed (stdout and stderr), for reports of a crash. */
  outputTail: string[]
}

/** Where kvbench's own Python lives: the checkout (dist/core/connector -> ../../..) or the bundle (lib -> ..). */
export function pythonRoots(): {harness: string; examples: string} {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const root of [resolve(here, '..', '..', '..'), resolve(here, '..')]) {
    const harness = resolve(root, 'python')
    if (existsSync(resolve(harness, 'kvbench_connector', 'harness.py'))) return {harness, examples: resolve(root, 'examples')}
  }
  throw new KvError('INTERNAL', 'python/kvbench_connector is missing from this installation', 1)
}

export interface HarnessOptions {
  python: string
  config: Record<string, unknown>
  /** A child that reports nothing for this long is ended (a hook holding the GIL). */
  silenceMs: number
  onLine?: (line: HarnessLine) => void
  /** Append every report line to this file as it comes (KVBENCH_CONNECTOR_RAW): raw samples for tests and bug reports. */
  recordTo?: string
  /** --gpus: the child waits at each phase's start (a `ready` line) for kvbench's word on its stdin. */
  together?: PhaseMember
}

/** One harness's side of the phase starts: told when it is ready for a phase, and when it ended. */
export interface PhaseMember {
  /** The harness waits for `answer` before it starts `phase`. */
  ready(phase: string, answer: (word: 'go' | 'stop') => void): void
  /** It ended; `done`: with its done line (a clean end). */
  ended(done: boolean): void
  /** Hands over how to end it now, mid-phase (SIGINT, as Ctrl-C does: it reports what it has). */
  bindStop(stop: () => void): void
}

const TAIL = 60

export function runHarness(o: HarnessOptions): Promise<HarnessRun> {
  const roots = pythonRoots()
  const env = {...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: [roots.harness, process.env.PYTHONPATH].filter(Boolean).join(delimiter)}
  const config = JSON.stringify({...o.config, examplesDir: roots.examples})
  return new Promise((resolvePromise, reject) => {
    // -m puts the working directory first on sys.path, so the user's module imports as it would in their engine.
    const child = spawn(o.python, ['-m', 'kvbench_connector.harness', '--config', config], {env, stdio: [o.together ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe']})
    child.stdin?.on('error', () => {})  // a child that died before its answer: its close says so
    const run: HarnessRun = {lines: [], exitCode: null, signal: null, killedBy: null, interrupt: null, lastBeat: {design: null, hook: null}, outputTail: []}
    let last = Date.now()
    let pending = ''
    const keep = (l: string) => {
      if (!l.trim()) return
      run.outputTail.push(l)
      if (run.outputTail.length > TAIL) run.outputTail.shift()
    }
    // A pipe's chunks split lines anywhere (a traceback's `File "...", line N` arrived as "File" and the rest):
    // each stream keeps its unfinished line until its newline or its end.
    const tailOf = (stream: NodeJS.ReadableStream | null) => {
      let partial = ''
      stream?.on('data', (chunk: Buffer) => {
        const parts = (partial + chunk.toString('utf8')).split('\n')
        partial = parts.pop() ?? ''
        for (const l of parts) keep(l)
      })
      stream?.on('end', () => keep(partial))
    }
    tailOf(child.stdout)
    tailOf(child.stderr)
    const report = child.stdio[3] as NodeJS.ReadableStream
    report.on('data', (chunk: Buffer) => {
      last = Date.now()
      pending += chunk.toString('utf8')
      let nl
      while ((nl = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (!text.trim()) continue
        let line: HarnessLine
        try {
          line = JSON.parse(text) as HarnessLine
        } catch {
          continue  // not ours: nothing else writes to fd 3 unless a connector opens it
        }
        if (o.recordTo) appendFileSync(o.recordTo, `${text}\n`)
        if (line.type === 'beat' || line.type === 'phase') run.lastBeat = {design: (line.design as string) ?? null, hook: (line.hook as string) ?? null}
        else if (line.type === 'ready' && o.together) o.together.ready(String(line.phase), (word) => child.stdin?.write(`${word}\n`))
        else run.lines.push(line)
        o.onLine?.(line)
      }
    })
    const end = (why: HarnessRun['killedBy']) => {
      if (run.killedBy || child.exitCode !== null) return
      run.killedBy = why
      child.kill('SIGINT')  // the harness reports what it has, then exits
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), why === 'unresponsive' ? 0 : 5000).unref()
    }
    const watchdog = setInterval(() => Date.now() - last > o.silenceMs && end('unresponsive'), 250)
    const onSignal = (sig: NodeJS.Signals) => {
      run.interrupt ??= sig
      if (run.killedBy) child.kill('SIGKILL')  // a second signal: stop waiting
      end('interrupt')
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    o.together?.bindStop(() => end('peer'))
    const done = () => {
      clearInterval(watchdog)
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      done()
      o.together?.ended(false)
      if (error.code === 'ENOENT') reject(new KvError('BAD_INPUT', `--python ${o.python}: not found`, 2))
      else if (error.code === 'EACCES') reject(new KvError('BAD_INPUT', `--python ${o.python}: not executable`, 2))
      else reject(new KvError('PYTHON_FAILED', `--python ${o.python}: ${error.message}`, 1))
    })
    child.on('close', (code, signal) => {
      done()
      run.exitCode = code
      run.signal = signal
      o.together?.ended(run.lines.some((l) => l.type === 'done'))
      resolvePromise(run)
    })
  })
}

/**
 * --gpus: one harness a GPU, each phase started on all of them together. A phase starts when every
 * harness still running is ready for it (the same phase, else all are told to stop); one that ends
 * without its done line stops the others at once (SIGINT: they report what they measured).
 */
export function runHarnessesTogether(list: readonly HarnessOptions[]): Promise<HarnessRun[]> {
  // stopping: told to stop (at a phase start, or by SIGINT), so it ends by itself
  const members = list.map(() => ({phase: null as string | null, answer: null as ((w: 'go' | 'stop') => void) | null, ended: false, stopping: false, stop: () => {}}))
  let failed = false
  const settle = () => {
    const live = members.filter((m) => !m.ended)
    if (!failed && live.length > 0 && live.every((m) => m.answer !== null)) {
      if (live.every((m) => m.phase === live[0].phase)) {
        for (const m of live) {
          m.answer!('go')
          m.answer = null
        }
        return
      }
      failed = true
    }
    if (!failed) return
    for (const m of live.filter((x) => !x.stopping)) {
      m.stopping = true
      if (m.answer) m.answer('stop')
      else m.stop()
      m.answer = null
    }
  }
  return Promise.all(
    list.map((o, i) =>
      runHarness({
        ...o,
        together: {
          ready: (phase, answer) => {
            members[i].phase = phase
            members[i].answer = answer
            settle()
          },
          ended: (done) => {
            members[i].ended = true
            members[i].answer = null
            if (!done) failed = true
            settle()
          },
          bindStop: (stop) => (members[i].stop = stop),
        },
      }),
    ),
  )
}
