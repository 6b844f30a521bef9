// --gpus with a py: connector, without a GPU: the phase starts across harnesses (a stand-in harness
// that speaks the protocol, test/fixtures/fake_harness.py), and several GPUs' figures, metrics, gates,
// table and schema from raw samples recorded on an H200.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {kvbench, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'
import {runHarnessesTogether} from '../dist/core/connector/harness.js'
import {connectorResults, planConnectorRun} from '../dist/core/connector/run.js'
import {summarizeConnectorTogether} from '../dist/core/connector/together.js'
import {connectorMetrics} from '../dist/core/metrics/connector-metrics.js'
import {evaluateGates, connectorGateSpecs} from '../dist/core/gates.js'
import {renderConnector} from '../dist/cli/render/connector.js'

const dir = mkdtempSync(join(tmpdir(), 'kvbench-fake-harness-'))
after(() => rmSync(dir, {recursive: true, force: true}))
// The harness is started as `PYTHON -m kvbench_connector.harness --config JSON`: this PYTHON runs the stand-in instead.
const python = join(dir, 'python')
writeFileSync(python, `#!/bin/sh\nexec python3 ${JSON.stringify(join(ROOT, 'test', 'fixtures', 'fake_harness.py'))} "$@"\n`)
chmodSync(python, 0o755)

const PHASES = ['ceiling', 'calibrate', 'off-before', 'user', 'off-after']
const harnesses = (configs) => runHarnessesTogether(configs.map((c, device) => ({python, config: {device, fakePhases: PHASES, ...c}, silenceMs: 20_000})))
const designs = (run) => run.lines.filter((l) => l.type === 'design')

/** Harness processes still running (read from /proc). */
function fakesRunning() {
  return readdirSync('/proc').filter((d) => {
    if (!/^\d+$/.test(d)) return false
    try {
      return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('fake_harness.py')
    } catch {
      return false
    }
  })
}

describe('--gpus: a harness a GPU, every phase started on all of them together', () => {
  test('a phase starts when the slowest harness is ready for it', async () => {
    const runs = await harnesses([{}, {fakeSleep: {calibrate: 0.4, user: 0.4}}])
    for (const r of runs) {
      assert.equal(r.exitCode, 0, r.outputTail.join('\n'))
      assert.deepEqual(designs(r).map((l) => l.name), PHASES)
    }
    for (const phase of PHASES) {
      const [a, b] = runs.map((r) => designs(r).find((l) => l.name === phase))
      const lastReady = Math.max(a.readyAt, b.readyAt)
      for (const x of [a, b]) assert.ok(x.goAt >= lastReady, `${phase}: GPU ${x.device} started ${lastReady - x.goAt} s before the other was ready`)
    }
    const waited = designs(runs[0]).find((l) => l.name === 'user')
    assert.ok(waited.goAt - waited.readyAt >= 0.3, 'the quick harness did not wait for the slow one')
  })

  test('a harness that ends early stops the others at once, even mid-phase; no process left', async () => {
    const t0 = Date.now()
    const runs = await harnesses([{fakeSleep: {user: 60}}, {fakeExitAt: 'user'}, {}])
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`)
    assert.equal(runs[1].exitCode, 3)
    assert.equal(runs[0].killedBy, 'peer', 'the harness mid-phase was ended')
    assert.ok(runs[0].lines.some((l) => l.type === 'interrupted'), 'it reported what it had (SIGINT, as Ctrl-C)')
    assert.ok(runs[2].lines.some((l) => l.type === 'peer-stopped' && l.phase === 'user'), 'the harness at the phase start was told to stop')
    assert.deepEqual(designs(runs[2]).map((l) => l.name), ['ceiling', 'calibrate', 'off-before'])
    assert.deepEqual(fakesRunning(), [])
  })

  test('Ctrl-C: every harness ends and reports what it had; no process left', async () => {
    // A kvbench stand-in of its own, so the signal goes to it and not to the test runner.
    const script = join(dir, 'interrupt.mjs')
    writeFileSync(script, `import {runHarnessesTogether} from ${JSON.stringify(join(ROOT, 'dist', 'core', 'connector', 'harness.js'))}
const runs = await runHarnessesTogether([0, 1].map((device) => ({python: ${JSON.stringify(python)}, config: {device, fakePhases: ${JSON.stringify(PHASES)}, fakeSleep: {user: 60 + device}}, silenceMs: 20000})))
console.log(JSON.stringify(runs.map((r) => ({interrupt: r.interrupt, killedBy: r.killedBy, interrupted: r.lines.some((l) => l.type === 'interrupted'), designs: r.lines.filter((l) => l.type === 'design').length}))))`)
    const child = spawn(process.execPath, [script], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    await new Promise((r) => setTimeout(r, 1500))  // both harnesses inside the 'user' phase
    const t0 = Date.now()
    child.kill('SIGINT')
    await new Promise((r) => child.on('close', r))
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`)
    const runs = JSON.parse(out)
    for (const r of runs) {
      assert.equal(r.interrupt, 'SIGINT')
      assert.equal(r.killedBy, 'interrupt')
      assert.ok(r.interrupted, 'the harness reported what it had')
      assert.equal(r.designs, 3, 'the phases before the interrupt were kept')
    }
    assert.deepEqual(fakesRunning(), [])
  })

  test('harnesses ready for different phases are all stopped', async () => {
    const runs = await harnesses([{}, {fakeRename: {'off-before': 'something-else'}}])
    for (const r of runs) {
      assert.equal(r.exitCode, 1)
      assert.ok(r.lines.some((l) => l.type === 'peer-stopped'))
      assert.deepEqual(designs(r).map((l) => l.name), ['ceiling', 'calibrate'])
    }
  })
})

function replay(file, mode, device) {
  const lines = readFileSync(join(ROOT, 'test', 'fixtures', 'connector-runs', file), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type !== 'beat')
  const req = {mode, profile: 'llama-3.1-8b', overrides: {}, device, connector: 'py:slow_lookup:SlowLookup', streamAccessor: 'torch.cuda:current_stream', compareWith: 'naive,async', hookTimeoutS: 30, python: 'python3', verify: true, warmupSteps: 3, gates: {}}
  const run = {lines, exitCode: 0, signal: null, killedBy: null, interrupt: null, lastBeat: {design: null, hook: null}, outputTail: []}
  return connectorResults(run, planConnectorRun(req), req, [])
}

describe('--gpus: several GPUs\' figures from raw samples recorded on an H200', () => {
  const gpu0 = replay('save-h200-raw.jsonl', 'save', 0)
  const gpu1 = replay('save-h200-raw.jsonl', 'save', 1)
  const slow = gpu1.designs.find((d) => d.name === 'async')
  slow.slowdownPct += 5  // GPU 1's async design cost its forward more
  const workers = [{device: 0, results: gpu0, error: null}, {device: 1, results: gpu1, error: null}]
  const results = {...gpu0, workers, together: summarizeConnectorTogether(workers)}

  test('each design\'s GB/s added, against the ceilings added; the slowest GPU named', () => {
    const t = results.together
    assert.deepEqual(t.gpus, [0, 1])
    assert.equal(t.ceilings.d2hGBps, 2 * gpu0.ceilings.d2hGBps)
    const row = t.designs.find((d) => d.name === 'async')
    const one = gpu0.designs.find((d) => d.name === 'async')
    assert.deepEqual(row.gpus, [0, 1])
    assert.ok(Math.abs(row.gbps - 2 * one.save.gbps) < 1e-9)
    assert.ok(Math.abs(row.pctOfCeiling - one.save.pctOfCeiling) < 1e-9)
    assert.equal(row.slowestGpu, 1)
    assert.equal(row.slowestSlowdownPct, slow.slowdownPct)
    assert.equal(row.verified, true)
    assert.equal(t.designs.find((d) => d.name === 'off-before').gbps, null)
  })

  test('metrics name each GPU and the sum; a gate checks every GPU', () => {
    const names = connectorMetrics(results).map((m) => m.name)
    for (const n of ['connector/save/llama-3.1-8b/gpu0/SlowLookup/moved_pct_of_ceiling', 'connector/save/llama-3.1-8b/gpu1/async/slowdown_pct', 'connector/save/llama-3.1-8b/together/async/slowest_slowdown_pct', 'connector/save/llama-3.1-8b/together/ceilings/d2h_gbps']) {
      assert.ok(names.includes(n), n)
    }
    const gates = evaluateGates(connectorMetrics(results), connectorGateSpecs({minPctOfCeiling: 1}))
    assert.deepEqual(gates.map((g) => g.metric), ['connector/save/llama-3.1-8b/gpu0/SlowLookup/moved_pct_of_ceiling', 'connector/save/llama-3.1-8b/gpu1/SlowLookup/moved_pct_of_ceiling', 'connector/save/llama-3.1-8b/together/SlowLookup/moved_pct_of_ceiling'])
  })

  test('the table shows each GPU\'s row and the GPUs together; a failed GPU is named; the schema holds', () => {
    const failed = {...results, workers: [...workers, {device: 2, results: null, error: 'GPU 2 needs 90 GiB'}]}
    failed.together = summarizeConnectorTogether(failed.workers)
    const text = renderConnector(failed)
    assert.match(text, /GPUs 0, 1, 2 at once/)
    assert.match(text, /slowest [\d.]+% \(GPU 1\)/)
    assert.match(text, /GPU 2: FAILED: GPU 2 needs 90 GiB/)
    const envelope = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'connector-runs', 'save-h200.json'), 'utf8'))
    assertSchema('connector.schema.json', {...envelope, results: failed})
    const peer = {...gpu1, partial: true, stopped: {reason: 'peer', design: 'async', hook: null, message: 'stopped with the other GPUs'}}
    assertSchema('connector.schema.json', {...envelope, results: {...failed, workers: [workers[0], {device: 1, results: peer, error: null}]}})
  })

  test('refused in one line, exit 2: --gpus with --device, and GPUs this host lacks', () => {
    const env = {PYTHONPATH: join(ROOT, 'test', 'fixtures', 'connectors')}
    for (const [args, message] of [
      [['--gpus', '0', '--device', '0'], /--gpus and --device: name every GPU to run on in --gpus/],
      [['--gpus', '0,0'], /--gpus 0,0: GPU 0 is named twice/],
    ]) {
      const r = kvbench(['save', '--connector', 'py:fakes:Complete', ...args], {env})
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })
})
