// Tables fit the terminal (issue 16, item 8): narrowed to its width with cells wrapped, full
// width when piped.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {makeTable} from '../dist/cli/render/table.js'
import {kvbench} from './helpers/cli.mjs'

const longest = (s) => Math.max(...s.split('\n').map((l) => [...l].length))

test('a table wider than the terminal is narrowed to it, every cell still there', () => {
  const row = ['native', 'default-stream-mode', 'CUDA runtime', 'HAZARD', 'work on the legacy default stream waited for a kernel on another blocking stream (100 ms spin)', 'create connector streams with cudaStreamNonBlocking']
  for (const width of [80, 100, 120]) {
    const t = makeTable(['layer', 'probe', 'target', 'verdict', 'evidence', 'fix'], false, {width})
    t.push(row)
    const out = t.toString()
    assert.ok(longest(out) <= width, `${longest(out)} > ${width}`)
    if (width >= 100) assert.ok(out.includes('default-stream-mode'), 'a short label keeps its width while the long text can give way')
    for (const word of ['legacy', 'blocking']) assert.ok(out.includes(word), word)
  }
})

test('a table that fits, or one that is piped, keeps its natural width', () => {
  const t = makeTable(['a', 'b'], false, {width: 80})
  t.push(['x', 'y'])
  assert.equal(longest(t.toString()), 9)
  const piped = makeTable(['evidence'], false, {width: null})
  piped.push(['w'.repeat(150)])
  assert.ok(longest(piped.toString()) > 150)
})

test('audit-streams drops its fix column when no probe has a fix', () => {
  const r = kvbench(['audit-streams'])
  assert.doesNotMatch(r.stdout.split('\n')[1], /\bfix\b/)
})

test('long evidence goes under the table: the cell says [n], the footnote holds the text once', async () => {
  const {Footnotes} = await import('../dist/cli/render/table.js')
  const f = new Footnotes(10)
  assert.deepEqual([f.cell('short'), f.cell('a'.repeat(11)), f.cell('b'.repeat(11)), f.cell('a'.repeat(11))], ['short', '[1]', '[2]', '[1]'])
  assert.deepEqual(f.lines(), [`[1] ${'a'.repeat(11)}`, `[2] ${'b'.repeat(11)}`])
  const r = kvbench(['audit-streams'])
  const [table, rest] = [r.stdout.split('\n').filter((l) => /^[│┌├└]/.test(l)), r.stdout.split('\n').filter((l) => /^\[\d+\] /.test(l))]
  assert.ok(longest(table.join('\n')) <= 80, table.join('\n'))  // rows stay one line at 80 columns
  for (const ref of new Set(table.join('').match(/\[\d+\]/g))) assert.ok(rest.some((l) => l.startsWith(`${ref} `)), ref)
  assert.equal(rest.filter((l) => /no NVIDIA driver|no GPU/.test(l)).length, rest.some((l) => /no GPU/.test(l)) ? 1 : 0)  // said once
})

test('key-value tables (env) fit the terminal too', async () => {
  const {keyValueTable} = await import('../dist/cli/render/table.js')
  const long = 'none (no NVIDIA driver (no /proc/driver/nvidia/version; the CUDA runtime reports cudaErrorInsufficientDriver))'
  const out = keyValueTable([['GPUs', long], ['CPU', 'x']], false, 60)
  assert.ok(longest(out) <= 60)
  assert.ok(out.includes('cudaErrorInsufficientDriver'))
  assert.ok(longest(keyValueTable([['GPUs', long]], false, null)) > 100)
})
