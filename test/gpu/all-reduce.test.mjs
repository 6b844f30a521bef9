// GPU suite for the forward's tensor-parallel all-reduce (--all-reduce nccl, a world of one):
// every probe sum right on the compute stream in every phase, an all-reduce on a stream that does
// not wait for the compute stream caught (exit 1), a missing NCCL refused in one line.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {gpuGate, kvbench, kvbenchJson} from '../helpers/cli.mjs'
import {assertSchema} from '../helpers/schema.mjs'

const SMALL = ['--profile', 'llama-3.2-1b', '--batch', '4', '--prompt-tokens', '1024', '--decode-steps', '12', '--strategy', 'staged']
const LAYERS = 16
const STEPS = 12 + 3  // measured and warm-up: every step's calls are checked

describe('the forward all-reduce on a GPU', gpuGate(), () => {
  for (const mode of ['save', 'load', 'mix']) {
    test(`${mode}: two all-reduces a layer in every phase, every probe sum right`, () => {
      const r = kvbenchJson([mode, ...SMALL, '--design', 'async', '--all-reduce', 'nccl'])
      assert.equal(r.code, 0, r.stderr + r.json.notes?.join('\n'))
      assertSchema(`${mode}.schema.json`, r.json)
      const res = r.json.results
      assert.match(res.forward.allReduce.library, /nccl/)
      assert.equal(res.forward.allReduce.world, 1)
      const phases = [...res.designs.filter((d) => d.direction !== 'save' && d.direction !== 'load'), res.reference]
      for (const d of phases) {
        const what = d.design ?? 'reference'
        assert.ok(d.allReduce, `${what} has no all-reduce figures`)
        assert.equal(d.allReduce.mismatches, 0, what)
        assert.ok(d.allReduce.calls >= 2 * LAYERS * STEPS, `${what}: ${d.allReduce.calls} calls`)
        assert.ok(d.allReduce.stepMs.p50 > 0, what)
      }
      for (const d of res.designs.filter((x) => x.design !== 'off')) assert.equal(d.verified, true, `${d.design} ${d.direction ?? ''}`)
    })
  }

  test('an all-reduce on a stream that does not wait for the compute stream reads stale sums: exit 1', () => {
    const r = kvbenchJson(['save', ...SMALL, '--design', 'async', '--all-reduce', 'nccl', '--inject', 'allreduce-unordered', '--reference-steps', '0'])
    assert.equal(r.code, 1, r.stderr)
    const wrong = r.json.results.designs.reduce((a, d) => a + (d.allReduce?.mismatches ?? 0), 0)
    assert.ok(wrong > 0, JSON.stringify(r.json.results.designs.map((d) => d.allReduce)))
    assert.match(r.json.notes.join('\n'), /all-reduce probe sums wrong \(an all-reduce that did not wait for the compute stream's writes\)/)
  })

  test('NCCL that cannot be loaded: one line naming it, exit 2', () => {
    const r = kvbench(['save', ...SMALL, '--all-reduce', 'nccl'], {env: {KVBENCH_NCCL_LIBRARY: '/nonexistent/libnccl.so.2'}})
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /--all-reduce nccl: KVBENCH_NCCL_LIBRARY=\/nonexistent\/libnccl\.so\.2 could not be loaded/)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })
})
