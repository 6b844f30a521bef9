// A progress bar on stderr for long runs (cli-progress), only on a TTY and never under --json,
// so piped output and JSON stay clean.
import {SingleBar} from 'cli-progress'

export interface ProgressBar {
  /** `detail`: a few words after the bar, such as the point running. */
  update(done: number, total: number, detail?: string): void
  stop(): void
}

/** A bar that draws only where a person watches (stderr a TTY, no --json); otherwise nothing. */
export function progressBar(label: string, enabled: boolean, {counts = true} = {}): ProgressBar | null {
  if (!enabled || !process.stderr.isTTY) return null
  const bar = new SingleBar({format: `${label} [{bar}] {percentage}%${counts ? ' · {value}/{total}' : ''} · {duration_formatted}{detail}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, barsize: 30})
  let started = false
  return {
    update(done, total, detail) {
      const payload = {detail: detail ? ` · ${detail}` : ''}
      if (!started) {
        bar.start(total, 0, payload)
        started = true
      }
      bar.setTotal(total)
      bar.update(Math.min(done, total), payload)
    },
    stop() {
      if (started) bar.stop()
    },
  }
}
