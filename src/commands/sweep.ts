import {prose} from '../cli/prose.js'
import {Args, Flags} from '@oclif/core'

import {flagsGiven} from '../cli/flags-given.js'
import {KvCommand} from '../cli/kv-command.js'
import {chartPaths, writeChart, type ChartPaths} from '../cli/chart-file.js'
import {checkOutputPath, writeFileAtomic} from '../cli/output-file.js'
import {progressBar} from '../cli/progress.js'
import {renderSweep} from '../cli/render/sweep.js'
import {splitSweepArgv} from '../cli/sweep-argv.js'
import {parseTargetFlags, SWEEP_TARGETS, varyArgv} from '../cli/sweep-targets.js'
import {makeEnvelope, SCHEMA_BASE} from '../core/envelope.js'
import {badInput, KvError} from '../core/errors.js'
import {CHUNK_FLAGS, crossoverDocument} from '../core/sweep/crossover.js'
import {sweepCsv} from '../core/sweep/csv.js'
import {expandGrid, gridSize, MAX_POINTS_WITHOUT_YES, parseVary, pointLabel} from '../core/sweep/grid.js'
import {buildChart} from '../core/plot/charts.js'
import {runSweep, type PreparedPoint, type SweepResults} from '../core/sweep/run.js'
import {toolInfo} from '../core/tool-info.js'

export default class Sweep extends KvCommand {
  static summary = 'Run save, load or backend bench over a grid of flag values: one envelope, a table and CSV of every point'
  static description = prose`Each point of the grid (the cross product of every --vary) is a whole run of the command in this
process, with the flags given here plus that point's values; its full result is kept in the sweep's
envelope (results.points[].results, the command's own schema). Every point is built and checked before
the first runs, so a value the flag refuses stops the sweep at once. Ctrl-C stops the point running
(as the command does) and keeps the finished points (partial, exit 130).
With save or load --strategy all over chunk sizes (--vary block-size=..., or another flag that sets the
chunk), the sweep reports the crossover: per direction, which strategy is the fastest from which chunk
size on this card; --crossover FILE writes it as a small JSON a connector can read at start-up.`
  static examples = [
    '<%= config.bin %> sweep backend bench --vary threads=1,2,4,8 --vary pipeline=1,8 --mib 64',
    '<%= config.bin %> sweep save --strategy all --design async --vary block-size=1,2,4,8,16,32 --crossover crossover.json',
    '<%= config.bin %> sweep load --vary staging-mib=16,32,64 --export csv > staging.csv',
  ]
  // The command's words and flags come after `sweep`; splitSweepArgv tells them from the sweep's own.
  static strict = false
  static args = {command: Args.string({description: 'the command to sweep: save, load or backend bench'})}
  static flags = {
    vary: Flags.string({description: 'a flag of the command and its values, FLAG=V1,V2,...; several --vary make a grid', multiple: true, helpValue: 'FLAG=V1,V2'}),
    yes: Flags.boolean({char: 'y', description: `run a grid of more than ${MAX_POINTS_WITHOUT_YES} points`}),
    export: Flags.option({description: 'print the points as CSV on stdout instead of the table', options: ['csv'] as const})(),
    plot: Flags.string({description: 'also draw the sweep (the crossover where it has one) to FILE, .svg or .png; its Vega-Lite spec beside it (.vl.json)', helpValue: 'FILE'}),
    crossover: Flags.string({description: 'save/load --strategy all over chunk sizes: write the crossover (the fastest strategy per chunk size) to FILE', helpValue: 'FILE'}),
  }
  protected readonly kind = 'sweep'

  async run() {
    const split = splitSweepArgv(this.argv, Object.keys(SWEEP_TARGETS))
    const {flags} = await this.parse(Sweep, split.own)
    const target = SWEEP_TARGETS[split.target]
    const axes = parseVary(flags.vary ?? [], Object.keys(target.flags), target.name)
    const fixedGiven = flagsGiven(split.fixed)
    const both = axes.find((a) => fixedGiven.has(a.flag))
    if (both) throw badInput(`--vary ${both.flag}: --${both.flag} is also given as a fixed flag; give it once`)
    await parseTargetFlags(target, split.fixed, null)  // the fixed flags' own refusals, before any point's
    const n = gridSize(axes)
    if (n > MAX_POINTS_WITHOUT_YES && !flags.yes) throw badInput(`--vary: ${n} points (${axes.map((a) => a.values.length).join(' × ')}), more than ${MAX_POINTS_WITHOUT_YES}; each is a whole run: give --yes to run them all`)
    const crossoverPath = flags.crossover === undefined ? null : checkOutputPath(flags.crossover, '--crossover')
    const plotPaths = flags.plot === undefined ? null : chartPaths(flags.plot, '--plot')
    const points: PreparedPoint[] = []
    for (const values of expandGrid(axes)) {
      const argv = [...split.fixed, ...axes.flatMap((a) => varyArgv(target, a.flag, values[a.flag]))]
      const label = pointLabel(values)
      const parsed = await parseTargetFlags(target, argv, `--vary ${label}`)
      try {
        points.push(target.prepare(parsed, argv, values))
      } catch (error) {
        if (error instanceof KvError) throw new KvError(error.code, `at ${label}: ${error.message}`, error.exit)
        throw error
      }
      if (crossoverPath && (target.pointKind === 'backend-bench' || parsed.strategy !== 'all')) {
        throw badInput(`--crossover needs save or load with --strategy all (every strategy alone at each chunk size)`)
      }
    }
    if (crossoverPath && !axes.some((a) => CHUNK_FLAGS.includes(a.flag))) throw badInput(`--crossover needs a --vary of what sets the chunk (${CHUNK_FLAGS.map((f) => `--${f}`).join(', ')})`)

    const bar = progressBar(`sweep ${target.name}`, this.humanView(), {counts: false})
    const outcome = await runSweep({
      target: target.name,
      pointKind: target.pointKind,
      vary: axes,
      fixedArgv: split.fixed,
      points,
      onProgress: bar ? (point, of, label, inner) => bar.update((point - 1 + inner) * 100, of * 100, `point ${point}/${of} ${label}`) : undefined,
    }).finally(() => bar?.stop())
    this.environment = outcome.environment
    const {results: r, notes} = outcome
    if (crossoverPath && r.crossover) {
      writeFileAtomic(crossoverPath, `${JSON.stringify(crossoverDocument(r.crossover, outcome.environment, toolInfo(), SCHEMA_BASE, new Date().toISOString()), null, 2)}\n`)
      notes.push(`crossover written to ${flags.crossover}`)
    } else if (crossoverPath) {
      notes.push(`no crossover written to ${flags.crossover}: ${r.points.length} point(s) finished`)
    }
    if (plotPaths) notes.push(await this.plot(r, plotPaths, flags.plot!))
    if (outcome.exitCode !== 0) process.exitCode = outcome.exitCode
    if (flags.export === 'csv' && this.humanView()) {
      process.stdout.write(sweepCsv(r))
      for (const note of notes) process.stderr.write(`note: ${note}\n`)
    } else if (this.humanView()) {
      this.log(renderSweep(r))
      for (const note of notes) this.log(`note: ${note}`)
    }
    return this.envelope(r, {notes, status: r.partial ? 'partial' : 'complete'})
  }

  /** --plot: the chart `kvbench plot` would draw of this sweep; a sweep with nothing to draw says so. */
  private async plot(r: SweepResults, paths: ChartPaths, name: string): Promise<string> {
    const envelope = makeEnvelope({kind: 'sweep', clock: this.clock, argv: this.argv, environment: this.environment, world: this.world, results: r})
    try {
      const chart = buildChart([{label: 'sweep', envelope}], undefined)
      await writeChart(chart, paths)
      return `plot: ${chart.name}, ${chart.rows.length} marks in ${name} (Vega-Lite spec in ${paths.spec})`
    } catch (error) {
      if (error instanceof KvError) return `no plot written to ${name}: ${error.message}`
      throw error
    }
  }
}
