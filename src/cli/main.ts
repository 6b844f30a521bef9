// Entry point shared by bin/run.js and the portable bundle. Runs oclif and reports
// any error as one line on stderr with the error's exit code (oclif's own handler
// wraps long messages over several lines).
import {flush, run} from '@oclif/core'

export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ')
}

export async function main(argv: string[], root: string): Promise<void> {
  try {
    await run(argv, root)
    await flush()
  } catch (error) {
    const e = error as Error & {code?: string; oclif?: {exit?: number}}
    if (e.code === 'EEXIT') {
      process.exitCode = e.oclif?.exit ?? 0
      return
    }
    process.stderr.write(`Error: ${oneLine(e.message ?? String(error))}\n`)
    if (process.env.KVBENCH_DEBUG && e.stack) process.stderr.write(`${e.stack}\n`)
    process.exitCode = e.oclif?.exit ?? 1
  }
}
