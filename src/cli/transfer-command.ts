// Shared body of `kvbench save` and `kvbench load`.
import {KvCommand} from './kv-command.js'
import {checkConnectorFlags, connectorRequest, transferRequest, transferFlags} from './transfer-flags.js'
import {renderConnector} from '../core/connector/render.js'
import {runConnectorBench} from '../core/connector/run.js'
import {isPythonConnector} from '../core/connector/spec.js'
import {failedGates} from '../core/gates.js'
import {exitCodeForSignal} from '../core/interrupt.js'
import {renderTransfer} from '../core/render-transfer.js'
import {runTransferBench, type TransferResults} from '../core/saveload-run.js'

export function verificationFailures(r: TransferResults): string[] {
  const bad: string[] = []
  for (const s of r.strategies) {
    if (s.save.verified === false) bad.push(`${s.strategy} save (${s.save.mismatches} words differ)`)
    if (s.load.verified === false) bad.push(`${s.strategy} load (${s.load.mismatches} words differ)`)
  }
  for (const d of r.designs) {
    if (d.verified === false) bad.push(`${d.design}/${d.strategy} (${d.mismatches} words differ)`)
    if (d.nonFiniteOutputs > 0) bad.push(`${d.design}/${d.strategy ?? '-'}: ${d.nonFiniteOutputs} NaN/Inf forward outputs`)
    if (d.store?.verified === false) bad.push(`${d.design}/${d.strategy} store records (${d.store.mismatches} words differ, ${d.store.recordsUnreadable} unreadable)`)
  }
  const alone = r.backend?.alone
  if (alone?.verified === false && alone.mismatches > 0) bad.push(`store alone (${alone.mismatches} words differ)`)
  return bad
}

export abstract class TransferCommand extends KvCommand {
  static flags = transferFlags
  protected abstract readonly mode: 'save' | 'load'

  async run() {
    const {flags} = await this.parse(this.constructor as typeof TransferCommand)
    const progress = this.humanView() && process.stderr.isTTY
    checkConnectorFlags(flags.connector, this.argv)
    if (isPythonConnector(flags.connector)) return this.runPython(flags, progress)
    const req = transferRequest(this.mode, flags as never)
    req.onProgress = progress ? (m) => process.stderr.write(`${m}…\n`) : undefined
    const {results, notes, signal} = await runTransferBench(req, (env) => (this.environment = env))
    const failures = verificationFailures(results)
    if (failures.length > 0) {
      notes.push(`verification FAILED: ${failures.join('; ')}`)
      process.exitCode = 1
    } else if (results.storeFailed) {
      process.exitCode = 1  // the store failed under the run: partial figures, not a clean result
    } else if (results.partial) {
      process.exitCode = exitCodeForSignal(signal ?? 'SIGINT')  // interrupted, as a shell reports it
    } else if (failedGates(results.gates).length > 0) {
      process.exitCode = 1  // a gate failed: the figures are complete, and worse than asked
    }
    if (this.humanView()) {
      this.log(renderTransfer(results))
      for (const n of notes) this.log(`note: ${n}`)
    }
    return this.envelope(results, {notes, status: results.partial ? 'partial' : 'complete'})
  }

  /** --connector py:MODULE:CLASS: the user's connector and the references beside a torch forward. */
  private async runPython(flags: Record<string, unknown>, progress: boolean) {
    this.resultKind = 'connector'
    const req = connectorRequest(this.mode, flags as never)
    req.onProgress = progress ? (m) => process.stderr.write(`${m}…\n`) : undefined
    const {results, notes, exitCode} = await runConnectorBench(req, (env) => (this.environment = env))
    const bad = results.designs.filter((d) => d.role !== 'baseline' && (d.verify.verified === false || !d.outputs.correct))
    for (const d of bad) {
      const what = [d.verify.verified === false ? `${d.verify.chunksBad} loaded chunks differ` : '', d.outputs.correct ? '' : `${d.outputs.wrong + d.outputs.nonFinite} of ${d.outputs.steps} forward outputs wrong (${d.outputs.nonFinite} NaN)`]
      notes.push(`verification FAILED: ${d.name}: ${what.filter(Boolean).join('; ')}`)
    }
    process.exitCode = exitCode
    if (this.humanView()) {
      this.log(renderConnector(results))
      for (const n of notes) this.log(`note: ${n}`)
    }
    return this.envelope(results, {notes, status: results.partial ? 'partial' : 'complete'})
  }
}
