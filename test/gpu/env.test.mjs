// GPU suite for `kvbench env`: runs where a GPU is (npm run test:gpu, or the
// bundle's bin/kvbench-test-gpu); on CI every test skips with the reason.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {gpuGate, kvbench, kvbenchJson} from '../helpers/cli.mjs'
import {assertSchema} from '../helpers/schema.mjs'

describe('env on a GPU', gpuGate(), () => {
  test('describes every GPU', () => {
    const r = kvbenchJson(['env'])
    assert.equal(r.code, 0, r.stderr)
    assertSchema('env.schema.json', r.json)
    const {cuda, gpus} = r.json.environment
    assert.ok(gpus.length >= 1)
    assert.match(cuda.driverVersion, /^\d+\.\d+$/)
    for (const g of gpus) {
      assert.ok(g.smCount > 0 && g.memoryBytes > 1e9 && g.l2Bytes > 0 && g.copyEngines >= 1, JSON.stringify(g))
      assert.match(g.uuid, /^GPU-/)
    }
  })

  test('--device past the last GPU names the ones there are', () => {
    const n = kvbenchJson(['env']).json.environment.gpus.length
    const r = kvbench(['env', '--device', String(n)])
    assert.equal(r.code, 2)
    const list = Array.from({length: n}, (_, i) => i).join(', ')
    assert.equal(r.stderr, `Error: no GPU ${n}: this host has ${n} ${n === 1 ? 'GPU' : 'GPUs'} (${list})\n`)
  })

  test('--measure --gpus all: every GPU copying at once, each verified, the totals their medians added', () => {
    const n = kvbenchJson(['env']).json.environment.gpus.length
    const r = kvbenchJson(['env', '--measure', '--gpus', 'all', '--iterations', '6', '--size', '128'])
    assert.equal(r.code, 0, r.stderr)
    assertSchema('env.schema.json', r.json)
    const t = r.json.results.together
    assert.deepEqual(t.devices, Array.from({length: n}, (_, i) => i))
    assert.equal(r.json.results.device, 0, 'the first GPU named is measured alone too')
    for (const id of ['h2d_pinned', 'd2h_pinned', 'bidir_pinned']) {
      let sum = 0
      for (const g of t.perGpu) {
        const c = g.ceilings.find((x) => x.id === id)
        assert.ok(c && c.verified && c.gbps.p50 > 1, `GPU ${g.device} ${id}: ${JSON.stringify(c?.gbps)}`)
        sum += c.gbps.p50
      }
      assert.ok(Math.abs(t.totalGBps[id] - sum) < 1e-6, id)
    }
    const bad = kvbench(['env', '--measure', '--gpus', `0,${n + 6}`])
    assert.equal(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, new RegExp(`--gpus 0,${n + 6}: no GPU ${n + 6}: this host has GPUs? 0`))
  })

  test('--measure: sane ceilings, every copy verified', () => {
    const r = kvbenchJson(['env', '--measure', '--device', '0'])
    assert.equal(r.code, 0, r.stderr)
    assertSchema('env.schema.json', r.json)
    const res = r.json.results
    assert.equal(res.measured, true)
    const by = Object.fromEntries(res.ceilings.map((c) => [c.id, c]))
    for (const c of res.ceilings) assert.ok(c.verified && c.mismatches === 0, `${c.id} not verified`)
    for (const id of ['h2d_pinned', 'd2h_pinned']) {
      const g = by[id].gbps.p50
      assert.ok(g > 5 && g < 80, `${id} ${g} GB/s outside 5..80`)
    }
    assert.ok(by.bidir_pinned.gbps.p50 > Math.max(by.h2d_pinned.gbps.p50, by.d2h_pinned.gbps.p50), 'both directions at once should beat one')
    assert.ok(by.d2d.gbps.p50 > 100, `D2D ${by.d2d.gbps.p50} GB/s`)
    assert.ok(by.h2d_pageable.gbps.p50 < by.h2d_pinned.gbps.p50, 'pageable should be slower than pinned')
    assert.ok(by.h2d_small_latency.latencyUs.p50 > 0 && by.h2d_small_latency.latencyUs.p50 < 1000)
    assert.equal(by.h2d_pinned.samples, 20)
  })

  test('--no-verify says so', () => {
    const r = kvbenchJson(['env', '--measure', '--no-verify', '--size', '64', '--iterations', '3'])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(r.json.results.ceilings.every((c) => c.verified === false))
    assert.ok(r.json.notes.some((n) => /verification skipped/.test(n)))
  })

  test('the human table shows the ceilings', () => {
    const r = kvbench(['env', '--measure', '--size', '64', '--iterations', '3'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Copy ceilings, GPU 0/)
    assert.match(r.stdout, /H2D pinned/)
  })
})
