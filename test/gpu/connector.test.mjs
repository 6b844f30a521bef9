// GPU suite for `kvbench save|load --connector py:...`: the reference connectors verified beside a
// torch forward, and three broken connectors caught: a stream leaked through a module-global
// accessor (wrong forward outputs), a corrupted load (verification fails), a 2 ms lookup (its p50).
import assert from 'node:assert/strict'
import {delimiter, join} from 'node:path'
import {describe, test} from 'node:test'

import {gpuGate, kvbenchJson, ROOT} from '../helpers/cli.mjs'
import {assertSchema} from '../helpers/schema.mjs'

// leaky.py imports the audit fixture leak_global_patch.py from test/fixtures
const env = {PYTHONPATH: [join(ROOT, 'test', 'fixtures', 'connectors'), join(ROOT, 'test', 'fixtures')].join(delimiter)}
const run = (args) => kvbenchJson([...args, '--decode-steps', '30', '--warmup', '2'], {env, timeout: 300_000})
const design = (r, name) => r.json.results.designs.find((d) => d.name === name)

describe('Python connectors on a GPU', gpuGate(), () => {
  for (const mode of ['save', 'load']) {
    test(`${mode}: the references and a 2 ms lookup, verified beside the forward`, () => {
      const r = run([mode, '--connector', 'py:slow_lookup:SlowLookup'])
      assertSchema('connector.schema.json', r.json)
      assert.equal(r.code, 0, JSON.stringify(r.json.notes))
      assert.deepEqual(r.json.results.designs.map((d) => d.name), ['off-before', 'SlowLookup', 'naive', 'async', 'off-after'])
      for (const name of ['SlowLookup', 'naive', 'async']) {
        const d = design(r, name)
        assert.equal(d.verify.verified, true, `${name}: ${JSON.stringify(d.verify)}`)
        assert.ok(d.verify.requests > 0, name)
        assert.equal(d.outputs.correct, true, name)
        assert.ok(d.outputs.streams.every((s) => s.compute), name)
        assert.ok(d[mode].gbps > 0, name)
      }
      assert.ok(design(r, 'SlowLookup').hooks.get_num_new_matched_tokens.us.p50 >= 2000)
      assert.ok(design(r, 'async').hooks.get_num_new_matched_tokens.us.p50 < 200)
      // the synchronous per-block design blocks the step far longer than the async one
      assert.ok(design(r, 'naive').blockedPerStepUs.p50 > 10 * design(r, 'async').blockedPerStepUs.p50)
    })
  }

  test('--gpus all: a harness a GPU, each verified, their sum and the slowest GPU', () => {
    const r = run(['save', '--connector', 'py:slow_lookup:SlowLookup', '--compare-with', 'async', '--gpus', 'all'])
    assertSchema('connector.schema.json', r.json)
    assert.equal(r.code, 0, JSON.stringify(r.json.notes))
    const {workers, together} = r.json.results
    assert.ok(workers.length >= 1)
    assert.deepEqual(together.gpus, workers.map((w) => w.device))
    for (const w of workers) {
      assert.equal(w.error, null)
      for (const name of ['SlowLookup', 'async']) {
        const d = w.results.designs.find((x) => x.name === name)
        assert.equal(d.verify.verified, true, `GPU ${w.device} ${name}`)
        assert.equal(d.outputs.correct, true, `GPU ${w.device} ${name}`)
        assert.equal(w.results.workload.device, w.device)
      }
    }
    const row = together.designs.find((d) => d.name === 'async')
    const sum = workers.reduce((a, w) => a + w.results.designs.find((x) => x.name === 'async').save.gbps, 0)
    assert.ok(Math.abs(row.gbps - sum) < 1e-6 * sum)
    assert.ok(row.pctOfCeiling > 50, `${row.pctOfCeiling}`)
    assert.ok(workers.some((w) => w.device === row.slowestGpu))
  })

  test('a stream leaked through a module-global accessor: wrong outputs, the stream named, exit 1', () => {
    const r = run(['save', '--connector', 'py:leaky:LeakyConnector', '--stream-accessor', 'leaky:current_stream', '--compare-with', 'none'])
    assert.equal(r.code, 1)
    const d = design(r, 'LeakyConnector')
    assert.equal(d.outputs.correct, false)
    assert.ok(d.outputs.nonFinite + d.outputs.wrong > 0)
    assert.ok(d.outputs.streams.some((s) => !s.compute))
    assert.ok(r.json.notes.some((n) => /verification FAILED: LeakyConnector: .*forward outputs wrong/.test(n)), JSON.stringify(r.json.notes))
    assert.equal(design(r, 'off-after').outputs.correct, true)
  })

  test('a connector that corrupts a load fails verification, exit 1', () => {
    const r = run(['load', '--connector', 'py:corrupt_load:CorruptOnLoad', '--compare-with', 'none'])
    assert.equal(r.code, 1)
    const d = design(r, 'CorruptOnLoad')
    assert.equal(d.verify.verified, false)
    assert.ok(d.verify.chunksBad > 0)
  })
})
