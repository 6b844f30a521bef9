// GPU suite for `kvbench mix`: saves and loads in the same steps move bit-exact data each way,
// the together row adds up its directions, a dropped wait fails the save side only.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {gpuGate, kvbenchJson} from '../helpers/cli.mjs'
import {assertSchema} from '../helpers/schema.mjs'

const SMALL = ['--profile', 'llama-3.2-1b', '--batch', '4', '--prompt-tokens', '1024', '--decode-steps', '12']

describe('mix on a GPU', gpuGate(), () => {
  test('every strategy and design: both directions bit-exact, the together row their sum, a reference each way', () => {
    const r = kvbenchJson(['mix', ...SMALL, '--strategy', 'all'])
    assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
    assertSchema('mix.schema.json', r.json)
    const res = r.json.results
    assert.equal(res.mode, 'mix')
    assert.ok(res.ceilings.bothGBps > Math.max(res.ceilings.h2dGBps, res.ceilings.d2hGBps), JSON.stringify(res.ceilings))
    // The connector-off row, then for each design and strategy its together, save and load rows.
    assert.equal(res.designs.length, 1 + 2 * 4 * 3)
    assert.equal(res.designs[0].design, 'off')
    for (let i = 1; i < res.designs.length; i += 3) {
      const [both, save, load] = res.designs.slice(i, i + 3)
      assert.deepEqual([both.direction, save.direction, load.direction], ['both', 'save', 'load'])
      const what = `${both.design}/${both.strategy}`
      for (const d of [save, load]) {
        assert.equal(d.verified, true, `${what} ${d.direction}`)
        assert.ok(d.chunksChecked > 0 && d.transfer.jobsDone > 0, `${what} ${d.direction} moved nothing`)
        assert.ok(d.transfer.pctOfCeiling > 0)
      }
      assert.equal(both.verified, true, what)
      assert.equal(both.nonFiniteOutputs, 0, `${what} NaN`)
      assert.ok(Math.abs(both.transfer.bytes - save.transfer.bytes - load.transfer.bytes) < 1, `${what}: together is the sum of its directions`)
      assert.deepEqual(save.stepsGpuMs, both.stepsGpuMs, 'the directions share the steps')
      assert.ok('save_layer' in save.hooks && 'start_load' in load.hooks, `${what} hooks ${Object.keys(save.hooks)} / ${Object.keys(load.hooks)}`)
      const blocked = both.blockedPerStepUs.p50
      assert.ok(blocked >= Math.max(save.blockedPerStepUs.p50, load.blockedPerStepUs.p50) - 1e-6, `${what}: a step blocks for both directions' hooks`)
    }
    const ref = res.reference
    assert.ok(ref && ref.directions, 'a link reference each way')
    assert.ok(ref.directions.save.gbps > 1 && ref.directions.load.gbps > 1, JSON.stringify(ref.directions))
    assert.ok(Math.abs(ref.gbps - ref.directions.save.gbps - ref.directions.load.gbps) < 0.01)
  })

  test('--strategy auto: each direction runs its own pick', () => {
    const r = kvbenchJson(['mix', ...SMALL, '--design', 'async'])
    assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
    const res = r.json.results
    const [, both, save, load] = res.designs
    assert.equal(save.strategy, res.best.save)
    assert.equal(load.strategy, res.best.load)
    assert.equal(both.strategy, res.best.save === res.best.load ? res.best.save : null)
    assert.ok(r.json.notes.some((n) => n.startsWith(`--strategy auto picked ${res.best.save} for the saves and ${res.best.load} for the loads`)), r.json.notes.join('\n'))
  })

  test('a dropped event wait fails the saves, not the loads beside them (exit 1)', () => {
    const r = kvbenchJson(['mix', ...SMALL, '--strategy', 'staged', '--design', 'async', '--inject', 'drop-event-wait', '--reference-steps', '0'])
    assert.equal(r.code, 1, r.stderr)
    const [, both, save, load] = r.json.results.designs
    assert.equal(save.verified, false)
    assert.ok(save.mismatches > 0)
    assert.equal(load.verified, true)
    assert.equal(both.verified, false)
    assert.ok(r.json.notes.some((n) => /verification FAILED: async\/staged save \(/.test(n)), r.json.notes.join('\n'))
  })
})
