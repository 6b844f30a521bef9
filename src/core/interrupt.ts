// SIGINT and SIGTERM during a long run: ask the work to stop at its next safe point (it then
// cleans what it made and returns what it measured), and remember which signal came. A second
// signal while it cleans changes nothing: cleaning goes on, then the command exits.
export type StopSignal = 'SIGINT' | 'SIGTERM'

export async function withSignals<T>(stop: (signal: StopSignal) => void, work: () => Promise<T>): Promise<{value: T; signal: StopSignal | null}> {
  let signal: StopSignal | null = null
  const on = (sig: StopSignal) => {
    if (signal) return  // a second signal: the work is already stopping and cleaning
    signal = sig
    stop(sig)
  }
  const onInt = () => on('SIGINT')
  const onTerm = () => on('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  try {
    const value = await work()
    return {value, signal}
  } finally {
    process.removeListener('SIGINT', onInt)
    process.removeListener('SIGTERM', onTerm)
  }
}

/** As a shell reports a process ended by the signal: 128 + its number. */
export function exitCodeForSignal(signal: StopSignal): number {
  return signal === 'SIGINT' ? 130 : 143
}
