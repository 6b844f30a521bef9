import {Args} from '@oclif/core'

import {KvCommand} from '../cli/kv-command.js'
import {prose} from '../cli/prose.js'
import {renderMerge} from '../cli/render/merge.js'
import {mergeRanks, type MergeResults} from '../core/merge/merge.js'
import {readResult} from '../core/results/read-result.js'

export default class Merge extends KvCommand {
  static summary = "Combine the results the ranks of one launcher run wrote into one: a row per host and rank, each figure's worst rank and total"
  static description = prose`Under torchrun, mpirun or srun every rank of kvbench writes its own envelope (--output
with {rank} in the name, e.g. -o save-{rank}.json); merge reads them all and gives one result of kind
merge: the ranks (host, local rank, status), and every figure over the ranks: its worst rank (for a
slowdown, the rank every step waits for), min, max, and for the GB/s each rank's connector moved
beside its forward, the total of all ranks at once. Refused (exit 2): files not written under a
launcher, of different kinds, runs, worlds or benchmarks, a rank given twice or missing. A rank that
did not complete (partial, or an error envelope) is kept and the merge is partial: exit 1.`
  static examples = [
    '<%= config.bin %> merge save-*.json',
    '<%= config.bin %> merge results/rank-*.json -o merged.json',
  ]
  static strict = false
  static args = {
    file: Args.string({description: 'the result file of each rank (kvbench --output under a launcher)'}),
  }
  protected readonly kind = 'merge'

  async run() {
    const {argv} = await this.parse(Merge)
    const results = mergeRanks((argv as string[]).map((f) => readResult(f, 'RESULT', {allowError: true})))
    if (results.partial) process.exitCode = 1
    if (this.humanView()) this.log(renderMerge(results))
    return this.envelope<MergeResults>(results, {status: results.partial ? 'partial' : 'complete'})
  }
}
