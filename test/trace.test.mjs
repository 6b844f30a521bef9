// `kvbench backend bench --trace FILE` (no GPU): a Chrome trace-event timeline Perfetto opens,
// with the passes and every store call on its I/O thread, and nothing written on bad input.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {kvbench, kvbenchJson} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const dir = mkdtempSync(join(tmpdir(), 'kvbench-trace-'))
after(() => rmSync(dir, {recursive: true, force: true}))

test('backend bench --trace: valid trace events, a track per I/O thread, every call inside its pass', () => {
  const file = join(dir, 'bench.json')
  const r = kvbenchJson(['backend', 'bench', '--backend', 'host', '--mib', '2', '--threads', '3', '--pipeline', '2', '--runs', '2', '--trace', file])
  assert.equal(r.code, 0, r.stderr)
  assertSchema('backend-bench.schema.json', r.json)  // the calls stay out of the envelope
  const t = JSON.parse(readFileSync(file, 'utf8'))
  assert.ok(Array.isArray(t.traceEvents))
  for (const e of t.traceEvents) {
    assert.ok(['X', 'M'].includes(e.ph), e.ph)
    assert.equal(typeof e.name, 'string')
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid))
    if (e.ph === 'X') assert.ok(e.ts >= 0 && e.dur >= 0, JSON.stringify(e))
  }
  const tracks = Object.fromEntries(t.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args.name]))
  assert.deepEqual(tracks, {0: 'passes', 1: 'I/O thread 0', 2: 'I/O thread 1', 3: 'I/O thread 2'})
  const passes = t.traceEvents.filter((e) => e.cat === 'pass')
  const calls = t.traceEvents.filter((e) => e.cat === 'store')
  // Two runs x two sizes x put and get; 64 chunks of 32 KiB in calls of up to 2 over 3 threads (a
  // thread with an odd share makes one call of 1), one 2 MiB block: 33 to 36 calls a pass.
  assert.equal(passes.length, 8)
  assert.deepEqual(passes.map((p) => p.name.split(' ')[0]), ['put', 'get', 'put', 'get', 'put', 'get', 'put', 'get'])
  assert.ok(calls.length >= 4 * 33 && calls.length <= 4 * 36, `${calls.length} calls`)
  assert.equal(calls.reduce((a, c) => a + c.args.records, 0), 2 * 2 * (64 + 1))
  for (const c of calls) {
    const inside = passes.filter((p) => p.name.startsWith(c.name) && c.ts >= p.ts - 1e-6 && c.ts + c.dur <= p.ts + p.dur + 1e-6)
    assert.equal(inside.length, 1, `call at ${c.ts} in one ${c.name} pass`)
  }
  // An I/O thread makes one call at a time.
  for (const tid of [1, 2, 3]) {
    const mine = calls.filter((c) => c.tid === tid).sort((a, b) => a.ts - b.ts)
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i].ts >= mine[i - 1].ts + mine[i - 1].dur - 1e-6, `thread ${tid} overlaps at ${i}`)
  }
  assert.ok(r.json.notes.some((n) => n.startsWith(`trace: ${calls.length} store calls of 2 measured run(s) in `)), r.json.notes.join('\n'))
})

test('backend bench --trace to a path that cannot be written: one line naming the flag, exit 2, nothing run or written', () => {
  const missing = join(dir, 'no-such-dir', 't.json')
  const r = kvbench(['backend', 'bench', '--backend', 'host', '--mib', '1', '--trace', missing])
  assert.equal(r.code, 2)
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  assert.match(r.stderr, /--trace .*does not exist/)
  assert.equal(existsSync(missing), false)
  const d = kvbench(['backend', 'bench', '--backend', 'host', '--mib', '1', '--trace', dir])
  assert.equal(d.code, 2)
  assert.match(d.stderr, /--trace .* is a directory/)
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [])
})

describe('save/load --trace: the timeline built from the native run\'s traced steps', () => {
  const design = (name, withCopies) => ({
    design: name,
    strategy: name === 'off' ? '-' : 'staged',
    trace: {
      firstStep: 3,
      steps: 1,
      alignErrorUs: 2.5,
      hookNames: ['poll', 'save_layer'],
      hooks: [{step: 3, hook: 1, startUs: 1010, durUs: 1}, {step: 3, hook: 0, startUs: 1900, durUs: 2}],
      stepsTraced: [{step: 3, wallStartUs: 1000, wallEndUs: 2000, gpuStartUs: 1050, gpuEndUs: 1950, layerEndUs: [1500, 1950], kvWrittenUs: [1100, 1520]}],
      copiesTraced: withCopies,
      copies: withCopies ? [{job: 7, step: 3, layer: 0, bytes: 4096, enqueueUs: 1100, enqueuedUs: 1110, gpuStartUs: 1500, gpuEndUs: 1600}] : [],
      copiesDropped: 0,
      storeCalls: withCopies ? [{op: 'put', thread: 1, bytes: 4096, queuedUs: 1600, startUs: 1650, doneUs: 1700, ok: true}] : [],
    },
  })
  test('a process per design, its tracks, steps, layers, hooks and copies at µs from the first step', async () => {
    const {runTrace} = await import('../dist/core/trace/run-trace.js')
    const run = runTrace([design('off', false), design('async', true)], 'save', 'llama-3.1-8b', {version: '0.1.0'})
    assert.deepEqual([run.steps, run.designs, run.worstAlignErrorUs], [2, 2, 2.5])
    const t = run.file
    const procs = t.traceEvents.filter((e) => e.name === 'process_name')
    assert.deepEqual(procs.map((p) => p.args.name), ['kvbench save llama-3.1-8b: connector off', 'kvbench save llama-3.1-8b: async/staged'])
    assert.equal(t.traceEvents.filter((e) => e.pid === 2 && e.name === 'thread_name').length, 5, 'async: scheduler, compute, copies, connector thread, one store I/O thread')
    assert.equal(t.traceEvents.filter((e) => e.pid === 1 && e.name === 'thread_name').length, 2, 'off: scheduler and compute')
    const layers = t.traceEvents.filter((e) => e.pid === 2 && e.cat === 'layer')
    assert.deepEqual(layers.map((l) => [l.ts, l.dur]), [[50, 450], [500, 450]], 'layer 0 from the forward step\'s start, layer 1 from layer 0\'s end')
    const writes = t.traceEvents.filter((e) => e.pid === 2 && e.cat === 'kv-write')
    assert.deepEqual(writes.map((w) => [w.ts, w.dur]), [[50, 50], [500, 20]], 'each layer opens with its KV write')
    const copy = t.traceEvents.find((e) => e.cat === 'copy')
    assert.deepEqual([copy.ts, copy.dur, copy.args], [500, 100, {job: 7, step: 3, layer: 0, bytes: 4096}])
    assert.deepEqual(t.traceEvents.filter((e) => e.pid === 2 && e.cat === 'hook').map((h) => h.name), ['save_layer', 'poll'])
    const put = t.traceEvents.find((e) => e.cat === 'store')
    assert.deepEqual([put.name, put.tid, put.ts, put.dur, put.args.queuedUs], ['store put', 11, 650, 50, 50])
    assert.ok(t.traceEvents.some((e) => e.name === 'thread_name' && e.tid === 11 && e.args.name.startsWith('store I/O thread 1')))
    assert.deepEqual(t.otherData.alignmentErrorUs, {'connector off': 2.5, 'async/staged': 2.5})
    JSON.parse(JSON.stringify(t))
  })
  test('bad --trace and --trace-steps: one line, exit 2, before any GPU work', () => {
    for (const [args, message] of [
      [['--trace', join(dir, 'no', 'x.json')], /--trace .*does not exist/],
      [['--trace-steps', '5'], /--trace-steps needs --trace FILE/],
      [['--trace', join(dir, 't.json'), '--trace-steps', '0'], /--trace-steps must be between 1 and 4096, got 0/],
      [['--trace', join(dir, 't.json'), '--connector', 'py:m:C'], /--trace sets kvbench's native connectors/],
    ]) {
      const r = kvbench(['save', ...args])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
      assert.ok(!existsSync(join(dir, 't.json')))
    }
  })
})
