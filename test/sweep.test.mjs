// kvbench sweep (issue 19, item 2): a grid of backend bench runs end to end (no GPU), each point a
// full result in one envelope, its table, its CSV, a signal mid-sweep, and every bad input it refuses.
// The crossover (item 4) from synthetic save results: which strategy wins from which chunk size.
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {crossoverOf} from '../dist/core/sweep/crossover.js'
import {expandGrid, parseVary} from '../dist/core/sweep/grid.js'
import {splitSweepArgv} from '../dist/cli/sweep-argv.js'
import {kvbench, kvbenchAsync, kvbenchJson} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const dir = mkdtempSync(join(tmpdir(), 'kvbench-sweep-'))
after(() => rmSync(dir, {recursive: true, force: true}))

describe('sweep backend bench: one envelope holding every point', () => {
  const out = join(dir, 'sweep.json')
  const r = kvbenchJson(['sweep', 'backend', 'bench', '--vary', 'threads=1,2', '--vary=pipeline=1,4', '--mib', '2', '--profile', 'llama-3.2-1b', '-o', out])

  test('four points, the last axis fastest, each a valid backend-bench result of its own values', () => {
    assert.equal(r.code, 0, r.stderr)
    assertSchema('sweep.schema.json', r.json)
    const res = r.json.results
    assert.equal(res.target, 'backend bench')
    assert.equal(res.planned, 4)
    assert.deepEqual(res.points.map((p) => [p.values.threads, p.values.pipeline]), [['1', '1'], ['1', '4'], ['2', '1'], ['2', '4']])
    for (const p of res.points) {
      assert.equal(p.status, 'complete')
      assert.equal(p.results.threads, Number(p.values.threads))
      assert.equal(p.results.pipeline, Number(p.values.pipeline))
      assert.equal(p.results.profile, 'llama-3.2-1b')
      assertSchema('backend-bench.schema.json', {...r.json, kind: 'backend-bench', $schema: r.json.$schema.replace('sweep', 'backend-bench'), results: p.results})
      const put = p.figures.find((f) => f.label === 'chunk put GB/s')
      assert.equal(put.value, p.results.sizes[0].put.gbps, 'a key figure is the result\'s own figure')
      assert.equal(p.figures.find((f) => f.label === 'verified').value, 'yes')
    }
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).results.points.length, 4)
  })

  test('the table has a row per point; --export csv a row per point with the varied flags', () => {
    const t = kvbench(['sweep', 'backend', 'bench', '--vary', 'threads=1,2', '--mib', '1'])
    assert.equal(t.code, 0, t.stderr)
    assert.match(t.stdout, /--threads/)
    assert.equal(t.stdout.split('\n').filter((l) => /^│ [12] /.test(l)).length, 2, t.stdout)
    const c = kvbench(['sweep', 'backend', 'bench', '--vary', 'threads=1,2', '--mib', '1', '--export', 'csv'])
    assert.equal(c.code, 0, c.stderr)
    const rows = c.stdout.trim().split('\r\n')
    assert.equal(rows.length, 3)
    assert.match(rows[0], /^point,threads,status,exit_code,chunk put GB\/s,/)
    assert.match(rows[1], /^1,1,complete,0,\d/)
    assert.match(rows[2], /^2,2,complete,0,\d/)
  })
})

describe('sweep: bad input is one line, exit 2, before any point runs', () => {
  const cases = [
    [['backend', 'bench', '--vary', 'bogus=1'], /--vary bogus=1: backend bench has no flag --bogus/],
    [['backend', 'bench', '--vary', 'threads='], /--vary threads=: an empty value/],
    [['backend', 'bench', '--vary', 'threads=1,1'], /1 is listed twice/],
    [['backend', 'bench', '--vary', 'fsync=never,sometimes'], /--vary fsync=sometimes: Expected --fsync=sometimes to be one of: never, always/],
    [['backend', 'bench', '--vary', 'threads=2,x'], /--vary threads=x: Parsing --threads: Expected an integer but received: x/],
    [['backend', 'bench', '--vary', 'threads=0,1'], /at threads=0: --threads must be between 1 and 256, got 0/],
    [['backend', 'bench', '--vary', `threads=${Array.from({length: 17}, (_, i) => i + 1).join(',')}`, '--vary', `pipeline=${Array.from({length: 16}, (_, i) => i + 1).join(',')}`], /272 points \(17 × 16\), more than 256; .*--yes/],
    [['backend', 'bench', '--vary', 'threads=1,2', '--threads', '3'], /--threads is also given as a fixed flag/],
    [['backend', 'bench', '--vary', 'threads=1', '--mib', 'x'], /^Error: backend bench: Parsing --mib/],
    [['backend', 'bench'], /--vary is required/],
    [[], /sweep needs the command to sweep first/],
    [['bogus', '--vary', 'x=1'], /sweep bogus: not a command sweep runs/],
    [['backend', 'bench', '--vary', 'threads=1', '--crossover', join(dir, 'c.json')], /--crossover needs save or load with --strategy all/],
    [['backend', 'bench', '--vary', 'threads=1', '--crossover', join(dir, 'no', 'c.json')], /--crossover .*does not exist/],
    [['backend', 'bench', '--vary', 'verify=maybe'], /--verify is on or off/],
    [['backend', 'bench', '--vary', 'threads=1', '--trace', join(dir, 't.json')], /--trace is not swept/],
    [['save', '--vary', 'block-size=16', '--connector', 'py:a:B'], /sweep runs kvbench's native connectors/],
    [['save', '--vary', 'design=async,sometimes'], /Expected --design=sometimes to be one of: all, async, blocking/],
  ]
  for (const [args, message] of cases) {
    test(`sweep ${args.join(' ').slice(0, 70)}`, () => {
      const r = kvbench(['sweep', ...args])
      assert.equal(r.code, 2, r.stdout + r.stderr)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.equal(r.stdout, '')
    })
  }
  test('under --json the refusal is an error envelope, exit 2', () => {
    const r = kvbenchJson(['sweep', 'backend', 'bench', '--vary', 'bogus=1'])
    assert.equal(r.code, 2)
    assertSchema('sweep.schema.json', r.json)
    assert.equal(r.json.status, 'error')
    assert.match(r.json.error.message, /no flag --bogus/)
  })
  test('the grid of `--vary` values, and the split of sweep and command flags', () => {
    assert.deepEqual(expandGrid(parseVary(['a=1,2', 'b=x'], ['a', 'b'], 't')), [{a: '1', b: 'x'}, {a: '2', b: 'x'}])
    assert.deepEqual(splitSweepArgv(['backend', 'bench', '--vary', 'a=1', '--mib', '2', '-o', 'f.json', '--yes'], ['save', 'backend bench']), {target: 'backend bench', own: ['--vary', 'a=1', '-o', 'f.json', '--yes'], fixed: ['--mib', '2']})
    assert.deepEqual(splitSweepArgv(['save', '--vary=a=1', '--no-verify'], ['save', 'backend bench']), {target: 'save', own: ['--vary=a=1'], fixed: ['--no-verify']})
  })
})

describe('sweep: a signal keeps the finished points', () => {
  test('SIGINT in the second point -> exit 130, partial, point 1 whole, no record left', async () => {
    const store = mkdtempSync(join(dir, 'store-'))
    const files = () => readdirSync(store, {recursive: true}).length
    const {child, done} = kvbenchAsync(['sweep', 'backend', 'bench', '--backend', `file:${store}`, '--vary', 'mib=2,4096', '--json'])
    // The first point writes 65 records and removes them; the second is the one past 200.
    for (let i = 0; i < 400 && files() <= 200; i++) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGINT')
    const r = await done
    assert.equal(r.code, 130, r.stderr)
    const j = JSON.parse(r.stdout)
    assertSchema('sweep.schema.json', j)
    assert.equal(j.status, 'partial')
    assert.equal(j.results.points.length, 2)
    assert.equal(j.results.points[0].status, 'complete')
    assert.equal(j.results.points[1].status, 'partial')
    assert.ok(j.notes.some((n) => n.startsWith('interrupted (SIGINT): 1 of 2 points finished whole')), JSON.stringify(j.notes))
    assert.equal(files(), 0, 'records left behind')
  })
})

describe('the crossover: the fastest strategy from each chunk size', () => {
  const run = (chunkBytes, save, load = save) => ({
    status: 'complete',
    results: {
      sizes: {chunkBytes},
      strategies: Object.keys(save).map((s) => ({
        strategy: s,
        save: {gbps: save[s], samplesGBps: {p50: save[s]}, verified: true},
        load: {gbps: load[s], samplesGBps: {p50: load[s]}, verified: s !== 'batch'},
      })),
    },
  })
  const vary = [{flag: 'block-size', values: ['1', '4', '16']}]
  test('ranges group chunk sizes by their winner; a strategy that did not verify never wins', () => {
    const points = [run(65536, {batch: 50, staged: 53}), run(4096, {batch: 20, staged: 45}), run(16384, {batch: 49, staged: 48})]
    const {value, note} = crossoverOf('save', vary, points)
    assert.equal(note, null)
    assert.deepEqual(value.save.ranges, [
      {strategy: 'staged', fromChunkBytes: 4096, toChunkBytes: 4096},
      {strategy: 'batch', fromChunkBytes: 16384, toChunkBytes: 16384},
      {strategy: 'staged', fromChunkBytes: 65536, toChunkBytes: 65536},
    ])
    assert.deepEqual(value.save.points.map((p) => p.chunkBytes), [4096, 16384, 65536])
    assert.ok(Math.abs(value.save.points[1].marginPct - (100 * 1) / 48) < 1e-9)
    assert.deepEqual(value.load.ranges, [{strategy: 'staged', fromChunkBytes: 4096, toChunkBytes: 65536}])
  })
  test('no crossover, and why, when a point ran one strategy or two share a chunk size', () => {
    assert.match(crossoverOf('save', vary, [run(4096, {staged: 1}), run(8192, {staged: 2})]).note, /one strategy; add --strategy all/)
    assert.match(crossoverOf('save', vary, [run(4096, {a: 1, b: 2}), run(4096, {a: 2, b: 1})]).note, /share a chunk size/)
    assert.equal(crossoverOf('save', [{flag: 'warmup', values: ['1']}], [run(4096, {staged: 1})]).note, null, 'no note when nothing varied the chunk')
  })
})
