import {prose} from '../cli/prose.js'
import {appendFileSync} from 'node:fs'

import {Args, Flags} from '@oclif/core'

import {KvCommand} from '../cli/kv-command.js'
import {numberFlag} from '../cli/number-flag.js'
import {compareResults, DEFAULT_THRESHOLDS, type CompareResults} from '../core/compare/compare.js'
import {renderCompareMarkdown, renderCompareTable} from '../cli/render/compare.js'
import {badInput} from '../core/errors.js'
import {readResult} from '../core/results/read-result.js'

export default class Compare extends KvCommand {
  static summary = 'Compare a result against a baseline: every figure in its direction, noise-aware; exit 1 on a regression'
  static description = prose`Pairs the figures of two results of one kind (save/load: each strategy alone and each design;
backend bench: each record size and op; env: each ceiling; audit-streams: each probe's verdict) and judges
each in its direction (GB/s and % of ceiling: bigger is better; slowdown, latency, blocked µs: smaller;
a verification or verdict that gets worse is a regression). A change is a regression only when it is
beyond --threshold (relative, for GB/s, µs and ms; a µs figure must also move by at least 1 µs) or
--threshold-points (for percentages) and, where the results show their noise (p10-p90 of timed groups
or steps, repeat runs), outside it. Several NEW files (repeat runs) are combined by median, and so are
several --base files: repeat runs on both sides are what makes host-noisy figures fair. A figure
BASE has and NEW lacks is a regression. Exit 1 on any regression, 0 otherwise, 2 when the results cannot
be compared (kind, profile, workload, strategy set; a different GPU or driver is a note).`
  static examples = [
    '<%= config.bin %> compare baseline/save.json save.json',
    '<%= config.bin %> compare baseline/save.json run1.json run2.json run3.json --format markdown --summary',
    '<%= config.bin %> compare --base base1.json --base base2.json new1.json new2.json',
    '<%= config.bin %> compare base.json new.json --threshold 5 --threshold-points 2 --json',
  ]
  static strict = false
  static args = {
    base: Args.string({description: 'the baseline result (a kvbench --json or --output file); with --base, the first NEW file'}),
    new: Args.string({description: 'the new result(s); several are repeat runs, combined by median'}),
  }
  static flags = {
    threshold: Flags.string({description: 'relative change (%) beyond which a GB/s, µs or ms figure counts', default: String(DEFAULT_THRESHOLDS.relativePct)}),
    'threshold-points': Flags.string({description: 'change in percentage points beyond which a % figure (of ceiling, slowdown) counts', default: String(DEFAULT_THRESHOLDS.points)}),
    format: Flags.string({description: 'table for a terminal, markdown for a PR comment, json: the envelope (as --json)', options: ['table', 'markdown', 'json'], default: 'table'}),
    base: Flags.string({description: 'a BASE file (repeatable: repeat runs of the baseline, combined by median); then every argument is a NEW file', multiple: true, multipleNonGreedy: true}),
    summary: Flags.boolean({description: 'append the markdown to $GITHUB_STEP_SUMMARY when it is set', default: false}),
  }
  protected readonly kind = 'compare'

  async run() {
    const {argv, flags} = await this.parse(Compare)
    const positive = {min: 0, exclusive: true}
    const thresholds = {relativePct: numberFlag('threshold', flags.threshold, positive), points: numberFlag('threshold-points', flags['threshold-points'], positive)}
    const files = argv as string[]
    const baseFiles = flags.base ?? files.splice(0, 1)
    if (baseFiles.length === 0) throw badInput('compare needs BASE and NEW results: kvbench compare BASE NEW... (or --base BASE NEW...)')
    if (files.length === 0) throw badInput('compare needs a NEW result after BASE: kvbench compare BASE NEW... (or --base BASE NEW...)')
    const bases = baseFiles.map((f) => readResult(f, 'BASE'))
    const news = files.map((f) => readResult(f, 'NEW'))
    const {results, notes} = compareResults(bases, news, thresholds)
    const markdown = flags.format === 'markdown' || flags.summary ? renderCompareMarkdown(results, notes) : ''
    if (flags.summary) {
      const summaryFile = process.env.GITHUB_STEP_SUMMARY
      if (summaryFile) appendFileSync(summaryFile, markdown)
      else notes.push('--summary: $GITHUB_STEP_SUMMARY is not set, nothing appended')
    }
    if (results.regressions > 0) process.exitCode = 1
    if (flags.format === 'json' && !this.jsonEnabled()) {
      const e = this.envelope(results, {notes})
      this.logJson(e)
      return e
    }
    if (this.humanView()) this.render(results, notes, flags.format === 'markdown' ? markdown : null)
    return this.envelope(results, {notes})
  }

  private render(r: CompareResults, notes: string[], markdown: string | null) {
    if (markdown !== null) {
      process.stdout.write(markdown)
      return
    }
    this.log(renderCompareTable(r))
    for (const n of notes) this.log(`note: ${n}`)
  }
}
