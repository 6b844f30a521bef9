// kvbench mix without a GPU: the plan (half the transfer set each way, refusals naming their
// flag), the figures of a mixed run (together against the both-ways ceiling, each direction
// against half of it), its metrics, gates, table and schema.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'

import {planWorkload} from '../dist/core/plan.js'
import {loadProfile} from '../dist/core/profile.js'
import {summarizeRun} from '../dist/core/saveload/figures.js'
import {transferExitCode} from '../dist/core/saveload/verdicts.js'
import {transferMetrics} from '../dist/core/metrics/transfer-metrics.js'
import {evaluateGates, transferGateSpecs} from '../dist/core/gates.js'
import {renderTransfer} from '../dist/cli/render/transfer.js'
import {kvbench} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const runOpts = {mode: 'mix', device: 0, strategy: 'auto', design: 'async', connector: true, verify: true, warmupSteps: 3, stagingMiB: 16, copyCtas: 0, mappedCtas: 264, streamingCopies: true, stagingL2: 'auto', batchSharePct: 0, fault: 'none', backend: 'host', ioThreads: 4, storeQueue: 32, pipeline: 4, fsync: 'never', direct: true}

test('the plan: a mixed run, neither load nor store; refusals name their flag', () => {
  const profile = loadProfile('llama-3.1-8b')
  const wp = planWorkload(profile, runOpts)
  assert.equal(wp.plan.mix, true)
  assert.equal(wp.plan.load, false)
  assert.equal(wp.plan.store, null)
  assert.throws(() => planWorkload(profile, {...runOpts, backend: 'file:/tmp/kvbench-mix-never'}), /--backend file:\/tmp\/kvbench-mix-never: kvbench mix moves both directions through the pinned pool only/)
  assert.throws(() => planWorkload(profile, {...runOpts, traceSteps: 4}), /--trace: kvbench mix does not write a timeline/)
  assert.throws(() => planWorkload({...profile, workload: {...profile.workload, transferSequences: 3}}, runOpts), /--transfer-sequences 3: kvbench mix needs 4 or more/)
  assert.equal(planWorkload(profile, {...runOpts, mode: 'save'}).plan.mix, false)
})

test('the plan: a mixed run needs GPU memory for a staging ring each way', () => {
  const profile = loadProfile('llama-3.1-8b')
  const MiB = 2 ** 20
  const more = (mode) => planWorkload(profile, {...runOpts, mode, stagingMiB: 32}).gpuBytesNeeded - planWorkload(profile, {...runOpts, mode, stagingMiB: 16}).gpuBytesNeeded
  assert.equal(more('save'), 16 * MiB)
  assert.equal(more('mix'), 32 * MiB)
})

const phase = (design, over = {}) => ({
  design, strategy: '-', stepGpuMs: Array(20).fill(10.3), stepWallMs: Array(20).fill(10.4), hookUs: {}, transferLatencyMs: [],
  bytesMoved: 0, windowMs: 0, jobsOffered: 0, jobsDone: 0, jobsSkipped: 0, mismatches: 0, chunksChecked: 0, nonFinite: 0,
  requestsScheduled: 0, requestsNotReadySteps: 0, offeredBytesPerStep: 0, stepsRun: 20, connectorBusyUs: 0, connectorAliveUs: 0,
  store: null, trace: null, directions: [], ...over,
})

// Both ways at once: 100 GB/s; saves 48 GB and loads 49 GB in one second of steps.
function mixed({saveMismatches = 0} = {}) {
  const save = phase('async', {strategy: 'staged', bytesMoved: 48e9, windowMs: 1000, jobsDone: 100, jobsOffered: 100, mismatches: saveMismatches, chunksChecked: 10,
    hookUs: {save_layer: [2, 3], poll: [1, 1], blocked_per_step: [6, 7]}, connectorBusyUs: 30, connectorAliveUs: 100, transferLatencyMs: [1, 2]})
  const load = phase('async', {strategy: 'batch', bytesMoved: 49e9, windowMs: 1000, jobsDone: 50, jobsOffered: 50, chunksChecked: 10,
    hookUs: {start_load: [4, 5], poll: [1, 2], blocked_per_step: [5, 6]}, connectorBusyUs: 20, connectorAliveUs: 100, transferLatencyMs: [2, 3]})
  const both = phase('async', {strategy: 'staged/batch', bytesMoved: 97e9, windowMs: 1000, jobsDone: 150, jobsOffered: 150, mismatches: saveMismatches, chunksChecked: 20,
    hookUs: {blocked_per_step: [11, 13]}, connectorBusyUs: 50, connectorAliveUs: 200, directions: [save, load]})
  return {
    ceilingH2dGBps: 55, ceilingD2hGBps: 55, ceilingBothGBps: 100, gemmEngine: 'cublas', flopsPerStep: 0, hbmBytesPerStep: 0, cancelled: false,
    best: {save: 'staged', load: 'batch'}, notes: [], strategies: [], designs: [phase('off', {stepGpuMs: Array(20).fill(10)}), both],
    store: null, storeNote: null, storeDirect: false, stagingInL2: true, storeAlone: null, hostNoise: null,
    reference: {steps: phase('reference', {stepGpuMs: Array(20).fill(10.2), windowMs: 1000}), bytes: 98e9, saveBytes: 49e9, loadBytes: 49e9, chunkBytes: 8 << 20},
  }
}

test('figures: the together row against the both-ways ceiling, each direction against half of it', () => {
  const profile = loadProfile('llama-3.1-8b')
  const r = summarizeRun(mixed(), planWorkload(profile, runOpts), profile, 'mix')
  assert.equal(r.mode, 'mix')
  assert.equal(r.ceilings.bothGBps, 100)
  assert.deepEqual(r.designs.map((d) => [d.design, d.direction, d.strategy]), [['off', 'both', null], ['async', 'both', null], ['async', 'save', 'staged'], ['async', 'load', 'batch']])
  const [, both, save, load] = r.designs
  assert.ok(Math.abs(both.transfer.pctOfCeiling - 97) < 1e-9)
  assert.ok(Math.abs(save.transfer.pctOfCeiling - 96) < 1e-9)
  assert.ok(Math.abs(load.transfer.pctOfCeiling - 98) < 1e-9)
  assert.ok(Math.abs(both.slowdownPct - 3) < 1e-9)
  assert.ok(Math.abs(r.reference.pctOfCeiling - 98) < 1e-9)
  assert.ok(Math.abs(r.reference.directions.save.pctOfCeiling - 98) < 1e-9)
  assert.equal(transferExitCode(r, null, []), 0)

  const names = transferMetrics(r).map((m) => m.name)
  for (const n of ['mix/llama-3.1-8b/async/-/both/moved_pct_of_ceiling', 'mix/llama-3.1-8b/async/staged/save/save_layer_p99_us', 'mix/llama-3.1-8b/async/batch/load/start_load_p50_us',
    'mix/llama-3.1-8b/async/batch/load/blocked_p99_us', 'mix/llama-3.1-8b/reference/contiguous/save/moved_pct_of_ceiling']) {
    assert.ok(names.includes(n), `${n} in ${names.join(', ')}`)
  }
  assert.equal(new Set(names).size, names.length, 'every metric name once')
  // --min-pct-of-ceiling 97 holds for both together and the loads, not for the saves' 96%.
  const gates = evaluateGates(transferMetrics(r), transferGateSpecs('mix', {minPctOfCeiling: 97}))
  assert.deepEqual(gates.filter((g) => !g.passed).map((g) => g.metric), ['mix/llama-3.1-8b/async/staged/save/moved_pct_of_ceiling'])

  const text = renderTransfer(r)
  assert.match(text, /^mix \(saves and loads in the same steps\) · llama-3\.1-8b .* ceilings H2D 55\.0 \/ D2H 55\.0 \/ both ways 100\.0 GB\/s/)
  assert.match(text, /async · both +│ save\/load differ +│ .*│ 97\.0 +│ 97\.0%/)
  assert.match(text, /async · save +│ staged +│ .*│ 48\.0 +│ 96\.0%/)
  assert.match(text, /async · load\/batch connector thread: busy 20\.0%/)
  assert.doesNotMatch(text, /async · both\/.* connector thread/)
  assert.match(text, /contiguous 8(\.0)? MiB copies on a stream of their own each way beside the forward moved 98\.0 GB\/s \(98\.0% of the ceiling; save 49\.0, load 49\.0 GB\/s\)/)
  assert.match(text, /Against it: async · both\/save\/load 99\.0% of its rate, \+1\.0 points of slowdown; async · save\/staged 98\.0% of its rate; async · load\/batch 100\.0% of its rate/)

  const j = JSON.parse(readFileSync(new URL('./fixtures/results/save-h200.json', import.meta.url), 'utf8'))
  const envelope = {...j, $schema: 'https://kvbench.dev/schemas/1/mix.schema.json', kind: 'mix', results: JSON.parse(JSON.stringify(r))}
  assertSchema('mix.schema.json', envelope)
  assert.throws(() => assertSchema('mix.schema.json', {...envelope, results: {...envelope.results, designs: [{...envelope.results.designs[1], direction: 'sideways'}]}}), /direction|allowed/)
  assert.throws(() => assertSchema('save.schema.json', {...envelope, kind: 'save'}), /mode|const/)
})

test('a save side that did not verify fails the run and names its direction', () => {
  const profile = loadProfile('llama-3.1-8b')
  const r = summarizeRun(mixed({saveMismatches: 3}), planWorkload(profile, runOpts), profile, 'mix')
  const notes = []
  assert.equal(transferExitCode(r, null, notes), 1)
  assert.deepEqual(notes, ['verification FAILED: async/staged save (3 words differ)'])
})

test('the CLI refuses what mix cannot run, one line naming the flag, exit 2, before touching a GPU', () => {
  for (const [args, re] of [
    [['--backend', 'file:/tmp/kvbench-mix-refused'], /--backend file:\/tmp\/kvbench-mix-refused: kvbench mix moves both directions through the pinned pool only/],
    [['--connector', 'py:my.mod:Conn'], /--connector py:my\.mod:Conn: kvbench mix runs kvbench's native connectors/],
    [['--trace', '/tmp/kvbench-mix-trace.json'], /--trace: kvbench mix does not write a timeline/],
    [['--transfer-sequences', '2'], /--transfer-sequences 2: kvbench mix needs 4 or more/],
  ]) {
    const r = kvbench(['mix', ...args])
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, re)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
  const help = kvbench(['mix', '--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /Saves and loads in the same steps beside a synthetic forward/)
})
