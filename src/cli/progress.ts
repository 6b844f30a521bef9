// A progress bar on stderr for long runs (cli-progress), only on a TTY and never under --json,
// so piped output and JSON stay clean.
import {SingleBar} from 'cli-progress'

export interface ProgressBar {
  update(done: number, total: number): void
  stop(): void
}

/** A bar that draws only where a person watches (stderr a TTY, no --json); otherwise nothing. */
export function progressBar(label: string, enabled: boolean): ProgressBar | null {
  if (!enabled || !process.stderr.isTTY) return null
  const bar = new SingleBar({format: `${label} [{bar}] {percentage}% · {value}/{total} · {duration_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, barsize: 30})
  let started = false
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0)
        started = true
      }
      bar.setTotal(total)
      bar.update(Math.min(done, total))
    },
    stop() {
      if (started) bar.stop()
    },
  }
}
