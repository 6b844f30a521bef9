// kvbench plot (issue 19, item 3): the committed GPU fixtures drawn headless with Vega-Lite; the
// SVG's marks are counted and their values (Vega's ARIA labels) checked against the data; PNG
// through resvg; the spec beside the picture; a sweep's --plot; and every bad input refused.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, chmodSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const FIX = join(ROOT, 'test', 'fixtures', 'results')
const dir = mkdtempSync(join(tmpdir(), 'kvbench-plot-'))
after(() => rmSync(dir, {recursive: true, force: true}))
const fixture = (name) => JSON.parse(readFileSync(join(FIX, name), 'utf8'))

/** Each mark Vega drew of a role ("bar", "point", "line mark"...), with its ARIA label's fields. */
function marks(svg, role) {
  const out = []
  for (const m of svg.matchAll(/<(?:path|text)[^>]*aria-roledescription="([^"]+)"[^>]*aria-label="([^"]*)"|<(?:path|text)[^>]*aria-label="([^"]*)"[^>]*aria-roledescription="([^"]+)"/g)) {
    const r = m[1] ?? m[4]
    const label = m[2] ?? m[3]
    if (r !== role) continue
    out.push(Object.fromEntries(label.split('; ').map((kv) => [kv.slice(0, kv.indexOf(': ')), kv.slice(kv.indexOf(': ') + 2)])))
  }
  return out
}
const near = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b))

function plot(args, name) {
  const out = join(dir, name)
  const r = kvbenchJson(['plot', ...args, '--out', out])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assertSchema('plot.schema.json', r.json)
  const spec = JSON.parse(readFileSync(out.replace(/\.(svg|png)$/, '.vl.json'), 'utf8'))
  assert.match(spec.$schema, /vega-lite\/v6/)
  return {r, out, spec}
}

describe('plot: GPU fixtures drawn, marks matching the data', () => {
  test('strategies: a bar per strategy and direction, its GB/s the median of its timed groups', () => {
    const {out, r} = plot([join(FIX, 'save-h200.json')], 'strategies.svg')
    const svg = readFileSync(out, 'utf8')
    const bars = marks(svg, 'bar')
    const res = fixture('save-h200.json').results
    assert.equal(bars.length, res.strategies.length * 2)
    assert.equal(r.json.results.marks, bars.length)
    for (const s of res.strategies) {
      for (const d of ['save', 'load']) {
        const bar = bars.find((b) => b.strategy === s.strategy && b.direction === d)
        assert.ok(bar, `no bar for ${s.strategy} ${d}`)
        assert.ok(near(Number(bar['GB/s']), s[d].samplesGBps.p50), `${s.strategy} ${d}: ${bar['GB/s']} vs ${s[d].samplesGBps.p50}`)
      }
    }
    assert.equal(marks(svg, 'tick').length, bars.length, 'a ceiling tick per bar')
    assert.equal(marks(svg, 'text mark').length, bars.length, 'a % of ceiling label per bar')
  })

  test('strategies of a save and a load result side by side, as PNG', () => {
    const {out} = plot([join(FIX, 'save-h200.json'), join(FIX, 'load-h200.json')], 'both.png')
    const png = readFileSync(out)
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    assert.ok(png.length > 10_000)
  })

  test('hooks: a bin per histogram bin of every hook and design, with its count', () => {
    const {out} = plot([join(FIX, 'save-h200.json'), '--chart', 'hooks'], 'hooks.svg')
    const rects = marks(readFileSync(out, 'utf8'), 'rect mark')
    const res = fixture('save-h200.json').results
    const bins = res.designs.flatMap((d) => Object.values(d.hooks).flatMap((h) => h.histogram))
    assert.equal(rects.length, bins.length)
    assert.equal(rects.reduce((a, m) => a + Number(m.calls), 0), bins.reduce((a, b) => a + b.count, 0))
  })

  test('steps: a line per design over its measured steps (an H200 run with per-step times)', () => {
    const doc = fixture('save-h200-1.8.json')
    const {out, r} = plot([join(FIX, 'save-h200-1.8.json'), '--chart', 'steps'], 'steps.svg')
    const lines = marks(readFileSync(out, 'utf8'), 'line mark')
    assert.equal(lines.length, doc.results.designs.length)
    assert.equal(r.json.results.marks, doc.results.designs.reduce((a, d) => a + d.stepsGpuMs.length, 0))
    assert.deepEqual(new Set(lines.map((l) => l.series)), new Set(['connector off', 'async/staged', 'blocking/staged']))
    const off = doc.results.designs.find((d) => d.design === 'off')
    const rows = r.json.results.rows.filter((x) => x.series === 'connector off')
    assert.deepEqual(rows.map((x) => x.gpuMs), off.stepsGpuMs, 'the baseline line is its steps, in order')
  })

  test('crossover: a point per strategy, chunk size and direction of an H200 sweep', () => {
    const doc = fixture('sweep-crossover-h200.json')
    const {out} = plot([join(FIX, 'sweep-crossover-h200.json')], 'crossover.svg')
    const points = marks(readFileSync(out, 'utf8'), 'point')
    const c = doc.results.crossover
    const expected = ['save', 'load'].flatMap((d) => c[d].points.flatMap((p) => Object.entries(p.gbps).map(([s, v]) => ({d, s, chunk: p.chunkBytes, v}))))
    assert.equal(points.length, expected.length)
    for (const e of expected) assert.ok(points.some((m) => m.strategy === e.s && Number(m['chunk bytes'].replace(/,/g, '')) === e.chunk && near(Number(m['GB/s']), e.v)), JSON.stringify(e))
  })

  test('store: put and get bars of two backend results', () => {
    const {out} = plot([join(FIX, 'backend-host-h200.json'), join(FIX, 'backend-file-h200.json')], 'store.svg')
    const bars = marks(readFileSync(out, 'utf8'), 'bar')
    assert.equal(bars.length, 8)
    const host = fixture('backend-host-h200.json').results
    for (const s of host.sizes) for (const op of ['put', 'get']) assert.ok(bars.some((b) => b.record === s.label && b.op === op && near(Number(b['GB/s']), s[op].gbps)))
  })

  test('sweep --plot: a point per sweep point and GB/s figure', () => {
    const out = join(dir, 'sweep.svg')
    const r = kvbenchJson(['sweep', 'backend', 'bench', '--vary', 'threads=1,2,4', '--mib', '1', '--plot', out])
    assert.equal(r.code, 0, r.stderr)
    const points = marks(readFileSync(out, 'utf8'), 'point')
    assert.equal(points.length, 3 * 4, 'three points of four GB/s figures')
    for (const p of r.json.results.points) {
      const f = p.figures.find((x) => x.label === 'chunk get GB/s')
      assert.ok(points.some((m) => m['--threads'] === p.values.threads && m.series === 'chunk get GB/s' && near(Number(m['GB/s']), f.value)))
    }
    assert.ok(existsSync(join(dir, 'sweep.vl.json')))
    assert.ok(r.json.notes.some((n) => n.startsWith('plot: sweep, 12 marks')))
  })
})

describe('plot: bad input is one line, exit 2, nothing written', () => {
  const out = join(dir, 'bad')
  mkdirSync(out)
  const ro = join(dir, 'ro')
  mkdirSync(ro)
  chmodSync(ro, 0o555)
  writeFileSync(join(dir, 'error.json'), JSON.stringify({...fixture('save-h200.json'), status: 'error', results: null, error: {code: 'X', message: 'boom', exitCode: 1}}))
  const cases = [
    [[join(ROOT, 'package.json')], /is not a kvbench result envelope/],
    [[join(dir, 'nope.json')], /does not exist/],
    [[join(FIX, 'env-h200.json')], /kind env; plot draws save, load, mix, backend-bench and sweep/],
    [[join(FIX, 'save-h200.json'), join(FIX, 'backend-host-h200.json')], /one kind at a time/],
    [[join(FIX, 'save-h200.json'), '--chart', 'steps'], /no per-step times/],
    [[join(FIX, 'save-h200.json'), '--chart', 'store'], /--chart store does not draw a save result/],
    [[join(FIX, 'save-h200.json'), join(FIX, 'load-h200.json'), '--chart', 'hooks'], /--chart hooks draws one result; got 2/],
    [[join(FIX, 'save-h200.json'), '--figure', 'x'], /--figure picks a sweep's figure/],
    [[join(dir, 'error.json')], /is an error envelope \(boom\)/],
    [[join(FIX, 'save-h200.json'), '--out', join(out, 'x.txt')], /give a .svg or .png file name/],
    ...(process.getuid?.() === 0 ? [] : [[[join(FIX, 'save-h200.json'), '--out', join(ro, 'x.svg')], /not writable/]]),  // root writes anywhere
    [[join(FIX, 'save-h200.json'), '--chart', 'pie'], /Expected --chart=pie to be one of/],
  ]
  for (const [args, message] of cases) {
    test(`plot ${args.map((a) => a.replace(dir, '…').replace(FIX, '…')).join(' ')}`, () => {
      const r = kvbench(['plot', ...args, ...(args.includes('--out') ? [] : ['--out', join(out, 'x.svg')])])
      assert.equal(r.code, 2, r.stdout + r.stderr)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.deepEqual(readdirSync(out), [])
    })
  }
})
