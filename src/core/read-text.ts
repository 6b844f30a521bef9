import {readFileSync} from 'node:fs'

/** A file's text, or null when it cannot be read (absent, no permission): /proc and /sys probes. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}
