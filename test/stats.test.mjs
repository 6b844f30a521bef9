import assert from 'node:assert/strict'
import {test} from 'node:test'

import {gbPerSecond, logHistogram, percentile, summarize} from '../dist/core/stats.js'

test('percentiles interpolate between ranks', () => {
  const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
  assert.equal(percentile(s, 0), 1)
  assert.equal(percentile(s, 100), 10)
  assert.equal(percentile(s, 50), 5.5)
  assert.ok(Math.abs(percentile(s, 90) - 9.1) < 1e-12)
  assert.throws(() => percentile([], 50), RangeError)
  assert.throws(() => percentile(s, 101), RangeError)
})

test('summary does not depend on sample order', () => {
  const a = summarize([5, 1, 4, 2, 3])
  assert.deepEqual(a, summarize([1, 2, 3, 4, 5]))
  assert.equal(a.p50, 3)
  assert.equal(a.mean, 3)
  assert.equal(a.n, 5)
  assert.throws(() => summarize([]), RangeError)
})

test('log histogram puts every sample in one bin', () => {
  const samples = [1, 2, 3, 10, 20, 100, 1000]
  const h = logHistogram(samples, 6)
  assert.equal(h.length, 6)
  assert.equal(h.reduce((a, b) => a + b.count, 0), samples.length)
  assert.equal(h[0].from, 1)
  assert.equal(h.at(-1).to, 1000)
  assert.equal(h.at(-1).count, 1)
  assert.deepEqual(logHistogram([7, 7]), [{from: 7, to: 7, count: 2}])
})

test('GB/s is decimal bytes per second', () => {
  assert.equal(gbPerSecond(1e9, 1000), 1)
  assert.equal(gbPerSecond(256 * 2 ** 20, 5), (256 * 2 ** 20) / 5e6)
})
