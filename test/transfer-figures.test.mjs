// The transfer phase's figures: the whole pass and the median of its timed groups, both
// against the same run's ceiling, and how the table shows them (no GPU needed).
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {transferFlags, transferRequest} from '../dist/cli/transfer-flags.js'
import {planWorkload} from '../dist/core/plan.js'
import {loadProfile} from '../dist/core/profile.js'
import {renderTransfer} from '../dist/cli/render/transfer.js'
import {summarizeRun} from '../dist/core/saveload/figures.js'
import {underOffered} from '../dist/core/saveload/verdicts.js'
import {nativePhase} from './helpers/native-phase.mjs'

const GiB = 2 ** 30
const runOpts = {mode: 'save', device: 0, strategy: 'staged', design: 'async', connector: true, verify: true, warmupSteps: 3, stagingMiB: 64, copyCtas: 0, mappedCtas: 264, streamingCopies: false, stagingL2: 'normal', batchSharePct: 0, fault: 'none', backend: 'host', ioThreads: 4, storeQueue: 32, pipeline: 4, fsync: 'never', direct: true}

function nativeResult(saveSampleMs, loadSampleMs) {
  const sum = (v) => v.reduce((a, b) => a + b, 0)
  return {
    ceilingH2dGBps: 55, ceilingD2hGBps: 55, gemmEngine: 'kernel', flopsPerStep: 0, hbmBytesPerStep: 0, cancelled: false, best: {save: 'staged', load: 'staged'}, notes: [],
    strategies: [{
      strategy: 'staged', bytes: 8 * GiB, saveMs: sum(saveSampleMs), loadMs: sum(loadSampleMs), saveEnqueueMs: 40, loadEnqueueMs: 41,
      saveSampleMs, loadSampleMs, sampleBytes: Array(8).fill(GiB), saveMismatches: 0, loadMismatches: 0, chunksChecked: 10,
    }],
    designs: [], store: null, storeNote: null, storeDirect: false, stagingInL2: true, storeAlone: null,
  }
}

test('one slow group lowers the pass figure, not the median', () => {
  const profile = loadProfile('llama-3.1-8b')
  const wp = planWorkload(profile, runOpts)
  const ms = GiB / (53.9e9) * 1000  // one GiB at 53.9 GB/s (98% of 55)
  const r = summarizeRun(nativeResult([...Array(7).fill(ms), 2 * ms], Array(8).fill(ms)), wp, profile, 'save')
  const save = r.strategies[0].save
  assert.ok(Math.abs(save.samplesGBps.p50 - 53.9) < 0.01, `median ${save.samplesGBps.p50}`)
  assert.ok(Math.abs(save.medianPctOfCeiling - 98) < 0.01)
  assert.ok(Math.abs(save.gbps - (8 * GiB) / (9 * ms * 1e6)) < 0.01)
  assert.ok(save.pctOfCeiling < 88 && save.pctOfCeiling > 87, `pass ${save.pctOfCeiling}`)
  assert.equal(r.strategies[0].load.samplesGBps.p10, r.strategies[0].load.samplesGBps.p90)
  const text = renderTransfer(r)
  assert.match(text, /staged +│ 47\.9 \(\d+\.\d-\d+\.\d\) \* +│ 87\.1 \/ 98\.0% +│ 53\.9 \(53\.9-53\.9\) \* +│ 98\.0 \/ 98\.0%/)
})

test('the marked strategy is the native pick (auto decided once: native/test/pick_test.cc), not re-picked here', () => {
  const profile = loadProfile('llama-3.1-8b')
  const ms = GiB / 53.9e9 * 1000
  const native = nativeResult(Array(8).fill(ms), Array(8).fill(ms))
  const faster = GiB / 55e9 * 1000  // batch is faster both ways, but the native rule chose staged (its enqueue cost)
  native.strategies.push({...native.strategies[0], strategy: 'batch', saveSampleMs: Array(8).fill(faster), loadSampleMs: Array(8).fill(faster), saveMs: 8 * faster})
  const r = summarizeRun(native, planWorkload(profile, runOpts), profile, 'save')
  assert.deepEqual(r.best, {save: 'staged', load: 'staged'})
  assert.match(renderTransfer(r), /staged +│ [\d.]+ \([\d.-]+\) \* /)
})

test('results from before the groups (schema 1.1.0) still render', () => {
  const profile = loadProfile('llama-3.1-8b')
  const r = summarizeRun(nativeResult([100], [100]), planWorkload(profile, runOpts), profile, 'save')
  delete r.strategies[0].save.samplesGBps
  delete r.strategies[0].save.medianPctOfCeiling
  assert.match(renderTransfer(r), /staged +│ 85\.9 \* +│ 156\.2% +│/)
})

test('host noise: stalls per second of the probe, shown under the tables and valid in the schema', async () => {
  const {hostNoiseFigures} = await import('../dist/core/saveload/figures.js')
  const {assertSchema} = await import('./helpers/schema.mjs')
  const {readFileSync} = await import('node:fs')
  assert.equal(hostNoiseFigures(null), null)
  assert.equal(hostNoiseFigures(undefined), null)  // an addon result without a baseline phase
  assert.equal(hostNoiseFigures({seconds: 0, reps: 0, repUs: 0, over10us: 0, over20us: 0, over50us: 0, maxUs: 0}), null)
  const profile = loadProfile('llama-3.1-8b')
  const native = {...nativeResult([100], [100]), hostNoise: {seconds: 5, reps: 4.9e6, repUs: 1.02, over10us: 2000, over20us: 300, over50us: 20, slowReps: 49000, maxUs: 412.5}}
  const r = summarizeRun(native, planWorkload(profile, runOpts), profile, 'save')
  assert.deepEqual(r.hostNoise, {probeSeconds: 5, repUs: 1.02, stallsPerSecond: {over10us: 400, over20us: 60, over50us: 4}, slowRepsPct: 1, longestUs: 412.5})
  assert.match(renderTransfer(r), /Host noise \(a probe thread of its own, 5\.0 s while the forward ran alone\): it lost the CPU for >10 µs 400\/s, >20 µs 60\.0\/s, >50 µs 4\.0\/s; longest 412\.5 µs; 1\.00% of its 1\.02 µs repetitions ran at under half speed/)
  const j = JSON.parse(readFileSync(new URL('./fixtures/results/save-file-h100.json', import.meta.url), 'utf8'))
  assertSchema('save.schema.json', j)  // results from before 1.3.0 have no hostNoise
  assertSchema('save.schema.json', {...j, results: {...j.results, hostNoise: r.hostNoise}})
  assertSchema('save.schema.json', {...j, results: {...j.results, hostNoise: null}})
  assert.throws(() => assertSchema('save.schema.json', {...j, results: {...j.results, hostNoise: {...r.hostNoise, stallsPerSecond: {over10us: 1}}}}), /over20us|required/)
  assert.doesNotMatch(renderTransfer({...r, hostNoise: null}), /Host noise/)
})

test('link reference: its rate and slowdown against the same ceiling and baseline, shown under the tables and valid in the schema', async () => {
  const {referenceFigures} = await import('../dist/core/saveload/figures.js')
  const {assertSchema} = await import('./helpers/schema.mjs')
  const {readFileSync} = await import('node:fs')
  assert.equal(referenceFigures(null, 55, null), null)
  assert.equal(referenceFigures(undefined, 55, null), null)  // an addon result from before the reference
  const profile = loadProfile('llama-3.1-8b')
  const phase = (design, stepMs, n) => ({
    design, strategy: '-', stepGpuMs: Array(n).fill(stepMs), stepWallMs: Array(n).fill(stepMs + 0.1), hookUs: {}, transferLatencyMs: [],
    bytesMoved: 0, windowMs: 0, jobsOffered: 0, jobsDone: 0, jobsSkipped: 0, mismatches: 0, chunksChecked: 0, nonFinite: 0,
    requestsScheduled: 0, requestsNotReadySteps: 0, offeredBytesPerStep: 0, stepsRun: n, store: null,
  })
  // 64 steps of 10.2 ms against a 10 ms baseline; 27.5 GB copied in 500 ms: 55 GB/s, the whole ceiling.
  const reference = {steps: {...phase('reference', 10.2, 64), windowMs: 500}, bytes: 27.5e9, chunkBytes: 8 << 20}
  const native = {...nativeResult([100], [100]), designs: [phase('off', 10, 100)], reference}
  const r = summarizeRun(native, planWorkload(profile, runOpts), profile, 'save')
  assert.equal(r.designs.length, 1)  // the reference is not a design row
  assert.equal(r.reference.steps, 64)
  assert.ok(Math.abs(r.reference.gbps - 55) < 1e-9)
  assert.ok(Math.abs(r.reference.pctOfCeiling - 100) < 1e-9)
  assert.ok(Math.abs(r.reference.slowdownPct - 2) < 1e-9)
  assert.match(renderTransfer(r), /Link reference \(64 steps\): contiguous 8(\.0)? MiB copies on a stream of their own beside the forward moved 55\.0 GB\/s \(100\.0% of the ceiling\) at 2\.0% slowdown \(GPU step\)/)
  assert.doesNotMatch(renderTransfer({...r, reference: null}), /Link reference/)
  assert.doesNotMatch(renderTransfer(r), /Against it/)  // no connector row
  // A connector row: 53.9 GB/s at 5% slowdown against the reference's 55 GB/s at 2%.
  const conn = {...phase('async', 10.5, 100), strategy: 'staged', bytesMoved: 53.9e9, windowMs: 1000}
  const withConn = summarizeRun({...native, designs: [phase('off', 10, 100), conn]}, planWorkload(profile, runOpts), profile, 'save')
  assert.match(renderTransfer(withConn), /Against it: async\/staged 98\.0% of its rate, \+3\.0 points of slowdown/)
  const j = JSON.parse(readFileSync(new URL('./fixtures/results/save-file-h100.json', import.meta.url), 'utf8'))
  assertSchema('save.schema.json', j)  // results from before 1.4.0 have no reference
  assertSchema('save.schema.json', {...j, results: {...j.results, reference: r.reference}})
  assertSchema('save.schema.json', {...j, results: {...j.results, reference: null}})
  assert.throws(() => assertSchema('save.schema.json', {...j, results: {...j.results, reference: {...r.reference, steps: 0}}}), /steps|minimum/)
})

test('link reference steps: the decode steps up to 64 by default, none with the connector off, whole numbers only', () => {
  const profile = loadProfile('llama-3.1-8b')
  assert.equal(planWorkload(profile, runOpts).plan.referenceSteps, Math.min(64, profile.workload.decodeSteps))
  assert.equal(planWorkload({...profile, workload: {...profile.workload, decodeSteps: 20}}, runOpts).plan.referenceSteps, 20)
  assert.equal(planWorkload(profile, {...runOpts, connector: false}).plan.referenceSteps, 0)
  assert.equal(planWorkload(profile, {...runOpts, referenceSteps: 0}).plan.referenceSteps, 0)
  assert.equal(planWorkload(profile, {...runOpts, referenceSteps: 300}).plan.referenceSteps, 300)
  for (const bad of [-1, 1.5]) assert.throws(() => planWorkload(profile, {...runOpts, referenceSteps: bad}), /--reference-steps must be a whole number/)
})

test('the staged defaults are the measured best: a 16 MiB ring, in L2 where the GPU allows it (unless the profile chose its own), one CTA per chunk, evict-first', () => {
  const defaults = Object.fromEntries(Object.entries(transferFlags).map(([k, f]) => [k, f.default]))
  const req = transferRequest('save', defaults)
  assert.equal(req.stagingMiB, undefined, 'no flag default: the profile may choose')
  assert.equal(req.stagingL2, undefined)
  assert.equal(req.copyCtas, 0)
  assert.equal(req.streamingCopies, true)
  const wp = planWorkload(loadProfile('llama-3.1-8b'), req)
  assert.equal(wp.plan.stagingL2, 'auto')
  assert.equal(wp.plan.stagingBytes, 16 * 2 ** 20)
  // Where the ring ran comes back from the addon, with the CTAs, in the workload.
  const r = summarizeRun(nativeResult(Array(8).fill(10), Array(8).fill(10)), wp, loadProfile('llama-3.1-8b'), 'save')
  assert.equal(r.workload.stagingInL2, true)
  assert.equal(r.workload.copyCtas, 0)
})

test('copy CTAs: 0 (one per chunk, the flag default) reaches the addon; out of range names the flag', () => {
  const profile = loadProfile('llama-3.1-8b')
  assert.equal(planWorkload(profile, {...runOpts, copyCtas: 0}).plan.copyCtas, 0)
  assert.equal(planWorkload(profile, {...runOpts, copyCtas: 4}).plan.copyCtas, 4)
  for (const bad of [-1, 65536, 2.5]) assert.throws(() => planWorkload(profile, {...runOpts, copyCtas: bad}), /--copy-ctas must be between 0 \(one per chunk\) and 65535/)
})

test('designs whose workload offered less than the ceiling per wall second of the connector-off step say so; enough says nothing', () => {
  const profile = loadProfile('llama-3.1-70b')
  const wp = planWorkload(profile, runOpts)
  // The 70B shard before its KV writes were uploaded up front (H200, 2026-12-03): 1.59 GB a step, sized
  // on the 25.69 ms GPU step of the connector off, whose wall step was 31.63 ms: 50.4 GB/s, 92% of 55 GB/s.
  const off = nativePhase('off', {stepGpuMs: Array(20).fill(25.69), stepWallMs: Array(20).fill(31.63)})
  const async = nativePhase('async', {strategy: 'staged', stepGpuMs: Array(20).fill(26.26), stepWallMs: Array(20).fill(32.75), offeredBytesPerStep: 1.594e9, bytesMoved: 48e9, windowMs: 1000})
  const line = (d) => `${d}/staged: the workload offered 92% of the ceiling per wall second (1.59 GB a step, sized on the 25.69 ms GPU step of the connector off, whose wall step is 31.63 ms): its rate measures the workload as much as the connector`
  const r = summarizeRun({...nativeResult([100], [100]), designs: [off, async, {...async, design: 'blocking'}]}, wp, profile, 'save')
  assert.deepEqual(underOffered(r), [line('async'), line('blocking')])
  // Uploaded up front: the wall step is the GPU step, and a blocking design's own long wall steps are its cost, not the workload's.
  const upFront = nativePhase('off', {stepGpuMs: Array(20).fill(25.72), stepWallMs: Array(20).fill(25.74)})
  const blocking = nativePhase('blocking', {strategy: 'staged', stepGpuMs: Array(20).fill(27), stepWallMs: Array(20).fill(40), offeredBytesPerStep: 1.594e9, bytesMoved: 40e9, windowMs: 1000})
  assert.deepEqual(underOffered(summarizeRun({...nativeResult([100], [100]), designs: [upFront, async, blocking]}, wp, profile, 'save')), [])
})
