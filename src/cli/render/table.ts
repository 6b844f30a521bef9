// Rendering helpers shared by every command's human view: colour only on a TTY
// without NO_COLOR, tables without ANSI codes when piped, one formatting of units.
import {Chalk, type ChalkInstance} from 'chalk'
import Table from 'cli-table3'

export function colourEnabled(stream: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  // Like supports-color: FORCE_COLOR present (even empty) forces colour unless it is 0 or false.
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

export function makeChalk(enabled = colourEnabled()): ChalkInstance {
  return new Chalk({level: enabled ? 1 : 0})
}

/** No rule between body rows: for long lists of rows. */
const COMPACT = {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''}

/** The terminal's width when stdout is one; null when piped (tables then keep their full width). */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number | null {
  return stream.isTTY && stream.columns > 0 ? stream.columns : null
}

// eslint-disable-next-line no-control-regex -- colour codes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g
const visible = (s: string) => Math.max(0, ...s.replace(ANSI, '').split('\n').map((l) => [...l].length))
const MIN_COLUMN = 8
const LABEL_COLUMN = 24

/**
 * Narrows a table to `width` characters: columns of long text give way first (to 24, then to 8),
 * labels only after them, and cells wrap at word boundaries. A table that fits is left as it is.
 */
export function fitTable(t: Table.Table, width: number): void {
  const rows = [t.options.head ?? [], ...(t as unknown as unknown[][])]
  const natural: number[] = []
  for (const row of rows) {
    if (!Array.isArray(row)) continue
    row.forEach((cell, i) => {
      const c = cell as {content?: unknown; colSpan?: number} | string | number | null
      if (c !== null && typeof c === 'object' && (c.colSpan ?? 1) > 1) return
      const text = String(c !== null && typeof c === 'object' ? (c.content ?? '') : (c ?? ''))
      natural[i] = Math.max(natural[i] ?? 0, visible(text) + 2)
    })
  }
  const borders = natural.length + 1
  const widths = [...natural]
  let total = widths.reduce((a, b) => a + b, 0) + borders
  // Long text gives way first (to 24, then to 8); short labels keep their width while they can.
  const long = natural.map((w) => w > LABEL_COLUMN)
  for (const [floor, only] of [[LABEL_COLUMN, true], [MIN_COLUMN, true], [MIN_COLUMN, false]] as const) {
    while (total > width) {
      let widest = -1
      widths.forEach((w, i) => {
        if ((!only || long[i]) && w > floor && (widest < 0 || w > widths[widest])) widest = i
      })
      if (widest < 0) break
      widths[widest]--
      total--
    }
  }
  if (widths.every((w, i) => w === natural[i])) return
  Object.assign(t.options, {colWidths: widths, wordWrap: true, wrapOnWordBoundary: true})
}

/** A cli-table3 table; its default red/grey styling is emptied when colour is off; fitted to a terminal. */
export function makeTable(head: string[], colour = colourEnabled(), {compact = false, width = terminalWidth()} = {}): Table.Table {
  const t = new Table({
    head,
    style: colour ? {head: ['cyan'], border: ['grey']} : {head: [], border: []},
    ...(compact ? {chars: COMPACT} : {}),
  })
  if (width !== null) {
    const draw = t.toString.bind(t)
    t.toString = () => {
      fitTable(t, width)
      return draw()
    }
  }
  return t
}

export function keyValueTable(rows: Array<[string, string]>, colour = colourEnabled(), width = terminalWidth()): string {
  const t = new Table({style: colour ? {head: [], border: ['grey']} : {head: [], border: []}})
  for (const [k, v] of rows) t.push([k, v])
  if (width !== null) fitTable(t, width)
  return t.toString()
}


export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n)
}

/** A percentage with one decimal, or '-'. */
export function fixedPct(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${fixed(v)}%`
}

/** Microseconds as µs, or as ms from 1,000 µs; '-' when there is none. */
export function fixedUs(v: number | undefined): string {
  return v === undefined ? '-' : v >= 1000 ? `${fixed(v / 1000, 2)} ms` : `${fixed(v, 1)} µs`
}

export function orDash(v: string | number | null | undefined): string {
  return v === null || v === undefined || v === '' ? '-' : String(v)
}

/**
 * Text too long for a table cell goes under the table: the cell says `[n]` and the footnote
 * `[n] text` follows the table, so a row stays one line at 80 columns and nothing is cut.
 */
export class Footnotes {
  private readonly notes: string[] = []

  constructor(private readonly maxCell = 60) {}

  /** The text itself when short; else `[n]`, one n per distinct text. */
  cell(text: string): string {
    if (text.length <= this.maxCell) return text
    const known = this.notes.indexOf(text)
    if (known >= 0) return `[${known + 1}]`
    this.notes.push(text)
    return `[${this.notes.length}]`
  }

  lines(): string[] {
    return this.notes.map((text, i) => `[${i + 1}] ${text}`)
  }
}
