import assert from 'node:assert/strict'
import {test} from 'node:test'

import {checkLockedMemory, pinnedBytesNeeded, planCeilings, summarizeCeiling} from '../dist/core/ceilings.js'

const MiB = 2 ** 20

test('the plan derives every size from --size and --iterations', () => {
  const p = planCeilings({device: 1, sizeMiB: 256, iterations: 20, verify: true})
  assert.equal(p.bytes, 256 * MiB)
  assert.equal(p.pageableBytes, 64 * MiB)
  assert.equal(p.pageableIterations, 10)
  assert.equal(p.device, 1)
  assert.equal(pinnedBytesNeeded(p), 512 * MiB)
  assert.equal(planCeilings({device: 0, sizeMiB: 8, iterations: 1, verify: false}).pageableBytes, 8 * MiB)
})

test('locked memory: unlimited passes, too little is refused with both numbers', () => {
  const p = planCeilings({device: 0, sizeMiB: 256, iterations: 20, verify: true})
  assert.doesNotThrow(() => checkLockedMemory(p, null))
  assert.doesNotThrow(() => checkLockedMemory(p, 512 * MiB))
  assert.throws(() => checkLockedMemory(p, 64 * 1024), (e) => e.exit === 2 && /is 64 KiB but --measure pins 512 MiB/.test(e.message))
})

test('a native measurement becomes GB/s and µs summaries', () => {
  const c = summarizeCeiling({id: 'h2d_pinned', label: 'H2D pinned', bytesPerSample: 1e9, timer: 'cuda-events', samplesMs: [20, 18, 22], verified: true, mismatches: 0})
  assert.equal(c.samples, 3)
  assert.equal(c.gbps.p50, 50)
  assert.equal(c.latencyUs.p50, 20000)
  assert.ok(c.gbps.max > c.gbps.min)
})
