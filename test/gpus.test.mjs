// env --measure --gpus without a GPU: which GPUs a list names (refusals name the flag and the GPUs
// the host has), the together figures and their metrics and schema, and the CLI's refusals.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {parseGpuList} from '../dist/core/gpu-list.js'
import {summarizeTogether} from '../dist/core/ceilings.js'
import {envMetrics} from '../dist/core/metrics/env-metrics.js'
import {kvbench, kvbenchJson} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

test('--gpus: all, a list in its order; bad lists refused naming the GPUs the host has', () => {
  assert.deepEqual(parseGpuList('all', [0, 1, 2, 3]), [0, 1, 2, 3])
  assert.deepEqual(parseGpuList('3, 1', [0, 1, 2, 3]), [3, 1])
  assert.throws(() => parseGpuList('0,7', [0, 1]), /^KvError: --gpus 0,7: no GPU 7: this host has GPUs 0, 1$/)
  assert.throws(() => parseGpuList('1', [0]), /--gpus 1: no GPU 1: this host has GPU 0$/)
  assert.throws(() => parseGpuList('0,0', [0, 1]), /--gpus 0,0: GPU 0 is named twice/)
  assert.throws(() => parseGpuList('', [0, 1]), /--gpus: an empty list; name GPUs \(--gpus 0,1\) or --gpus all/)
  assert.throws(() => parseGpuList(' , ', [0, 1]), /an empty list/)
  assert.throws(() => parseGpuList('0,x', [0, 1]), /--gpus 0,x: "x" is not a GPU index/)
  assert.throws(() => parseGpuList('-1', [0, 1]), /"-1" is not a GPU index/)
  assert.throws(() => parseGpuList('all', []), /--gpus all: this host has no GPU/)
  for (const bad of ['0,7', '0,0', '']) assert.throws(() => parseGpuList(bad, [0, 1]), (e) => e.code === 'BAD_INPUT' && e.exit === 2, `${bad}: bad input, exit 2`)
})

const copy = (id, gbps, verified = true) => ({id, label: id, bytesPerSample: 1e9, timer: 'cuda-events', samplesMs: [1000 / gbps, 1000 / gbps, 1000 / gbps], verified, mismatches: verified ? 0 : 3})

test('together: each GPU its copies, the totals its medians added; metrics for both', () => {
  const t = summarizeTogether([
    {device: 0, copies: [copy('h2d_pinned', 50), copy('d2h_pinned', 51), copy('bidir_pinned', 90)]},
    {device: 1, copies: [copy('h2d_pinned', 40), copy('d2h_pinned', 41), copy('bidir_pinned', 70)]},
  ])
  assert.deepEqual(t.devices, [0, 1])
  assert.equal(t.perGpu[1].ceilings[0].gbps.p50, 40)
  for (const [id, v] of Object.entries({h2d_pinned: 90, d2h_pinned: 92, bidir_pinned: 160})) assert.ok(Math.abs(t.totalGBps[id] - v) < 1e-9, id)
  const m = envMetrics({measured: true, reason: null, device: 0, verify: true, ceilings: [], together: t})
  const byName = Object.fromEntries(m.map((x) => [x.name, x]))
  assert.equal(byName['env/together/gpu1/h2d_pinned/gbps'].value, 40)
  assert.equal(byName['env/together/total/bidir_pinned/gbps'].value, 160)
  assert.ok('env/together/gpu0/d2h_pinned/verified' in byName)
})

test('env --gpus refusals: without --measure, with --device (one line, exit 2); the schema holds together', () => {
  const noMeasure = kvbench(['env', '--gpus', '0'])
  assert.equal(noMeasure.code, 2, noMeasure.stderr)
  assert.match(noMeasure.stderr, /--gpus names the GPUs --measure copies with at once: add --measure/)
  const both = kvbench(['env', '--measure', '--gpus', '0', '--device', '0'])
  assert.equal(both.code, 2, both.stderr)
  assert.match(both.stderr, /--gpus and --device: name every GPU to measure in --gpus/)
  const env = kvbenchJson(['env'])
  const t = summarizeTogether([{device: 0, copies: [copy('h2d_pinned', 50), copy('d2h_pinned', 51), copy('bidir_pinned', 90)]}])
  const ceiling = {id: 'h2d_pinned', label: 'H2D pinned', bytesPerSample: 1, timer: 'cuda-events', samples: 3, gbps: t.perGpu[0].ceilings[0].gbps, latencyUs: t.perGpu[0].ceilings[0].latencyUs, verified: true, mismatches: 0}
  const doc = {...env.json, results: {measured: true, reason: null, device: 0, verify: true, ceilings: [ceiling], together: JSON.parse(JSON.stringify(t))}}
  assertSchema('env.schema.json', doc)
  assert.throws(() => assertSchema('env.schema.json', {...doc, results: {...doc.results, together: {...doc.results.together, totalGBps: {d2d: 1}}}}), /additional|must NOT/)
})
