// Human views of a comparison: a terminal table, and markdown that fits a PR comment.
import {fixed, makeTable} from './table.js'
import type {CompareResults, CompareRow, Side} from '../../core/compare/compare.js'

const UNIT_TEXT: Record<string, string> = {'GB/s': ' GB/s', '%': '%', us: ' µs', ms: ' ms'}

function value(s: Side | null, unit: string): string {
  if (!s) return '-'
  if (unit === 'check' || unit === 'verdict') return s.text ?? String(s.value)
  const digits = Math.abs(s.value) >= 100 ? 1 : 2
  const v = `${fixed(s.value, digits)}${UNIT_TEXT[unit] ?? ''}`
  const range = s.lo !== null && s.hi !== null ? ` [${fixed(s.lo, digits)}-${fixed(s.hi, digits)}]` : ''
  return s.runs > 1 ? `${v}${range} (${s.runs} runs)` : `${v}${range}`
}

function change(r: CompareRow): string {
  if (r.delta === null || r.unit === 'check' || r.unit === 'verdict') return '-'
  if (r.unit === '%') return `${r.delta >= 0 ? '+' : ''}${fixed(r.delta, 2)} pts`
  return r.changePct === null ? '-' : `${r.changePct >= 0 ? '+' : ''}${fixed(r.changePct, 1)}%`
}

function verdict(r: CompareRow): string {
  const v = r.verdict === 'regression' ? 'REGRESSION' : r.verdict === 'missing' ? 'MISSING' : r.verdict
  return r.context && r.verdict !== 'same' ? `${v} (context)` : v
}

export function headline(r: CompareResults): string {
  const c = r.counts
  const med = (n: number, who: string) => (n > 1 ? `${n} ${who} runs` : '')
  const sides = [med(r.base.length, 'BASE'), med(r.new.length, 'NEW')].filter(Boolean)
  const runs = sides.length > 0 ? ` (medians of ${sides.join(' and ')})` : ''
  const word = r.regressions === 0 ? 'no regression' : `${r.regressions} regression${r.regressions === 1 ? '' : 's'}`
  return `kvbench compare ${r.kind}: ${word}${runs} · ${c.regression} worse, ${c.missing} missing, ${c.improved} better, ${c.same} same, ${c.added} added · threshold ${r.thresholds.relativePct}% / ${r.thresholds.points} pt`
}

/** Which files, on which GPU and build. */
function files(r: CompareResults, name: (s: string) => string): string {
  const b = r.base[0]
  return `BASE ${r.base.map((f) => name(f.file)).join(', ')} (${b.gpu}, build ${b.gitSha?.slice(0, 7) ?? '?'}) · NEW ${r.new.map((f) => name(f.file)).join(', ')}`
}

export function renderCompareTable(r: CompareResults): string {
  const t = makeTable(['metric', 'base', 'new', 'change', 'verdict', 'why'], undefined, {compact: true})
  for (const row of r.rows) t.push([row.metric, value(row.base, row.unit), value(row.new, row.unit), change(row), verdict(row), row.why])
  return `${headline(r)}\n${files(r, (s) => s)}\n${t.toString()}`
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

function mdTable(rows: CompareRow[]): string {
  const lines = ['| metric | base | new | change | verdict |', '| --- | ---: | ---: | ---: | --- |']
  for (const row of rows) lines.push(`| \`${mdCell(row.metric)}\` | ${mdCell(value(row.base, row.unit))} | ${mdCell(value(row.new, row.unit))} | ${change(row)} | ${mdCell(verdict(row))} |`)
  return lines.join('\n')
}

export function renderCompareMarkdown(r: CompareResults, notes: string[]): string {
  const icon = r.regressions === 0 ? '✅' : '❌'
  const out = [`### ${icon} ${mdCell(headline(r))}`, '', files(r, (s) => `\`${mdCell(s)}\``), '']
  const changed = r.rows.filter((x) => x.verdict !== 'same')
  if (changed.length > 0) out.push(mdTable(changed), '')
  out.push(`<details><summary>All ${r.rows.length} figures</summary>`, '', mdTable(r.rows), '', '</details>')
  if (notes.length > 0) out.push('', ...notes.map((n) => `- note: ${mdCell(n)}`))
  return `${out.join('\n')}\n`
}
