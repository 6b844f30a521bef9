// Entry point shared by bin/run.js and the portable bundle. Runs oclif and reports
// any error as one line on stderr with the error's exit code (oclif's own handler
// wraps long messages over several lines).
import {flush, run} from '@oclif/core'

import {isVersionRequest, notACommand, rewriteHelp} from './command-line.js'
import {makeEnvelope, RunClock} from '../core/envelope.js'
import {EXIT_BAD_INPUT} from '../core/errors.js'
import {toolInfo} from '../core/tool-info.js'
import {cudaInfo} from '../native/index.js'

export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ')
}

/** `kvbench --version`: the release, the git commit and the CUDA build of the addon. */
function versionLine(): string {
  const t = toolInfo()
  let cuda = 'addon not loaded'
  try {
    const c = cudaInfo()
    cuda = c.builtWithCuda ? `CUDA runtime ${Math.floor(c.runtimeVersion / 1000)}.${(c.runtimeVersion % 1000) / 10} in the addon (${c.gencodes.join(', ')})` : 'built without CUDA'
  } catch (error) {
    cuda = (error as Error).message
  }
  return `kvbench/${t.version} git ${t.gitSha ? t.gitSha.slice(0, 12) : 'unknown'} · ${cuda} · ${process.platform}-${process.arch} node-${process.version}`
}

export async function main(rawArgv: string[], root: string): Promise<void> {
  const argv = rewriteHelp(rawArgv)
  if (isVersionRequest(argv)) {
    process.stdout.write(`${versionLine()}\n`)
    return
  }
  try {
    await run(argv, root)
    await flush()
  } catch (error) {
    const e = error as Error & {code?: string; oclif?: {exit?: number}}
    if (e.code === 'EEXIT') {
      process.exitCode = e.oclif?.exit ?? 0
      return
    }
    if (/^command .* not found$/.test(e.message ?? '')) {
      const message = notACommand(argv)
      if (argv.includes('--json')) {
        const envelope = makeEnvelope({kind: 'cli', clock: new RunClock(), argv, environment: null, results: null, error: {code: 'NOT_A_COMMAND', message, exitCode: EXIT_BAD_INPUT}})
        process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`)
      } else {
        process.stderr.write(`Error: ${message}\n`)
      }
      process.exitCode = EXIT_BAD_INPUT
      return
    }
    process.stderr.write(`Error: ${oneLine(e.message ?? String(error))}\n`)
    if (process.env.KVBENCH_DEBUG && e.stack) process.stderr.write(`${e.stack}\n`)
    process.exitCode = e.oclif?.exit ?? 1
  }
}
