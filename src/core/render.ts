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

/** A cli-table3 table; its default red/grey styling is emptied when colour is off. */
export function makeTable(head: string[], colour = colourEnabled(), {compact = false} = {}): Table.Table {
  return new Table({
    head,
    style: colour ? {head: ['cyan'], border: ['grey']} : {head: [], border: []},
    ...(compact ? {chars: COMPACT} : {}),
  })
}

export function keyValueTable(rows: Array<[string, string]>, colour = colourEnabled()): string {
  const t = new Table({style: colour ? {head: [], border: ['grey']} : {head: [], border: []}})
  for (const [k, v] of rows) t.push({[k]: v})
  return t.toString()
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'unlimited'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`
}

export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n)
}

export function orDash(v: string | number | null | undefined): string {
  return v === null || v === undefined || v === '' ? '-' : String(v)
}
