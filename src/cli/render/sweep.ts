// The human view of a sweep: one row per point (its varied flags, key figures and exit code),
// then the crossover where the sweep has one.
import {formatBytes} from '../../core/bytes.js'
import type {CrossoverDirection} from '../../core/sweep/crossover.js'
import {figureColumns} from '../../core/sweep/csv.js'
import type {SweepResults} from '../../core/sweep/run.js'
import {fixed, makeTable, orDash} from './table.js'

function figureText(v: number | string | null | undefined): string {
  if (typeof v === 'number') return fixed(v, Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2)
  return orDash(v)
}

export function crossoverLine(dir: string, d: CrossoverDirection): string {
  const ranges = d.ranges.map((r) => `${r.strategy} ${r.fromChunkBytes === r.toChunkBytes ? formatBytes(r.fromChunkBytes) : `${formatBytes(r.fromChunkBytes)}-${formatBytes(r.toChunkBytes)}`}`)
  const close = d.points.filter((p) => p.marginPct !== null && p.marginPct < 1).map((p) => formatBytes(p.chunkBytes))
  return `crossover ${dir}: ${ranges.join(', ')}${close.length ? ` (within 1% of the next at ${close.join(', ')})` : ''}`
}

export function renderSweep(r: SweepResults): string {
  const axes = r.vary.map((a) => a.flag)
  const labels = figureColumns(r)
  const t = makeTable(['#', ...axes.map((a) => `--${a}`), ...labels, 'exit'], undefined, {compact: true})
  for (const p of r.points) {
    const byLabel = new Map(p.figures.map((f) => [f.label, f.value]))
    const exit = p.status === 'error' ? `error (${p.exitCode})` : p.status === 'partial' ? `${p.exitCode} partial` : String(p.exitCode)
    t.push([String(p.index + 1), ...axes.map((a) => p.values[a]), ...labels.map((l) => figureText(byLabel.get(l))), exit])
  }
  const lines = [`kvbench sweep ${r.target} · ${r.points.length} of ${r.planned} points · ${r.vary.map((a) => `--${a.flag} ${a.values.join(',')}`).join(' × ')}`, t.toString()]
  if (r.crossover) lines.push(crossoverLine('save', r.crossover.save), crossoverLine('load', r.crossover.load))
  return lines.join('\n')
}
