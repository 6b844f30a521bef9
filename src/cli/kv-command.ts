// Base class of every kvbench command: JSON flag, --output, the result envelope, and one way
// of reporting errors (a one-line message and the right exit code, also under --json,
// where oclif would otherwise turn every error into exit 1).
import {Command, Flags, type Interfaces} from '@oclif/core'

import {checkOutputPath, outputFromArgv, writeFileAtomic} from './output-file.js'
import {makeEnvelope, RunClock, type Envelope} from '../core/envelope.js'
import type {Environment} from '../core/environment.js'
import {EXIT_RUN_FAILED, KvError} from '../core/errors.js'
import {launcherWorld, outputForRank, type World} from '../core/launch/world.js'
import {maskSecrets} from '../core/secrets.js'

export abstract class KvCommand extends Command {
  static enableJsonFlag = true
  static baseFlags = {
    output: Flags.string({char: 'o', helpValue: 'FILE', description: 'also write the JSON envelope to FILE (whole or not at all; errors too), the table still on stdout; {rank} in FILE is the launcher rank (torchrun, mpirun, srun), 0 outside one'}),
    quiet: Flags.boolean({char: 'q', description: 'print nothing but errors: the exit code (and --output) say how the run went'}),
  }
  protected readonly clock = new RunClock()
  /** Filled as soon as the command knows it, so an error envelope still carries it. */
  protected environment: Environment | null = null
  /** The launcher rank this process runs as (torchrun, mpirun, srun), read when the flags are parsed. */
  protected world: World | null = null
  /** --output, checked when the flags are parsed (before any work). */
  private outputFile: string | undefined
  /** --quiet: no human view and no progress (errors still go to stderr). */
  private quiet = false
  /** What the run ended with: its result or its error, for --output. */
  private finalEnvelope: Envelope<unknown> | undefined

  /** The envelope `kind`, also the name of its schema file. */
  protected abstract readonly kind: string
  /** Set by a command whose result depends on its flags (save --connector py:... gives `connector`). */
  protected resultKind: string | undefined

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- oclif's own FlagOutput/ArgOutput, not exported
  protected async parse<F extends {[k: string]: any}, B extends {[k: string]: any}, A extends {[k: string]: any}>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv)
    this.world = launcherWorld()
    const output = (parsed.flags as {output?: string}).output
    if (output !== undefined) this.outputFile = checkOutputPath(outputForRank(output, this.world))
    this.quiet = Boolean((parsed.flags as {quiet?: boolean}).quiet)
    return parsed
  }

  /** The command's human view (tables, notes, progress) is printed: not under --json or --quiet. */
  protected humanView(): boolean {
    return !this.jsonEnabled() && !this.quiet
  }

  protected envelope<R>(results: R | null, extra: {status?: Envelope<R>['status']; notes?: string[]} = {}): Envelope<R> {
    const e = makeEnvelope({kind: this.resultKind ?? this.kind, clock: this.clock, argv: this.argv, environment: this.environment, world: this.world, results, ...extra})
    this.finalEnvelope = e
    return e
  }

  async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<unknown> {
    const kv = err instanceof KvError ? err : null
    const exit = kv?.exit ?? err.oclif?.exit ?? EXIT_RUN_FAILED
    const envelope = makeEnvelope({
      kind: this.resultKind ?? this.kind,
      clock: this.clock,
      argv: this.argv,
      environment: this.environment,
      world: this.world,
      results: null,
      error: {code: kv?.code ?? err.code ?? 'ERROR', message: err.message, exitCode: exit},
    })
    this.finalEnvelope = envelope
    if (this.outputFile === undefined) this.outputFile = this.outputBeforeParse()
    if (this.jsonEnabled()) {
      process.exitCode = exit
      this.logJson(envelope)
      return
    }
    if (kv) this.error(maskSecrets(kv.message), {exit: kv.exit, code: kv.code})
    err.message = maskSecrets(err.message)
    err.exitCode = exit
    return super.catch(err)
  }

  async finally(err: Error | undefined): Promise<unknown> {
    if (this.outputFile && this.finalEnvelope) {
      try {
        writeFileAtomic(this.outputFile, `${JSON.stringify(this.finalEnvelope, null, 2)}\n`)
      } catch (error) {
        process.stderr.write(`Error: --output ${this.outputFile}: ${(error as Error).message}\n`)
        process.exitCode = EXIT_RUN_FAILED
      }
    }
    return super.finally(err)
  }

  /** A parse error comes before --output is known: take it from argv where it is a usable path. */
  private outputBeforeParse(): string | undefined {
    const raw = outputFromArgv(this.argv)
    if (raw === undefined) return undefined
    try {
      return checkOutputPath(outputForRank(raw, launcherWorld()))
    } catch {
      return undefined
    }
  }
}
