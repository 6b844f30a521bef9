// Typed view of native/addon/run_control.cc (the running operation's cancel flag and progress count).
import {loadedAddon} from './load.js'

export interface RunProgress {
  /** backend bench: store operations done (puts and gets); save/load: forward steps run beside the connector */
  done: number
  /** what `done` counts up to when the native run knows it (save/load, once its designs start); else 0 */
  total: number
}

/** The running operation's progress; nothing done before the addon loaded. */
export function runProgress(): RunProgress {
  return loadedAddon()?.runProgress() ?? {done: 0, total: 0}
}

/** Calls `tick` with the running operation's progress a few times a second, until the returned stop is called. */
export function watchRunProgress(tick: (p: RunProgress) => void, everyMs = 200): () => void {
  const timer = setInterval(() => tick(runProgress()), everyMs)
  return () => clearInterval(timer)
}

/** Ends the process at once with `code`, running no exit handler (a thread stuck inside CUDA would hold them up). */
export function exitNow(code: number): void {
  const addon = loadedAddon()
  if (addon) addon.exitNow(code)
  else process.exit(code)  // nothing native ran: the ordinary exit cannot wait on it
}

/**
 * Aborts the running save/load's own NCCL communicator (a launcher's rank), on a native thread of
 * its own: its kernels waiting for a peer end, and its next all-reduce throws `why`.
 */
export function abortAllReduce(why: string): void {
  loadedAddon()?.abortAllReduce(why)
}

/** Asks a running save/load to stop after its current step, a backend bench at its next store call (Ctrl-C). */
export function cancelRun(): void {
  loadedAddon()?.cancelRun()
}
