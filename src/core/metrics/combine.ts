// Repeated runs of one figure, combined: the median value, the spread over every run's own
// spread (or values), and for checks and verdicts the worst run (a failed repeat is never hidden).
import type {Metric, Spread} from './metric.js'

export interface Combined extends Metric {
  /** how many results carried this figure */
  runs: number
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function combineRuns(lists: readonly Metric[][]): Map<string, Combined> {
  const byName = new Map<string, Metric[]>()
  for (const list of lists) for (const m of list) byName.set(m.name, [...(byName.get(m.name) ?? []), m])
  const out = new Map<string, Combined>()
  for (const [name, ms] of byName) {
    const first = ms[0]
    if (ms.length === 1) {
      out.set(name, {...first, runs: 1})
      continue
    }
    const values = ms.map((m) => m.value)
    if (first.unit === 'check' || first.unit === 'verdict') {
      const worst = first.better === 'bigger' ? Math.min(...values) : Math.max(...values)
      const w = ms.find((m) => m.value === worst)!
      out.set(name, {...w, runs: ms.length})
      continue
    }
    const spread: Spread = {
      lo: Math.min(...ms.map((m) => m.spread?.lo ?? m.value)),
      hi: Math.max(...ms.map((m) => m.spread?.hi ?? m.value)),
      what: `${ms.length} runs${first.spread ? ` and their ${first.spread.what}` : ''}`,
    }
    out.set(name, {...first, value: median(values), spread, runs: ms.length})
  }
  return out
}
