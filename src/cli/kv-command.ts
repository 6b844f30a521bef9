// Base class of every kvbench command: JSON flag, the result envelope, and one way
// of reporting errors (a one-line message and the right exit code, also under --json,
// where oclif would otherwise turn every error into exit 1).
import {Command} from '@oclif/core'

import {makeEnvelope, RunClock, type Envelope} from '../core/envelope.js'
import type {Environment} from '../core/environment.js'
import {EXIT_RUN_FAILED, KvError} from '../core/errors.js'

export abstract class KvCommand extends Command {
  static enableJsonFlag = true
  protected readonly clock = new RunClock()
  /** Filled as soon as the command knows it, so an error envelope still carries it. */
  protected environment: Environment | null = null

  /** The envelope `kind`, also the name of its schema file. */
  protected abstract readonly kind: string

  protected envelope<R>(results: R | null, extra: {status?: Envelope<R>['status']; notes?: string[]} = {}): Envelope<R> {
    return makeEnvelope({kind: this.kind, clock: this.clock, argv: this.argv, environment: this.environment, results, ...extra})
  }

  async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<unknown> {
    const kv = err instanceof KvError ? err : null
    const exit = kv?.exit ?? err.oclif?.exit ?? EXIT_RUN_FAILED
    if (this.jsonEnabled()) {
      process.exitCode = exit
      this.logJson(
        makeEnvelope({
          kind: this.kind,
          clock: this.clock,
          argv: this.argv,
          environment: this.environment,
          results: null,
          error: {code: kv?.code ?? err.code ?? 'ERROR', message: err.message, exitCode: exit},
        }),
      )
      return
    }
    if (kv) this.error(kv.message, {exit: kv.exit, code: kv.code})
    err.exitCode = exit
    return super.catch(err)
  }
}
