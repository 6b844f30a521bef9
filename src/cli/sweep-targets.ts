// The commands `kvbench sweep` can run at each point, each with its own flags (parsed and refused
// exactly as the command does) and the core call the command makes. One entry per command.
import {Parser, type Interfaces} from '@oclif/core'

import {backendBenchFlags, backendBenchRequest, type BackendBenchFlagValues} from './backend-flags.js'
import {flagsGiven} from './flags-given.js'
import {checkConnectorFlags, transferFlags, transferRequest, type TransferFlagValues} from './transfer-flags.js'
import {benchBackend, planBackendBench} from '../core/backend/bench.js'
import {backendVerdict} from '../core/backend/verdicts.js'
import {isPythonConnector} from '../core/connector/spec.js'
import {buildEnvironment} from '../core/environment.js'
import {badInput} from '../core/errors.js'
import {planTransferBench, runTransferBench} from '../core/saveload/run.js'
import {transferExitCode} from '../core/saveload/verdicts.js'
import type {PointKind} from '../core/sweep/figures.js'
import type {PreparedPoint} from '../core/sweep/run.js'
import type {PointValues} from '../core/sweep/grid.js'

export interface SweepTarget {
  /** The command as typed after `kvbench sweep`. */
  name: string
  pointKind: PointKind
  flags: Interfaces.FlagInput
  /** Builds and checks one point from its parsed flags: bad input throws here, before any point runs. */
  prepare(flags: Record<string, unknown>, argv: readonly string[], values: PointValues): PreparedPoint
}

function transferTarget(mode: 'save' | 'load'): SweepTarget {
  return {
    name: mode,
    pointKind: mode,
    flags: transferFlags,
    prepare(raw, argv, values) {
      const flags = raw as TransferFlagValues
      checkConnectorFlags(flags.connector, argv)
      if (isPythonConnector(flags.connector)) throw badInput(`--connector ${flags.connector}: sweep runs kvbench's native connectors; run ${mode} --connector py:... once per setting`)
      if (flags.trace !== undefined) throw badInput(`--trace is not swept: trace one setting with kvbench ${mode} --trace FILE`)
      const setup = planTransferBench(transferRequest(mode, flags))
      return {
        values,
        async run(publish, onProgress) {
          setup.request.onSteps = onProgress
          const {results, notes, signal} = await runTransferBench(setup, publish)
          return {results, notes, signal, exitCode: transferExitCode(results, signal, notes), partial: results.partial}
        },
      }
    },
  }
}

const backendTarget: SweepTarget = {
  name: 'backend bench',
  pointKind: 'backend-bench',
  flags: backendBenchFlags,
  prepare(raw, argv, values) {
    const flags = raw as BackendBenchFlagValues
    if (flags.trace !== undefined) throw badInput('--trace is not swept: trace one setting with kvbench backend bench --trace FILE')
    const setup = planBackendBench(backendBenchRequest(flags))
    return {
      values,
      async run(publish, onProgress) {
        publish(buildEnvironment(null, 'backend bench does not use the GPU'))
        setup.request.onProgress = onProgress
        const {results, signal} = await benchBackend(setup)
        const {notes, exitCode} = backendVerdict(results, signal, flagsGiven(argv))
        return {results, notes, signal, exitCode, partial: results.partial}
      },
    }
  },
}

export const SWEEP_TARGETS: Record<string, SweepTarget> = {save: transferTarget('save'), load: transferTarget('load'), 'backend bench': backendTarget}

/** The flag's own refusal on one line (oclif spreads it over several and adds "See more help with --help"). */
function parseError(error: unknown): string {
  const lines = ((error as Error).message ?? String(error)).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('See more help'))
  return lines.join(': ') || 'bad flags'
}

/** Parses argv with the target's flags, as the command itself would; an error names the flag. */
export async function parseTargetFlags(target: SweepTarget, argv: readonly string[], context: string | null): Promise<Record<string, unknown>> {
  try {
    const parsed = await Parser.parse([...argv], {flags: target.flags, args: {}, strict: true})
    return parsed.flags as Record<string, unknown>
  } catch (error) {
    const line = parseError(error)
    throw badInput(context ? `${context}: ${line}` : `${target.name}: ${line}`)
  }
}

/** The argv that sets one varied flag to one value: a boolean flag takes true/false (on/off, yes/no). */
export function varyArgv(target: SweepTarget, flag: string, value: string): string[] {
  const def = target.flags[flag] as {type?: string; allowNo?: boolean} | undefined
  if (def?.type !== 'boolean') return [`--${flag}=${value}`]
  const on = ['true', 'on', 'yes', '1'].includes(value.toLowerCase())
  const off = ['false', 'off', 'no', '0'].includes(value.toLowerCase())
  if (!on && !off) throw badInput(`--vary ${flag}=${value}: --${flag} is on or off; give ${flag}=true,false`)
  if (off && !def.allowNo) throw badInput(`--vary ${flag}=${value}: --${flag} has no --no-${flag}`)
  return [on ? `--${flag}` : `--no-${flag}`]
}
