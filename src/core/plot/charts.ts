// The charts `kvbench plot` draws, each a Vega-Lite spec built from kvbench results (saved beside
// the picture, so users restyle it): strategies side by side, hook latency histograms, step time
// over the steps, a store's put/get rates, sweep lines and the strategy crossover.
import type {BackendBenchResults} from '../backend/bench.js'
import type {Envelope} from '../envelope.js'
import {badInput} from '../errors.js'
import type {TransferResults} from '../saveload/results.js'
import type {SweepResults} from '../sweep/run.js'

export const CHART_NAMES = ['strategies', 'hooks', 'steps', 'store', 'sweep', 'crossover'] as const
export type ChartName = (typeof CHART_NAMES)[number]

/** What a chart reads: a result envelope and the name it is shown by. */
export interface PlotInput {
  label: string
  envelope: Envelope<unknown>
}

/** A series for the small chart on a terminal (asciichart). */
export interface Series {
  name: string
  values: number[]
}

export interface Chart {
  name: ChartName
  title: string
  /** Vega-Lite v6 */
  spec: Record<string, unknown>
  /** One per bar, point or histogram bin: the rows the marks are drawn from. */
  rows: Array<Record<string, string | number>>
  headline: Series[]
}

const VL_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'
const WIDTH = 520
const HEIGHT = 260

/** The charts each result kind can draw, the first its default (a sweep with a crossover draws that). */
export function chartsFor(kind: string, results: unknown): ChartName[] {
  switch (kind) {
    case 'save':
    case 'load':
    case 'mix':
      return ['strategies', 'hooks', 'steps']
    case 'backend-bench':
      return ['store']
    case 'sweep':
      return (results as SweepResults | null)?.crossover ? ['crossover', 'sweep'] : ['sweep']
    default:
      return []
  }
}

/** `facet`: small multiples, in the order of the rows; `own`: each panel its own scales (counts of very different sizes). */
function spec(title: string, rows: unknown[], body: Record<string, unknown>, facet?: Record<string, {field: string}>, own = false): Record<string, unknown> {
  const base = {$schema: VL_SCHEMA, title, data: {values: rows}, config: {font: 'DejaVu Sans, Helvetica, Arial, sans-serif', view: {stroke: null}}}
  if (!facet) return {...base, width: WIDTH, height: HEIGHT, ...body}
  const ordered = Object.fromEntries(Object.entries(facet).map(([k, f]) => [k, {...f, title: null, sort: null}]))
  const resolve = own ? {scale: {x: 'independent', y: 'independent'}} : {axis: {x: 'independent'}}
  return {...base, facet: ordered, spec: {width: WIDTH / 2, height: own ? HEIGHT / 2 : HEIGHT, ...body}, resolve}
}

function transfer(input: PlotInput): TransferResults {
  return input.envelope.results as TransferResults
}

function strategies(inputs: readonly PlotInput[]): Chart {
  const rows: Array<Record<string, string | number>> = []
  for (const input of inputs) {
    const r = transfer(input)
    for (const s of r.strategies) {
      for (const dir of ['save', 'load'] as const) {
        const d = s[dir]
        const ceiling = dir === 'save' ? r.ceilings.d2hGBps : r.ceilings.h2dGBps
        const gbps = d.samplesGBps?.p50 ?? d.gbps
        rows.push({result: input.label, strategy: s.strategy, direction: dir, gbps, pctOfCeiling: (100 * gbps) / ceiling, ceilingGBps: ceiling})
      }
    }
  }
  const title = `Each strategy alone: GB/s (median of timed groups), % of the ceiling above each bar`
  const x = {field: 'strategy', type: 'nominal', sort: null, title: null}
  const body = {
    layer: [
      {mark: {type: 'bar'}, encoding: {x, xOffset: {field: 'direction'}, y: {field: 'gbps', type: 'quantitative', title: 'GB/s'}, color: {field: 'direction', type: 'nominal'}}},
      {mark: {type: 'tick', color: '#444', thickness: 1}, encoding: {x, xOffset: {field: 'direction'}, y: {field: 'ceilingGBps', type: 'quantitative'}}},
      {mark: {type: 'text', dy: -6, fontSize: 9}, encoding: {x, xOffset: {field: 'direction'}, y: {field: 'gbps', type: 'quantitative'}, text: {field: 'pctOfCeiling', type: 'quantitative', format: '.0f'}}},
    ],
  }
  return {name: 'strategies', title, spec: spec(title, rows, body, inputs.length > 1 ? {column: {field: 'result'}} : undefined), rows, headline: []}
}

function hooks(input: PlotInput): Chart {
  const r = transfer(input)
  const rows: Array<Record<string, string | number>> = []
  for (const d of r.designs) {
    for (const [hook, h] of Object.entries(d.hooks)) {
      for (const b of h.histogram) rows.push({design: `${d.design}/${d.strategy ?? '-'}${d.direction ? ` ${d.direction}` : ''}`, hook, fromUs: b.from, toUs: b.to, count: b.count})
    }
  }
  if (rows.length === 0) throw badInput(`${input.label} has no hook latencies (a run without a connector design): --chart strategies`)
  const title = 'Host time per hook call, µs (log scale): calls per bin'
  const body = {
    mark: {type: 'rect', stroke: 'white', strokeWidth: 0.5},
    encoding: {
      x: {field: 'fromUs', type: 'quantitative', scale: {type: 'log'}, title: 'µs'},
      x2: {field: 'toUs'},
      y: {field: 'count', type: 'quantitative', title: 'calls'},
      y2: {datum: 0},
      color: {field: 'hook', type: 'nominal'},
    },
  }
  return {name: 'hooks', title, spec: spec(title, rows, body, {row: {field: 'hook'}, column: {field: 'design'}}, true), rows, headline: []}
}

function steps(input: PlotInput): Chart {
  const r = transfer(input)
  const rows: Array<Record<string, string | number>> = []
  const headline: Series[] = []
  // mix: a design's direction rows share its steps; its together row draws them once.
  for (const d of r.designs.filter((x) => !x.direction || x.direction === 'both')) {
    if (!d.stepsGpuMs) throw badInput(`${input.label} has no per-step times (results before schema 1.8.0): --chart strategies or hooks`)
    const name = d.design === 'off' ? 'connector off' : `${d.design}/${d.strategy}`
    d.stepsGpuMs.forEach((ms, step) => rows.push({series: name, step, gpuMs: ms}))
    headline.push({name, values: d.stepsGpuMs})
  }
  const title = `GPU time of each measured step, ms: connector off against each design (${r.profile.name})`
  const body = {
    mark: {type: 'line', strokeWidth: 1},
    encoding: {
      x: {field: 'step', type: 'quantitative', title: 'step'},
      y: {field: 'gpuMs', type: 'quantitative', title: 'GPU ms', scale: {zero: false}},
      color: {field: 'series', type: 'nominal', title: null},
    },
  }
  return {name: 'steps', title, spec: spec(title, rows, body), rows, headline}
}

function store(inputs: readonly PlotInput[]): Chart {
  const rows: Array<Record<string, string | number>> = []
  for (const input of inputs) {
    const r = input.envelope.results as BackendBenchResults
    for (const s of r.sizes) for (const op of ['put', 'get'] as const) rows.push({result: input.label, record: s.label, op, gbps: s[op].gbps})
  }
  const title = 'Store alone: put and get GB/s per record size'
  const x = {field: 'record', type: 'nominal', sort: null, title: null}
  const body = {mark: {type: 'bar'}, encoding: {x, xOffset: {field: 'op'}, y: {field: 'gbps', type: 'quantitative', title: 'GB/s'}, color: {field: 'op', type: 'nominal'}}}
  return {name: 'store', title, spec: spec(title, rows, body, inputs.length > 1 ? {column: {field: 'result'}} : undefined), rows, headline: []}
}

/** x of a sweep point: the first varied flag, a number where every value is one. */
function sweepAxis(r: SweepResults): {flag: string; numeric: boolean; log: boolean} {
  const a = r.vary[0]
  const nums = a.values.map(Number)
  const numeric = nums.every((n) => Number.isFinite(n))
  const pos = nums.filter((n) => n > 0)
  return {flag: a.flag, numeric, log: numeric && pos.length === nums.length && Math.max(...pos) / Math.min(...pos) >= 8}
}

function sweep(input: PlotInput, figure: string | undefined): Chart {
  const r = input.envelope.results as SweepResults
  const numericLabels = [...new Set(r.points.flatMap((p) => p.figures.filter((f) => typeof f.value === 'number').map((f) => f.label)))]
  if (figure !== undefined && !numericLabels.includes(figure)) throw badInput(`--figure ${figure}: this sweep's figures are ${numericLabels.join(', ')}`)
  // One varied flag: every GB/s figure a line; several: one figure, a line per value of the others.
  const firstGBps = r.points.flatMap((p) => p.figures).find((f) => f.unit === 'GB/s')?.label ?? numericLabels[0]
  const labels = figure ? [figure] : r.vary.length === 1 ? numericLabels.filter((l) => r.points.some((p) => p.figures.some((f) => f.label === l && f.unit === 'GB/s'))) : [firstGBps]
  if (labels.length === 0 || labels[0] === undefined) throw badInput(`${input.label}: no finished point has a figure to draw`)
  const axis = sweepAxis(r)
  const rows: Array<Record<string, string | number>> = []
  for (const p of r.points) {
    const others = r.vary.slice(1).map((a) => `${a.flag}=${p.values[a.flag]}`).join(' ')
    for (const f of p.figures) {
      if (!labels.includes(f.label) || typeof f.value !== 'number') continue
      const raw = p.values[axis.flag]
      rows.push({x: axis.numeric ? Number(raw) : raw, series: [labels.length > 1 ? f.label : '', others].filter(Boolean).join(' ') || f.label, value: f.value})
    }
  }
  const headline = [...new Set(rows.map((row) => String(row.series)))].map((name) => ({name, values: rows.filter((row) => row.series === name).map((row) => Number(row.value))}))
  const unit = r.points.flatMap((p) => p.figures).find((f) => f.label === labels[0])?.unit ?? ''
  const title = `kvbench sweep ${r.target}: ${labels.length > 1 ? unit : labels[0]} by --${axis.flag}`
  const body = {
    mark: {type: 'line', point: true},
    encoding: {
      x: {field: 'x', type: axis.numeric ? 'quantitative' : 'ordinal', sort: null, title: `--${axis.flag}`, ...(axis.log ? {scale: {type: 'log', base: 2}} : {})},
      y: {field: 'value', type: 'quantitative', title: labels.length > 1 ? unit : labels[0]},
      color: {field: 'series', type: 'nominal', title: null},
    },
  }
  return {name: 'sweep', title, spec: spec(title, rows, body), rows, headline}
}

function crossover(input: PlotInput): Chart {
  const r = input.envelope.results as SweepResults
  const c = r.crossover
  if (!c) throw badInput(`${input.label} has no crossover (a save or load sweep --strategy all over chunk sizes has one): --chart sweep`)
  const rows: Array<Record<string, string | number>> = []
  for (const dir of ['save', 'load'] as const) {
    for (const p of c[dir].points) for (const [strategy, gbps] of Object.entries(p.gbps)) rows.push({direction: dir, strategy, chunkBytes: p.chunkBytes, gbps})
  }
  const headline = [...new Set(rows.filter((x) => x.direction === 'save').map((x) => String(x.strategy)))].map((s) => ({name: `save ${s}`, values: rows.filter((x) => x.direction === 'save' && x.strategy === s).map((x) => Number(x.gbps))}))
  const title = 'Each strategy alone by chunk size: GB/s (the fastest wins its range)'
  const body = {
    mark: {type: 'line', point: true},
    encoding: {
      x: {field: 'chunkBytes', type: 'quantitative', scale: {type: 'log', base: 2}, title: 'chunk bytes'},
      y: {field: 'gbps', type: 'quantitative', title: 'GB/s'},
      color: {field: 'strategy', type: 'nominal'},
    },
  }
  return {name: 'crossover', title, spec: spec(title, rows, body, {column: {field: 'direction'}}), rows, headline}
}

/** The chart asked for (or the first result's default), refused with one line where it cannot be drawn. */
export function buildChart(inputs: readonly PlotInput[], asked: ChartName | undefined, figure?: string): Chart {
  const kinds = [...new Set(inputs.map((i) => i.envelope.kind))]
  // save and load results share their charts (the strategies alone measure both directions).
  const family = new Set(kinds.map((k) => (k === 'load' || k === 'mix' ? 'save' : k)))
  if (family.size > 1) throw badInput(`plot draws results of one kind at a time (save, load and mix together); got ${kinds.join(', ')}`)
  const possible = chartsFor(kinds[0], inputs[0].envelope.results)
  if (possible.length === 0) throw badInput(`${inputs[0].label} is a result of kind ${kinds[0]}; plot draws save, load, mix, backend-bench and sweep results`)
  const name = asked ?? possible[0]
  if (!possible.includes(name)) throw badInput(`--chart ${name} does not draw a ${kinds[0]} result (${possible.join(', ')})`)
  const one = () => {
    if (inputs.length > 1) throw badInput(`--chart ${name} draws one result; got ${inputs.length}`)
    return inputs[0]
  }
  if (figure !== undefined && name !== 'sweep') throw badInput(`--figure picks a sweep's figure; --chart ${name} has none to pick`)
  switch (name) {
    case 'strategies':
      return strategies(inputs)
    case 'hooks':
      return hooks(one())
    case 'steps':
      return steps(one())
    case 'store':
      return store(inputs)
    case 'sweep':
      return sweep(one(), figure)
    case 'crossover':
      return crossover(one())
  }
}
