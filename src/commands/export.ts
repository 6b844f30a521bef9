import {prose} from '../cli/prose.js'
import {Args, Flags} from '@oclif/core'

import {KvCommand} from '../cli/kv-command.js'
import {EXPORT_FORMATS, exportResults, type ExportFormat} from '../core/export/export.js'
import type {Better} from '../core/metrics/index.js'
import {readResult} from '../core/results/read-result.js'

export default class Export extends KvCommand {
  static summary = 'Export results for CI dashboards: github-action-benchmark, Bencher (BMF), CSV, JUnit'
  static description = prose`Writes the figures of one or more results (save, load, backend bench, env, audit-streams) to stdout in
a dashboard's format. Metric names are stable and the same in every format and in compare and gates,
e.g. save/llama-3.1-8b/async/staged/moved_pct_of_ceiling (docs/metrics.md). The same figure in several
results (repeat runs) is their median, its range the spread.
  github-action-benchmark  the array of the custom tools; --direction bigger (customBiggerIsBetter) or smaller
  bencher                  Bencher Metric Format JSON (benchmark -> measure -> value, lower_value, upper_value)
  csv                      one row per metric
  junit                    JUnit XML: each run, gate, verification and audit verdict as a test case
Error envelopes are refused except by junit, where the failed run is a failing test case.
As everywhere, --json prints and --output writes the envelope (the document is in results.document).`
  static examples = [
    '<%= config.bin %> export save.json --format github-action-benchmark --direction bigger > bigger.json',
    '<%= config.bin %> export save.json load.json --format bencher > bmf.json',
    '<%= config.bin %> export save.json audit.json --format junit > kvbench-junit.xml',
  ]
  static strict = false
  static args = {result: Args.string({description: 'result files (kvbench --json or --output)', required: true})}
  static flags = {
    format: Flags.string({description: 'output format', options: [...EXPORT_FORMATS], required: true}),
    direction: Flags.string({description: 'github-action-benchmark: which custom tool the array is for', options: ['bigger', 'smaller']}),
  }
  protected readonly kind = 'export'

  async run() {
    const {argv, flags} = await this.parse(Export)
    const format = flags.format as ExportFormat
    const files = (argv as string[]).map((f) => readResult(f, 'RESULT', {allowError: format === 'junit'}))
    const results = exportResults(files, format, flags.direction as Better | undefined)
    const notes = results.entries === 0 ? [`no ${format === 'junit' ? 'test cases' : 'figures'} to export in ${results.files.join(', ')}`] : []
    if (!this.jsonEnabled()) {
      process.stdout.write(results.document)
      for (const n of notes) process.stderr.write(`note: ${n}\n`)
    }
    return this.envelope(results, {notes})
  }
}
