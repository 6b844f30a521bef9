import {prose} from '../cli/prose.js'
import {Args, Flags} from '@oclif/core'
import {basename} from 'node:path'

import {chartPaths, writeChart} from '../cli/chart-file.js'
import {KvCommand} from '../cli/kv-command.js'
import {inlineChart} from '../cli/render/inline-chart.js'
import {colourEnabled, terminalWidth} from '../cli/render/table.js'
import {badInput} from '../core/errors.js'
import {buildChart, CHART_NAMES, type Chart} from '../core/plot/charts.js'
import {readEnvelope} from '../core/results/read-result.js'

export interface PlotResults {
  chart: Chart['name']
  title: string
  inputs: string[]
  out: string
  spec: string
  format: 'svg' | 'png'
  bytes: number
  /** The rows the marks were drawn from, one per bar, point or bin. */
  marks: number
  rows: Chart['rows']
}

export default class Plot extends KvCommand {
  static summary = 'Draw kvbench results as SVG or PNG (Vega-Lite): strategies, hook latencies, step times, stores, sweeps, the crossover'
  static description = prose`Reads result files (--json or --output of save, load, backend bench, sweep) and draws one chart,
headless, with Vega-Lite; the spec is written beside the picture (FILE.vl.json) so it can be restyled
and drawn again anywhere Vega runs. Charts: strategies (each strategy alone, save and load GB/s, % of the
ceiling on each bar, the ceiling as a tick; several results side by side), hooks (each hook's latency
histogram per design), steps (GPU time of every measured step, connector off against each design),
store (backend bench put/get GB/s), sweep (a figure over the first varied flag, a line per value of the
others) and crossover (each strategy's GB/s by chunk size). On a terminal the headline series is
also drawn inline.`
  static examples = [
    '<%= config.bin %> plot save.json --out strategies.svg',
    '<%= config.bin %> plot save.json --chart steps --out steps.png',
    '<%= config.bin %> plot sweep.json --chart sweep --figure "async moved %" --out sweep.svg',
  ]
  static strict = false
  static args = {result: Args.string({description: 'result files (kvbench --json or --output)', required: true})}
  static flags = {
    out: Flags.string({description: 'the picture to write, .svg or .png (default: <first result>-<chart>.svg here); its Vega-Lite spec goes beside it as .vl.json', helpValue: 'FILE'}),
    chart: Flags.option({description: 'what to draw (default: the first that fits the results)', options: CHART_NAMES})(),
    figure: Flags.string({description: 'sweep: the key figure to draw, by its column name (default: its GB/s figures)', helpValue: 'LABEL'}),
  }
  protected readonly kind = 'plot'

  async run() {
    const {argv, flags} = await this.parse(Plot)
    const files = argv as string[]
    const inputs = files.map((file) => {
      const envelope = readEnvelope(file, 'RESULT')
      if (envelope.status === 'error' || envelope.results === null) throw badInput(`RESULT ${file} is an error envelope (${envelope.error?.message ?? 'no results'}): nothing to draw`)
      return {label: basename(file).replace(/\.json$/, ''), envelope}
    })
    const chart = buildChart(inputs, flags.chart, flags.figure)
    const out = flags.out ?? `${inputs[0].label}-${chart.name}.svg`
    const paths = chartPaths(out, '--out')
    const bytes = await writeChart(chart, paths)
    const notes = [`${chart.name}: ${chart.rows.length} marks in ${out}, its Vega-Lite spec in ${paths.spec}`]
    if (this.humanView()) {
      this.log(chart.title)
      const width = terminalWidth()
      if (width !== null) {
        const inline = inlineChart(chart.headline, width, colourEnabled())
        if (inline) this.log(inline)
      }
      for (const n of notes) this.log(`note: ${n}`)
    }
    const results: PlotResults = {chart: chart.name, title: chart.title, inputs: files, out: paths.picture, spec: paths.spec, format: paths.format, bytes, marks: chart.rows.length, rows: chart.rows}
    return this.envelope(results, {notes})
  }
}
