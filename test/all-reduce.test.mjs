// The forward's tensor-parallel all-reduce (--all-reduce nccl) without a GPU: the plan it sends,
// the refusals that name their flag, and a run's figures, verdict, metrics, table and schema
// from a native result carrying the all-reduce's samples.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'

import {planWorkload} from '../dist/core/plan.js'
import {loadProfile} from '../dist/core/profile.js'
import {summarizeRun} from '../dist/core/saveload/figures.js'
import {transferExitCode} from '../dist/core/saveload/verdicts.js'
import {transferMetrics} from '../dist/core/metrics/transfer-metrics.js'
import {renderTransfer} from '../dist/cli/render/transfer.js'
import {kvbench, kvbenchJson} from './helpers/cli.mjs'
import {nativePhase} from './helpers/native-phase.mjs'
import {assertSchema} from './helpers/schema.mjs'

const runOpts = {mode: 'save', device: 0, strategy: 'staged', design: 'async', connector: true, verify: true, warmupSteps: 3, stagingMiB: 16, copyCtas: 0, mappedCtas: 264, streamingCopies: true, stagingL2: 'auto', batchSharePct: 0, fault: 'none', allReduce: 'nccl', backend: 'host', ioThreads: 4, storeQueue: 32, pipeline: 4, fsync: 'never', direct: true}

test('the plan: a world of one with --all-reduce nccl, none without; the unordered fault needs it', () => {
  const profile = loadProfile('llama-3.1-8b')
  assert.deepEqual(planWorkload(profile, runOpts).plan.allReduce, {world: 1, rank: 0, uniqueIdHex: null})
  assert.equal(planWorkload(profile, {...runOpts, allReduce: 'off'}).plan.allReduce, null)
  assert.equal(planWorkload(profile, {...runOpts, fault: 'allreduce-unordered'}).plan.fault, 'allreduce-unordered')
  assert.throws(() => planWorkload(profile, {...runOpts, allReduce: 'off', fault: 'allreduce-unordered'}), /--inject allreduce-unordered breaks the forward's all-reduce: add --all-reduce nccl/)
})

test('refused in one line, exit 2: ranks of a launcher world without --rendezvous, a py: connector, an unknown value', () => {
  const world = kvbench(['save', '--all-reduce', 'nccl'], {env: {WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '1'}})
  assert.equal(world.code, 2, world.stderr)
  assert.match(world.stderr, /--all-reduce nccl: the 2 ranks of this torchrun run need rank 0's NCCL id: give --rendezvous env:\/\//)
  const py = kvbench(['save', '--all-reduce', 'nccl', '--connector', 'py:connectors.async_pinned:AsyncPinnedConnector'])
  assert.equal(py.code, 2, py.stderr)
  assert.match(py.stderr, /--all-reduce sets kvbench's native connectors/)
  const bad = kvbench(['save', '--all-reduce', 'gloo'])
  assert.equal(bad.code, 2, bad.stderr)
  assert.match(bad.stderr, /all-reduce/)
})

const phase = nativePhase

function run({wrong = 0} = {}) {
  return {
    ceilingH2dGBps: 55, ceilingD2hGBps: 55, ceilingBothGBps: 100, gemmEngine: 'cublas', allReduceLibrary: 'libnccl.so.2 2.28.3', flopsPerStep: 0, hbmBytesPerStep: 0, cancelled: false,
    best: {save: 'staged', load: 'staged'}, notes: [], strategies: [],
    designs: [
      phase('off', {stepGpuMs: Array(20).fill(10), allReduceMs: Array(20).fill(0.18)}),
      phase('async', {strategy: 'staged', bytesMoved: 50e9, windowMs: 1000, jobsDone: 100, jobsOffered: 100, chunksChecked: 10, hookUs: {save_layer: [1, 2], blocked_per_step: [5, 6]},
        allReduceMs: Array(20).fill(0.25), allReduceMismatches: wrong}),
      phase('off', {stepGpuMs: Array(20).fill(10), allReduceMs: Array(20).fill(0.18)}),
    ],
    store: null, storeNote: null, storeDirect: false, stagingInL2: true, storeAlone: null, hostNoise: null,
    reference: {steps: phase('reference', {stepGpuMs: Array(20).fill(10.1), windowMs: 1000}), bytes: 54e9, saveBytes: 54e9, loadBytes: 0, chunkBytes: 8 << 20},
  }
}

test('figures: the library and world, each phase its all-reduce ms a step and the sums checked', () => {
  const profile = loadProfile('llama-3.1-8b')
  const r = summarizeRun(run(), planWorkload(profile, runOpts), profile, 'save')
  assert.deepEqual(r.forward.allReduce, {library: 'libnccl.so.2 2.28.3', world: 1, rank: 0})
  const [off, async] = r.designs
  assert.equal(off.allReduce.calls, 2 * 20 * 64, 'the two baselines are one row')
  assert.equal(off.allReduce.stepMs.p50, 0.18)
  assert.equal(async.allReduce.stepMs.p50, 0.25)
  assert.equal(async.allReduce.mismatches, 0)
  assert.equal(r.reference.allReduce.calls, 20 * 64)
  assert.equal(transferExitCode(r, null, []), 0)
  const names = transferMetrics(r).map((m) => m.name)
  for (const n of ['save/llama-3.1-8b/async/staged/all_reduce_p50_ms', 'save/llama-3.1-8b/async/staged/all_reduce_verified', 'save/llama-3.1-8b/off/-/all_reduce_p50_ms']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`)
  const table = renderTransfer(r)
  assert.match(table, /all-reduce \(libnccl\.so\.2 2\.28\.3, world 1, rank 0; two a layer on the compute stream\): ms a step p50: off 0\.180, async 0\.250, reference 0\.200; 5120 sums checked, all right/)
  const j = JSON.parse(readFileSync(new URL('./fixtures/results/save-h200.json', import.meta.url), 'utf8'))
  const envelope = {...j, results: JSON.parse(JSON.stringify(r))}
  assertSchema('save.schema.json', envelope)
  const broken = structuredClone(envelope)
  broken.results.designs[1].allReduce.mismatches = -1
  assert.throws(() => assertSchema('save.schema.json', broken), /allReduce|minimum|>= 0/)
})

test('a wrong probe sum fails the run (exit 1) and names what it means; without the all-reduce nothing is said', () => {
  const profile = loadProfile('llama-3.1-8b')
  const r = summarizeRun(run({wrong: 7}), planWorkload(profile, runOpts), profile, 'save')
  const notes = []
  assert.equal(transferExitCode(r, null, notes), 1)
  assert.match(notes.join('\n'), /async\/staged: 7 of 1280 all-reduce probe sums wrong \(an all-reduce that did not wait for the compute stream's writes\)/)
  assert.match(renderTransfer(r), /7 WRONG/)
  const plain = run()
  plain.allReduceLibrary = null
  for (const d of [...plain.designs, plain.reference.steps]) Object.assign(d, {allReduceMs: [], allReduceCalls: 0})
  const none = summarizeRun(plain, planWorkload(profile, {...runOpts, allReduce: 'off'}), profile, 'save')
  assert.equal(none.forward.allReduce, null)
  assert.equal(none.designs[1].allReduce, null)
  assert.doesNotMatch(renderTransfer(none), /all-reduce/)
})

test('env says whether NCCL can be loaded for --all-reduce, and why not', () => {
  const env = kvbenchJson(['env'])
  assert.equal(env.code, 0, env.stderr)
  const n = env.json.environment.cuda.nccl
  assert.ok(n, 'environment.cuda.nccl')
  if (n.version) assert.equal(n.reason, null)
  else assert.match(n.reason, /libnccl|native addon/)
  assertSchema('env.schema.json', env.json)
  const named = kvbenchJson(['env'], {env: {KVBENCH_NCCL_LIBRARY: '/nonexistent/libnccl.so.2'}})
  const m = named.json.environment.cuda.nccl
  assert.deepEqual([m.library, m.version], [null, null])
  assert.match(m.reason, /^KVBENCH_NCCL_LIBRARY=\/nonexistent\/libnccl\.so\.2 could not be loaded/)
})
