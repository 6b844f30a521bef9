// The one result envelope every JSON output uses (schemas/envelope.schema.json).
// Commands put their own payload in `results` and a schema for it in schemas/<kind>.schema.json.
import {randomUUID} from 'node:crypto'

import type {Environment} from './environment.js'
import type {World} from './launch/world.js'
import {maskSecrets} from './secrets.js'
import {toolInfo, type ToolInfo} from './tool-info.js'

export const SCHEMA_VERSION = '1.14.0'
export const SCHEMA_BASE = 'https://kvbench.dev/schemas/1'

export type RunStatus = 'complete' | 'partial' | 'error'

export interface Envelope<R> {
  $schema: string
  schemaVersion: string
  kind: string
  status: RunStatus
  tool: ToolInfo
  /** `world`: the launcher's rank this process ran as (torchrun, mpirun, srun), null outside one. */
  run: {id: string; startedAt: string; finishedAt: string; durationMs: number; argv: string[]; world: World | null}
  environment: Environment | null
  results: R | null
  /** Anything skipped, assumed or degraded, said in words (e.g. "verification skipped: --no-verify"). */
  notes: string[]
  error: {code: string; message: string; exitCode: number} | null
}

/** Credentials never reach output: user:pass@ in URLs and values of secret-looking flags are masked. */
export function redactArgv(argv: readonly string[]): string[] {
  const secretFlag = /^--?(password|pass|token|secret|auth)(=|$)/i
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    let a = maskSecrets(argv[i])
    const m = secretFlag.exec(a)
    if (m && m[2] === '=') a = a.slice(0, a.indexOf('=') + 1) + '***'
    out.push(a)
    if (m && m[2] === '' && i + 1 < argv.length) {
      out.push('***')
      i++
    }
  }
  return out
}

export class RunClock {
  readonly id = randomUUID()
  readonly startedAt = new Date()
}

export function makeEnvelope<R>(args: {
  kind: string
  clock: RunClock
  argv: readonly string[]
  environment: Environment | null
  results: R | null
  world?: World | null
  status?: RunStatus
  notes?: string[]
  error?: Envelope<R>['error']
}): Envelope<R> {
  const finished = new Date()
  return {
    $schema: `${SCHEMA_BASE}/${args.kind}.schema.json`,
    schemaVersion: SCHEMA_VERSION,
    kind: args.kind,
    status: args.status ?? (args.error ? 'error' : 'complete'),
    tool: toolInfo(),
    run: {
      id: args.clock.id,
      startedAt: args.clock.startedAt.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - args.clock.startedAt.getTime(),
      argv: redactArgv(args.argv),
      world: args.world ?? null,
    },
    environment: args.environment,
    results: args.results,
    notes: (args.notes ?? []).map(maskSecrets),
    error: args.error ? {...args.error, message: maskSecrets(args.error.message)} : null,
  }
}
