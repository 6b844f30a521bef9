// github-action-benchmark's custom tools: `customBiggerIsBetter` and `customSmallerIsBetter`
// read an array of {name, unit, value, range?, extra?}; one file per direction.
import type {Better} from '../metrics/index.js'
import type {Combined} from '../metrics/combine.js'
import {isFigure, spreadText, type ExportContext} from './context.js'

export interface GithubActionBenchmarkEntry {
  name: string
  unit: string
  value: number
  range?: string
  extra?: string
}

export function githubActionBenchmark(metrics: readonly Combined[], direction: Better, ctx: ExportContext): GithubActionBenchmarkEntry[] {
  return metrics
    .filter((m) => isFigure(m) && m.better === direction)
    .map((m) => {
      const e: GithubActionBenchmarkEntry = {name: m.name, unit: m.unit, value: m.value}
      if (m.spread) e.range = `± ${Number(((m.spread.hi - m.spread.lo) / 2).toPrecision(3))}`
      e.extra = [m.spread ? spreadText(m) : null, ctx.line].filter(Boolean).join('\n')
      return e
    })
}
