// A small chart of a result's headline series in the terminal (asciichart), under the table:
// only on a TTY, each series in its own colour, at most the terminal's width.
import asciichart from 'asciichart'

import type {Series} from '../../core/plot/charts.js'

const COLOURS = [asciichart.blue, asciichart.red, asciichart.green, asciichart.magenta, asciichart.cyan, asciichart.yellow]

/** Every `n`-th value, so a long series fits `width` columns. */
function fit(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values]
  const step = values.length / width
  return Array.from({length: width}, (_, i) => values[Math.floor(i * step)])
}

export function inlineChart(series: readonly Series[], width: number, colour: boolean): string {
  const shown = series.filter((s) => s.values.length > 1).slice(0, COLOURS.length)
  if (shown.length === 0) return ''
  const plot = asciichart.plot(shown.map((s) => fit(s.values, Math.max(10, width - 14))), {height: 8, ...(colour ? {colors: COLOURS.slice(0, shown.length)} : {})})
  const legend = shown.map((s, i) => (colour ? `${COLOURS[i]}━━${asciichart.reset} ${s.name}` : `${i === 0 ? '─' : `(${i + 1})`} ${s.name}`)).join('   ')
  return `${plot}\n${legend}`
}
