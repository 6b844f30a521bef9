// Human view of `kvbench merge`: the ranks (host, rank, status), then each figure over them.
import {fixed, makeTable} from './table.js'
import type {MergedFigure, MergeResults} from '../../core/merge/merge.js'

const UNIT_TEXT: Record<string, string> = {'GB/s': ' GB/s', '%': '%', us: ' µs', ms: ' ms'}

function num(v: number, unit: string): string {
  return `${fixed(v, Math.abs(v) >= 100 ? 1 : 2)}${UNIT_TEXT[unit] ?? ''}`
}

/** A check or verdict is worst where any rank failed; a number shows its worst rank beside it. */
function worst(f: MergedFigure): string {
  const w = f.values[f.worstRank]
  if (f.unit === 'check') return f.min === 1 ? 'passed on every rank' : `FAILED on rank ${f.worstRank}`
  if (f.unit === 'verdict') return `rank ${f.worstRank}`
  return w === null ? '-' : `${num(w, f.unit)} (rank ${f.worstRank})`
}

export function renderMerge(r: MergeResults): string {
  const failed = r.ranks.filter((k) => k.status !== 'complete').length
  const head = `kvbench merge ${r.kind}: ${r.ranks.length} ranks on ${r.hosts} host${r.hosts === 1 ? '' : 's'} (${r.launcher}${r.runId ? `, run ${r.runId}` : ''})${failed ? ` · ${failed} rank${failed === 1 ? '' : 's'} did not complete` : ''}`
  const ranks = makeTable(['rank', 'host', 'local rank', 'status', 'file'], undefined, {compact: true})
  for (const k of r.ranks) ranks.push([String(k.rank), k.host, String(k.localRank), k.error ? `${k.status}: ${k.error}` : k.status, k.file])
  const figures = makeTable(['figure', 'worst', 'min', 'max', 'all ranks at once'], undefined, {compact: true})
  for (const f of r.figures) {
    const spread = f.unit === 'check' || f.unit === 'verdict'
    const missing = f.values.filter((v) => v === null).length
    figures.push([
      missing ? `${f.name} (${missing} rank${missing === 1 ? '' : 's'} without it)` : f.name,
      worst(f),
      spread ? '' : num(f.min, f.unit),
      spread ? '' : num(f.max, f.unit),
      f.total === null ? '' : num(f.total, f.unit),
    ])
  }
  return `${head}\n${ranks.toString()}\n${figures.toString()}`
}
