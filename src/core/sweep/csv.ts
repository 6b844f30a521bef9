// A sweep as CSV, one row per point: the varied flags, the point's outcome, and its key figures
// (the table's columns, full precision), for spreadsheets and plotting scripts.
import {cell} from '../export/csv.js'
import type {SweepResults} from './run.js'

/** Key figure columns in the order they first appear over the points. */
export function figureColumns(r: SweepResults): string[] {
  const labels: string[] = []
  for (const p of r.points) for (const f of p.figures) if (!labels.includes(f.label)) labels.push(f.label)
  return labels
}

export function sweepCsv(r: SweepResults): string {
  const axes = r.vary.map((a) => a.flag)
  const labels = figureColumns(r)
  const rows = [['point', ...axes, 'status', 'exit_code', ...labels].map(cell).join(',')]
  for (const p of r.points) {
    const byLabel = new Map(p.figures.map((f) => [f.label, f.value]))
    rows.push([p.index + 1, ...axes.map((a) => p.values[a]), p.status, p.exitCode, ...labels.map((l) => byLabel.get(l))].map(cell).join(','))
  }
  return `${rows.join('\r\n')}\r\n`
}
