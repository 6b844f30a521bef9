import {prose} from '../cli/prose.js'
import {TransferCommand} from '../cli/transfer-command.js'

export default class Save extends TransferCommand {
  static summary = 'Save throughput, forward slowdown and hook blocking of a KV connector beside a synthetic forward'
  static description = prose`Runs a synthetic forward shaped by a model profile (no weights) on the GPU, and a connector
that saves every layer's new KV blocks to pinned host memory beside it. Reports each copy strategy's
save GB/s against the copy-engine ceiling measured in the same run, the forward's slowdown, and the host
time each connector hook blocks a step, for the async and blocking designs. Every saved byte is verified.

With --connector py:MODULE:CLASS: your Python connector (vLLM's KV connector hooks) beside a torch
forward, with the reference connectors in the same process (docs/connector-api.md).`
  static examples = ['<%= config.bin %> save', '<%= config.bin %> save --profile llama-3.1-70b --strategy auto', '<%= config.bin %> save --design async --json']
  protected readonly kind = 'save'
  protected readonly mode = 'save'
}
