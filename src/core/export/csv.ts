// CSV, one row per metric (RFC 4180 quoting), for spreadsheets and dashboards that read tables.
import type {Combined} from '../metrics/combine.js'

export const CSV_COLUMNS = ['metric', 'unit', 'better', 'value', 'lower', 'upper', 'spread', 'runs', 'context', 'text', 'where'] as const

export function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return ''
  const s = String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function csv(metrics: readonly Combined[], where: string): string {
  const rows = [CSV_COLUMNS.join(',')]
  for (const m of metrics) {
    rows.push([m.name, m.unit, m.better, m.value, m.spread?.lo, m.spread?.hi, m.spread?.what, m.runs, m.context, m.text, where].map(cell).join(','))
  }
  return `${rows.join('\r\n')}\r\n`
}
