// GPU suite for audit-streams: the fixtures in test/fixtures must give LEAK and PASS on a
// real GPU with torch; the native race canary must see its race; --reproduce nan must show NaN.
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {gpuGate, kvbenchJson, ROOT} from '../helpers/cli.mjs'
import {assertSchema} from '../helpers/schema.mjs'

const env = {PYTHONPATH: join(ROOT, 'test', 'fixtures')}
const audit = (args) => kvbenchJson(['audit-streams', '--trials', '5', ...args], {env})
const verdict = (r, probe, target) => r.json.results.probes.find((p) => p.probe === probe && (!target || p.target === target))?.verdict

describe('audit-streams on a GPU', gpuGate(), () => {
  test('native probes and torch itself', () => {
    const r = audit([])
    assertSchema('audit-streams.schema.json', r.json)
    assert.equal(r.code, 0, JSON.stringify(r.json.results.probes, null, 1))
    assert.equal(verdict(r, 'race-canary'), 'PASS')
    assert.equal(verdict(r, 'torch-baseline'), 'PASS')
    assert.equal(verdict(r, 'patch-detection'), 'PASS')
    assert.ok(['HAZARD', 'PASS'].includes(verdict(r, 'default-stream-mode')))
    assert.ok(['SKIP', 'HAZARD', 'PASS'].includes(verdict(r, 'fresh-thread-device')))
  })

  for (const mod of ['leak_global_patch', 'leak_lru_cache', 'leak_device_dict']) {
    test(`${mod} leaks`, () => {
      const target = `${mod}:current_stream`
      const r = audit(['--accessor', target])
      assert.equal(r.code, 1)
      assert.equal(verdict(r, 'accessor-isolation', target), 'LEAK', JSON.stringify(r.json.results.probes, null, 1))
      const leak = r.json.results.probes.find((p) => p.probe === 'accessor-isolation')
      assert.match(leak.evidence, /thread B saw thread A's stream 0x[0-9a-f]+@cuda:0 instead of its own/)
      assert.ok(leak.fix)
    })
  }

  test('the patched global also fails shared-stream re-entry and is named by patch detection', () => {
    const r = audit(['--accessor', 'leak_global_patch:current_stream'])
    assert.equal(verdict(r, 'shared-stream-reentry'), 'LEAK')
    assert.equal(verdict(r, 'patch-detection'), 'HAZARD')
    assert.match(r.json.results.probes.find((p) => p.probe === 'patch-detection').evidence, /replaced by leak_global_patch/)
  })

  for (const mod of ['ok_threadlocal_patch', 'ok_passthrough', 'ok_contextvar']) {
    test(`${mod} passes`, () => {
      const target = `${mod}:current_stream`
      const r = audit(['--accessor', target])
      assert.equal(r.code, 0, JSON.stringify(r.json.results.probes, null, 1))
      assert.equal(verdict(r, 'accessor-isolation', target), 'PASS')
      assert.equal(verdict(r, 'shared-stream-reentry', target), 'PASS')
      // the two patches cache what set_stream was given: torch's C-level setter goes around them
      assert.equal(verdict(r, 'bypass-desync', target), mod === 'ok_passthrough' ? 'PASS' : 'HAZARD')
    })
  }

  test('--reproduce nan shows NaN with the leak and none with the fix', () => {
    const r = audit(['--reproduce', 'nan'])
    const rep = r.json.results.probes.find((p) => p.probe === 'reproduce-nan')
    assert.equal(rep.verdict, 'PASS', rep.evidence)
    assert.match(rep.evidence, /NaN\) in [1-5]\/5 trials with a module-global stream, 0\/5 with threading.local\(\)/)
  })
})
