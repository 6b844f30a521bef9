// Shared body of `kvbench save`, `kvbench load` and `kvbench mix`.
import {flagsGiven} from './flags-given.js'
import {KvCommand} from './kv-command.js'
import {checkOutputPath, writeFileAtomic} from './output-file.js'
import {progressBar} from './progress.js'
import {checkConnectorFlags, connectorRequest, transferRequest, transferFlags, type TransferFlagValues} from './transfer-flags.js'
import {renderConnector} from './render/connector.js'
import {runConnectorBench} from '../core/connector/run.js'
import {isPythonConnector} from '../core/connector/spec.js'
import {renderTransfer} from './render/transfer.js'
import {planTransferBench, runTransferBench} from '../core/saveload/run.js'
import {transferExitCode} from '../core/saveload/verdicts.js'
import {traceNote} from '../core/trace/run-trace.js'
import {badInput} from '../core/errors.js'
import type {TransferMode} from '../core/plan.js'

export abstract class TransferCommand extends KvCommand {
  static flags = transferFlags
  protected abstract readonly mode: TransferMode

  async run() {
    const {flags} = await this.parse(this.constructor as typeof TransferCommand)
    const progress = this.humanView() && process.stderr.isTTY
    checkConnectorFlags(flags.connector, this.argv)
    if (isPythonConnector(flags.connector)) {
      if (this.mode === 'mix') throw badInput(`--connector ${flags.connector}: kvbench mix runs kvbench's native connectors; run your connector with save or load`)
      return this.runPython(flags, this.mode, progress)
    }
    if (flags.trace === undefined && flagsGiven(this.argv).has('trace-steps')) throw badInput('--trace-steps needs --trace FILE')
    const tracePath = flags.trace === undefined ? null : checkOutputPath(flags.trace, '--trace')  // before the run, not after it
    const req = transferRequest(this.mode, flags)
    req.onProgress = progress ? (m) => process.stderr.write(`${m}…\n`) : undefined
    const bar = progressBar(`${this.mode === 'mix' ? 'save + load' : this.mode} beside the forward, steps`, progress)
    req.onSteps = bar ? (done, total) => bar.update(done, total) : undefined
    const {results, notes, signal, trace} = await runTransferBench(planTransferBench(req), (env) => (this.environment = env)).finally(() => bar?.stop())
    if (tracePath && trace) {
      writeFileAtomic(tracePath, JSON.stringify(trace.file))
      notes.push(traceNote(trace, flags.trace!))
    }
    const exitCode = transferExitCode(results, signal, notes)
    if (exitCode !== 0) process.exitCode = exitCode
    if (this.humanView()) {
      this.log(renderTransfer(results))
      for (const n of notes) this.log(`note: ${n}`)
    }
    return this.envelope(results, {notes, status: results.partial ? 'partial' : 'complete'})
  }

  /** --connector py:MODULE:CLASS: the user's connector and the references beside a torch forward. */
  private async runPython(flags: TransferFlagValues, mode: 'save' | 'load', progress: boolean) {
    this.resultKind = 'connector'
    const req = connectorRequest(mode, flags)
    req.onProgress = progress ? (m) => process.stderr.write(`${m}…\n`) : undefined
    const {results, notes, exitCode} = await runConnectorBench(req, (env) => (this.environment = env))
    process.exitCode = exitCode
    if (this.humanView()) {
      this.log(renderConnector(results))
      for (const n of notes) this.log(`note: ${n}`)
    }
    return this.envelope(results, {notes, status: results.partial ? 'partial' : 'complete'})
  }
}
