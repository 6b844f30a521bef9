import {prose} from '../cli/prose.js'
import {TransferCommand} from '../cli/transfer-command.js'

export default class Mix extends TransferCommand {
  static summary = 'Saves and loads in the same steps beside a synthetic forward: each direction and both together against the both-ways ceiling'
  static description = prose`Runs the synthetic forward of a model profile with a connector that, in every step, saves each
layer's new KV blocks and loads the prefix hits of arriving requests, as real connectors do. Saves
use one half of the transfer set and loads the other, each direction with its own connector thread,
streams and staging ring. Reports both directions together against the both-directions ceiling
measured in the same run, each direction against half of it, the forward's slowdown, each hook's
blocking, and a link reference with a contiguous stream each way. Every byte is verified.

The store is the pinned pool (--backend host); --trace and --connector py: are for save and load.`
  static examples = ['<%= config.bin %> mix', '<%= config.bin %> mix --profile qwen2.5-7b --design async', '<%= config.bin %> mix --json --min-pct-of-ceiling 90']
  protected readonly kind = 'mix'
  protected readonly mode = 'mix'
}
