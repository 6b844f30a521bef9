import {prose} from '../cli/prose.js'
import {TransferCommand} from '../cli/transfer-command.js'

export default class Load extends TransferCommand {
  static summary = 'Load throughput, time-to-ready and forward slowdown of prefix-hit loads beside a synthetic forward'
  static description = prose`Saves the workload's prompt blocks to pinned host memory, then runs the synthetic forward while
requests with prefix hits arrive and load their blocks back. Reports each copy strategy's load GB/s
against the ceiling measured in the same run, the forward's slowdown, load time-to-ready and the host
time each hook blocks a step, for the async and blocking designs. Every loaded byte is verified on the GPU.

With --connector py:MODULE:CLASS: your Python connector (vLLM's KV connector hooks) beside a torch
forward, with the reference connectors in the same process (docs/connector-api.md).`
  static examples = ['<%= config.bin %> load', '<%= config.bin %> load --profile deepseek-v3 --prefix-hit-rate 0.9']
  protected readonly kind = 'load'
  protected readonly mode = 'load'
}
