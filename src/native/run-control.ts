// Typed view of native/addon/run_control.cc (the running operation's cancel flag and progress count).
import {loadedAddon} from './load.js'

/** Store operations the running backend bench has done (puts and gets); 0 before the addon loaded. */
export function runProgress(): number {
  return loadedAddon()?.runProgress() ?? 0
}

/** Asks a running save/load to stop after its current step, a backend bench at its next store call (Ctrl-C). */
export function cancelRun(): void {
  loadedAddon()?.cancelRun()
}
