// save/load/mix --gpus without a GPU: the refusals that name their flag, and a run of several
// GPUs' figures (each GPU's, their sum, the slowest GPU), metrics, gates, verdict, table and schema
// from native worker results.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'

import {planWorkload} from '../dist/core/plan.js'
import {loadProfile} from '../dist/core/profile.js'
import {gpuRunResults} from '../dist/core/saveload/run.js'
import {cpuRanges, hostPlacements, parseCpuList} from '../dist/core/host-placement.js'
import {transferExitCode} from '../dist/core/saveload/verdicts.js'
import {evaluateGates, transferGateSpecs} from '../dist/core/gates.js'
import {transferMetrics} from '../dist/core/metrics/transfer-metrics.js'
import {renderTransfer} from '../dist/cli/render/transfer.js'
import {kvbench} from './helpers/cli.mjs'
import {nativePhase} from './helpers/native-phase.mjs'
import {assertSchema} from './helpers/schema.mjs'

test('refused in one line, exit 2: with --device, --trace, a launcher rank; the worker fault needs --gpus', () => {
  const cases = [
    [['save', '--gpus', '0,1', '--device', '1'], {}, /--gpus and --device: name every GPU to run on in --gpus/],
    [['load', '--gpus', 'all', '--trace', '/tmp/kvbench-t.json'], {}, /--trace times one GPU's steps: run it without --gpus/],
    [['save', '--gpus', 'all'], {WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '1'}, /--gpus: this is rank 1 of 2 of a torchrun run/],
    [['mix', '--inject', 'gpu-worker-fails'], {}, /--inject gpu-worker-fails fails one GPU's worker of several: add --gpus/],
  ]
  for (const [args, env, message] of cases) {
    const r = kvbench(args, {env})
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
})

const runOpts = {mode: 'save', device: 0, strategy: 'staged', design: 'async', connector: true, verify: true, warmupSteps: 3, stagingMiB: 16, copyCtas: 0, mappedCtas: 264, streamingCopies: true, stagingL2: 'auto', batchSharePct: 0, fault: 'none', allReduce: 'nccl', backend: 'host', ioThreads: 4, storeQueue: 32, pipeline: 4, fsync: 'never', direct: true}

const phase = (design, over = {}) => nativePhase(design, {stepGpuMs: Array(20).fill(10), stepWallMs: Array(20).fill(10.1), allReduceMs: Array(20).fill(0.5), ...over})

// One GPU's native result: its D2H ceiling, what its async design moved in 1 s, its step beside the connector.
function gpu({d2h, moved, stepMs, mismatches = 0, note = null}) {
  return {
    ceilingH2dGBps: 55, ceilingD2hGBps: d2h, ceilingBothGBps: 100, gemmEngine: 'cublas', allReduceLibrary: 'libnccl.so.2 2.28.3', flopsPerStep: 0, hbmBytesPerStep: 0, cancelled: false,
    best: {save: 'staged', load: 'staged'}, notes: ['shared note', ...(note ? [note] : [])], strategies: [],
    designs: [
      phase('off'),
      phase('async', {strategy: 'staged', bytesMoved: moved * 1e9, windowMs: 1000, jobsDone: 100, jobsOffered: 100, jobsSkipped: 2, chunksChecked: 10, mismatches,
        stepGpuMs: Array(20).fill(stepMs), hookUs: {save_layer: [1, 2], blocked_per_step: [5, 6]}, allReduceMs: Array(20).fill(0.6)}),
      phase('off'),
    ],
    store: null, storeNote: null, storeDirect: false, stagingInL2: true, storeAlone: null, hostNoise: null,
    reference: {steps: phase('reference', {stepGpuMs: Array(20).fill(10.1), windowMs: 1000}), bytes: 54e9, saveBytes: 54e9, loadBytes: 0, chunkBytes: 8 << 20},
  }
}

const worker = (device, result, error = null) => ({device, result, code: error ? 'CUDA_ERROR' : null, error, stuck: false, placement: null})

test('several GPUs: each GPU\'s figures, their sum against the ceilings added, the slowest GPU', () => {
  const profile = loadProfile('llama-3.1-8b')
  const wp = planWorkload(profile, runOpts)
  const notes = []
  const {results: r} = gpuRunResults([worker(0, gpu({d2h: 55, moved: 53, stepMs: 10.2})), worker(3, gpu({d2h: 50, moved: 45, stepMs: 10.5, note: 'only GPU 3'}))], wp, profile, 'save', 'host', notes)
  assert.deepEqual(notes, ['shared note', 'GPU 3: only GPU 3'])
  assert.equal(r.workload.device, 0, 'the top-level figures are the first GPU\'s')
  assert.deepEqual(r.workers.map((w) => [w.device, w.results.forward.allReduce.rank, w.results.forward.allReduce.world]), [[0, 0, 2], [3, 1, 2]])
  const t = r.together
  assert.deepEqual(t.gpus, [0, 3])
  assert.equal(t.ceilings.d2hGBps, 105)
  const async = t.designs.find((d) => d.design === 'async')
  assert.ok(Math.abs(async.gbps - 98) < 1e-9, `${async.gbps}`)
  assert.ok(Math.abs(async.pctOfCeiling - (100 * 98) / 105) < 1e-9)
  assert.equal(async.slowestGpu, 3)
  assert.ok(Math.abs(async.slowestSlowdownPct - 5) < 1e-9)
  assert.deepEqual(async.allReduceP50Ms, [0.6, 0.6])
  assert.equal(async.jobsSkipped, 4)
  assert.equal(async.verified, true)
  assert.ok(Math.abs(t.reference.gbps - 108) < 1e-9)
  assert.equal(transferExitCode(r, null, []), 0)

  const metrics = transferMetrics(r)
  const names = metrics.map((m) => m.name)
  for (const n of ['save/llama-3.1-8b/gpu0/async/staged/moved_gbps', 'save/llama-3.1-8b/gpu3/async/staged/slowdown_pct', 'save/llama-3.1-8b/together/async/staged/moved_gbps', 'save/llama-3.1-8b/together/async/staged/slowest_slowdown_pct', 'save/llama-3.1-8b/together/ceilings/d2h_gbps', 'save/llama-3.1-8b/together/async/staged/all_reduce_p50_ms_max']) {
    assert.ok(names.includes(n), `${n} in ${names.join(' ')}`)
  }
  assert.ok(!names.includes('save/llama-3.1-8b/async/staged/moved_gbps'), 'no figure is named twice')
  // A gate checks every GPU: GPU 3's slowdown fails it, GPU 0's passes.
  const gates = evaluateGates(metrics, transferGateSpecs('save', {maxSlowdown: 3}))
  assert.deepEqual(gates.map((g) => [g.metric, g.passed]), [['save/llama-3.1-8b/gpu0/async/staged/slowdown_pct', true], ['save/llama-3.1-8b/gpu3/async/staged/slowdown_pct', false]])

  const table = renderTransfer(r)
  assert.match(table, /GPUs 0, 3 at once .* D2H 105\.0 /)
  assert.match(table, /async +│ staged +│ together +│ 98\.0 +│ 93\.3% +│ slowest 5\.0% \(GPU 3\)/)
  assert.match(table, /GPU 0's run in detail/)

  const j = JSON.parse(readFileSync(new URL('./fixtures/results/save-h200.json', import.meta.url), 'utf8'))
  const envelope = {...j, results: JSON.parse(JSON.stringify(r))}
  assertSchema('save.schema.json', envelope)
  const broken = structuredClone(envelope)
  broken.results.together.designs[1].jobsSkipped = -1
  assert.throws(() => assertSchema('save.schema.json', broken))
})

test('a GPU whose worker failed: partial, exit 1, said; bytes that did not verify name their GPU; none ended: the error', () => {
  const profile = loadProfile('llama-3.1-8b')
  const wp = planWorkload(profile, runOpts)
  const notes = []
  const {results: r} = gpuRunResults([worker(0, gpu({d2h: 55, moved: 53, stepMs: 10.2})), worker(1, null, 'cudaMalloc failed: out of memory')], wp, profile, 'save', 'host', notes)
  assert.equal(r.partial, true)
  assert.match(notes.join('\n'), /GPU 1's worker FAILED: cudaMalloc failed: out of memory/)
  assert.equal(transferExitCode(r, null, []), 1)
  assert.deepEqual(r.together.designs.find((d) => d.design === 'async').gpus, [0])
  const table = renderTransfer(r)
  assert.match(table, /GPU 1: FAILED: cudaMalloc failed: out of memory/)
  assert.match(table, /PARTIAL: a GPU's worker failed/)

  const bad = gpuRunResults([worker(0, gpu({d2h: 55, moved: 53, stepMs: 10.2})), worker(1, gpu({d2h: 55, moved: 53, stepMs: 10.2, mismatches: 9}))], wp, profile, 'save', 'host', []).results
  const why = []
  assert.equal(transferExitCode(bad, null, why), 1)
  assert.match(why.join('\n'), /verification FAILED: GPU 1: async\/staged \(9 words differ\)/)

  assert.throws(() => gpuRunResults([worker(0, null, 'rank 0 died'), worker(1, null, 'the all-reduce was aborted')], wp, profile, 'save', 'host', []), (e) => e.exit === 1 && /GPU 0: rank 0 died/.test(e.message))
})

test('each GPU\'s worker placed on its NUMA node and local CPUs: decided from the environment, what the kernel gave reported', () => {
  assert.deepEqual(parseCpuList('0-3,8-9,12'), [0, 1, 2, 3, 8, 9, 12])
  assert.deepEqual(parseCpuList('0-3,x'), [])
  assert.deepEqual(parseCpuList(null), [])
  assert.equal(cpuRanges([0, 1, 2, 3, 8, 9, 12]), '0-3,8-9,12')
  assert.equal(cpuRanges([]), null)
  const gpus = [{index: 0, numaNode: 0, cpuAffinity: '0-15'}, {index: 1, numaNode: 1, cpuAffinity: '16-31'}, {index: 2, numaNode: null, cpuAffinity: null}]
  const plans = hostPlacements(gpus, [1, 2], 2)
  assert.deepEqual(plans, [{numaNode: 1, cpus: Array.from({length: 16}, (_, i) => 16 + i)}, {numaNode: null, cpus: []}])
  assert.deepEqual(hostPlacements(gpus, [2], 1), [{numaNode: 0, cpus: []}], 'one node: it is every GPU\'s')

  const profile = loadProfile('llama-3.1-8b')
  const wp = planWorkload(profile, runOpts)
  const w1 = {...worker(1, gpu({d2h: 55, moved: 53, stepMs: 10.2})), placement: {cpusAllowed: 16, memoryBound: true, note: null}}
  const w2 = {...worker(2, gpu({d2h: 55, moved: 53, stepMs: 10.2})), placement: {cpusAllowed: 64, memoryBound: false, note: "the GPU's NUMA node is unknown: host memory left to the kernel's default"}}
  const notes = []
  const {results: r} = gpuRunResults([w1, w2], wp, profile, 'save', 'host', notes, plans)
  assert.deepEqual(r.workers[0].placement, {numaNode: 1, cpus: '16-31', cpusAllowed: 16, memoryBound: true, note: null})
  assert.match(notes.join('\n'), /GPU 2's worker placement: the GPU's NUMA node is unknown/)
  const table = renderTransfer(r)
  assert.match(table, /GPU 1: worker threads on CPUs 16-31 \(16 allowed\), host memory on NUMA node 1/)
  const j = JSON.parse(readFileSync(new URL('./fixtures/results/save-h200.json', import.meta.url), 'utf8'))
  assertSchema('save.schema.json', {...j, results: JSON.parse(JSON.stringify(r))})
})
