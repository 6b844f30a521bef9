// `kvbench save|load --connector py:...` without a GPU: every way the flags, the import, the
// protocol and the hooks can go wrong (the fakes in test/fixtures/connectors need no torch: the
// harness dry-runs the scheduler side before it imports torch), and the figures and the table
// from raw samples recorded on an H200 (test/fixtures/connector-runs).
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'
import {connectorResults, planConnectorRun} from '../dist/core/connector/run.js'
import {renderConnector} from '../dist/cli/render/connector.js'
import {connectorMetrics} from '../dist/core/metrics/connector-metrics.js'

const env = {PYTHONPATH: join(ROOT, 'test', 'fixtures', 'connectors')}
const save = (args, opts = {}) => kvbench(['save', ...args], {env, ...opts})
const saveJson = (args, opts = {}) => kvbenchJson(['save', ...args], {env, ...opts})
const hasCudaTorch = spawnSync('python3', ['-c', 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)']).status === 0

/** Processes whose command line mentions `text` (read from /proc: no pgrep needed). */
function processesWith(text) {
  const out = []
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) out.push(pid)
    } catch {
      // gone meanwhile
    }
  }
  return out
}

function badInput(args, pattern) {
  const r = save(args)
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('    at '))
  assert.match(lines[0], pattern)
  assert.equal(r.stdout, '')
  return r
}

describe('--connector py: bad input (exit 2, one line)', () => {
  test('the spec form', () => {
    badInput(['--connector', 'py:fakes'], /--connector py:fakes: expected on, off or py:MODULE:CLASS/)
    badInput(['--connector', 'fakes:Complete'], /--connector fakes:Complete: expected on, off or py:MODULE:CLASS/)
    badInput(['--connector', 'py:fakes:naive'], /class name naive is taken by a reference connector/)
  })
  test('a module that fails to import: its exception\'s last line', () => {
    badInput(['--connector', 'py:broken_module:X'], /importing broken_module failed: RuntimeError: the store client failed to start/)
    badInput(['--connector', 'py:no_such_module:X'], /importing no_such_module failed: ModuleNotFoundError: No module named 'no_such_module'/)
  })
  test('no such class, or not a class', () => {
    badInput(['--connector', 'py:fakes:Nope'], /fakes has no attribute Nope/)
    badInput(['--connector', 'py:fakes:not_a_class'], /fakes.not_a_class is not a class/)
  })
  test('a class without required hooks: each named', () => {
    badInput(['--connector', 'py:fakes:MissingHooks'], /MissingHooks has no update_state_after_alloc, build_connector_meta, .*clear_connector_metadata/)
  })
  test('a hook or constructor with the wrong signature', () => {
    badInput(['--connector', 'py:fakes:WrongSignature'], /WrongSignature.save_kv_layer\(self, layer_name\) cannot take \(layer_name, kv_layer, attn_metadata\)/)
    badInput(['--connector', 'py:fakes:WrongConstructor'], /WrongConstructor\(\) cannot be constructed as WrongConstructor\(config, role\)/)
  })
  test('--connector-config: not JSON, not an object, a missing file', () => {
    badInput(['--connector', 'py:fakes:Complete', '--connector-config', '{store:'], /--connector-config: not JSON/)
    badInput(['--connector', 'py:fakes:Complete', '--connector-config', '[1]'], /--connector-config: must be a JSON object, got an array/)
    badInput(['--connector', 'py:fakes:Complete', '--connector-config', '@/nonexistent/c.json'], /--connector-config @\/nonexistent\/c.json: no such file/)
  })
  test('--stream-accessor: the form, a missing attribute, not callable', () => {
    badInput(['--connector', 'py:fakes:Complete', '--stream-accessor', 'fakes'], /--stream-accessor fakes: expected MODULE:ATTR/)
    badInput(['--connector', 'py:fakes:Complete', '--stream-accessor', 'fakes:nothing_here'], /--stream-accessor fakes:nothing_here: fakes has no attribute nothing_here/)
    badInput(['--connector', 'py:fakes:Complete', '--stream-accessor', 'fakes:accessor_value'], /--stream-accessor fakes:accessor_value: fakes.accessor_value is not callable/)
  })
  test('--compare-with, --hook-timeout, --python', () => {
    badInput(['--connector', 'py:fakes:Complete', '--compare-with', 'naive,fast'], /--compare-with naive,fast: "fast" is not a reference connector/)
    badInput(['--connector', 'py:fakes:Complete', '--hook-timeout', '0'], /--hook-timeout must be more than 0 and at most 3600 seconds, got 0/)
    badInput(['--connector', 'py:fakes:Complete', '--python', '/nonexistent/python3'], /--python \/nonexistent\/python3: not found/)
    badInput(['--connector', 'py:fakes:Complete', '--python', '/bin/false'], /--python \/bin\/false: did not start kvbench's connector harness \(exit 1\)/)
    const dir = mkdtempSync(join(tmpdir(), 'kvbench-py-'))
    const notExecutable = join(dir, 'python3')
    writeFileSync(notExecutable, '#!/bin/sh\n', {mode: 0o644})
    try {
      badInput(['--connector', 'py:fakes:Complete', '--python', notExecutable], /--python .*python3: not executable/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
  test('native flags with a py: connector, py: flags without one', () => {
    badInput(['--connector', 'py:fakes:Complete', '--strategy', 'staged'], /--strategy sets kvbench's native connectors; it does nothing with --connector py:fakes:Complete/)
    badInput(['--connector', 'py:fakes:Complete', '--backend', 'file:/tmp'], /--backend sets kvbench's native connectors/)
    badInput(['--hook-timeout', '5'], /--hook-timeout needs --connector py:MODULE:CLASS/)
    badInput(['--connector', 'maybe'], /--connector maybe: expected on, off or py:MODULE:CLASS/)
  })
  test('under --json: the error envelope, kind connector, exit 2', () => {
    const r = saveJson(['--connector', 'py:fakes:MissingHooks'])
    assert.equal(r.code, 2)
    assertSchema('connector.schema.json', r.json)
    assert.equal(r.json.kind, 'connector')
    assert.equal(r.json.error.exitCode, 2)
  })
  test('no torch: one line saying so, exit 2', {skip: hasCudaTorch && 'this python3 has torch with CUDA'}, () => {
    badInput(['--connector', 'py:fakes:Complete'], /the connector run needs torch with CUDA; .* (cannot import torch|sees no CUDA GPU)/)
  })
  test('--connector-config reaches the constructor', {skip: hasCudaTorch && 'this python3 has torch with CUDA'}, () => {
    // NeedsConfig raises unless it sees the config: with it, the run goes on to the torch check.
    badInput(['--connector', 'py:fakes:NeedsConfig', '--connector-config', '{"store": "mem://"}'], /needs torch with CUDA/)
    const r = save(['--connector', 'py:fakes:NeedsConfig', '--connector-config', '{"store": "redis://"}'])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /FAILED: __init__ raised ValueError: config store is 'redis:\/\/'/)
  })
})

describe('--connector py: faults in the hooks (exit 1, named)', () => {
  test('a hook that raises: the design stops, the hook and the exception named, partial', () => {
    const r = saveJson(['--connector', 'py:fakes:Raises'])
    assert.equal(r.code, 1)
    assertSchema('connector.schema.json', r.json)
    assert.equal(r.json.status, 'partial')
    const d = r.json.results.designs.find((x) => x.name === 'Raises')
    assert.deepEqual(d.error, {hook: 'get_num_new_matched_tokens', message: "KeyError: 'no store for dry-run'"})
  })
  test('a hook that returns the wrong shape', () => {
    const r = saveJson(['--connector', 'py:fakes:BadReturn'])
    assert.equal(r.code, 1)
    assert.match(r.json.results.designs[0].error.message, /returned 0, expected \(tokens: int \| None, load_async: bool\)/)
  })
  test('a hook that blocks past --hook-timeout: stopped, named, no process left', () => {
    const t0 = Date.now()
    const r = saveJson(['--connector', 'py:fakes:Blocks', '--hook-timeout', '1'])
    assert.equal(r.code, 1)
    assert.ok(Date.now() - t0 < 20_000)
    const s = r.json.results.stopped
    assert.equal(s.reason, 'hook-timeout')
    assert.equal(s.hook, 'get_num_new_matched_tokens')
    assert.match(s.message, /Blocks: its get_num_new_matched_tokens blocked past --hook-timeout 1 s/)
    assert.deepEqual(processesWith('fakes:Blocks'), [], 'a harness process was left running')
  })
  test('a crash of the Python process: its signal and where', () => {
    const r = saveJson(['--connector', 'py:fakes:Crashes'])
    assert.equal(r.code, 1)
    const s = r.json.results.stopped
    assert.equal(s.reason, 'crash')
    assert.match(s.message, /died of SIGSEGV during design Crashes \(last output: File ".*fakes.py", line \d+ in build_connector_meta\)/)
  })
  test('a crash whose last lines reached the pipe in pieces: the whole frame line is named', () => {
    const r = saveJson(['--connector', 'py:fakes:CrashesMidLine'])
    assert.equal(r.code, 1)
    assert.match(r.json.results.stopped.message, /\(last output: File "\/somewhere\/store.py", line 7 in flush_blocks\)$/)
  })
  test('Ctrl-C: partial, exit 130, the child ended', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), 'save', '--connector', 'py:fakes:Blocks', '--hook-timeout', '60', '--json'], {env: {...process.env, ...env}})
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    await new Promise((r) => setTimeout(r, 2500))
    child.kill('SIGINT')
    const code = await new Promise((r) => child.on('close', r))
    assert.equal(code, 130)
    const j = JSON.parse(out)
    assert.equal(j.status, 'partial')
    assert.equal(j.results.stopped.reason, 'interrupted')
    assert.deepEqual(processesWith('fakes:Blocks'), [], 'a harness process was left running')
  })
})

function replay(file, mode) {
  const lines = readFileSync(join(ROOT, 'test', 'fixtures', 'connector-runs', file), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type !== 'beat')
  const req = {mode, profile: 'llama-3.1-8b', overrides: {}, device: 0, connector: 'py:slow_lookup:SlowLookup', streamAccessor: 'torch.cuda:current_stream', compareWith: 'naive,async', hookTimeoutS: 30, python: 'python3', verify: true, warmupSteps: 3, gates: {}}
  const run = {lines, exitCode: 0, signal: null, killedBy: null, interrupt: null, lastBeat: {design: null, hook: null}, outputTail: []}
  return connectorResults(run, planConnectorRun(req), req, [])
}

describe('figures and the table from raw samples recorded on an H200', () => {
  for (const mode of ['save', 'load']) {
    test(`${mode}: the statistics reproduce the recorded result, which validates`, () => {
      const recorded = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'connector-runs', `${mode}-h200.json`), 'utf8'))
      assertSchema('connector.schema.json', recorded)
      const r = replay(`${mode}-h200-raw.jsonl`, mode)
      assert.deepEqual(r.designs, recorded.results.designs)
      assert.deepEqual(r.ceilings, recorded.results.ceilings)
      const async = r.designs.find((d) => d.name === 'async')
      assert.ok(async[mode].pctOfCeiling > 80, `${async[mode].pctOfCeiling}`)
      assert.ok(r.designs.find((d) => d.name === 'SlowLookup').hooks.get_num_new_matched_tokens.us.p50 >= 2000)
    })
  }
  test('the table puts the user\'s connector beside the references, without colour when piped', () => {
    const text = renderConnector(replay('save-h200-raw.jsonl', 'save'))
    for (const row of ['SlowLookup (yours)', 'naive', 'async', 'off-before (connector off)', 'get_num_new_matched_tokens']) assert.ok(text.includes(row), row)
    assert.doesNotMatch(text, /\u001b\[/)
  })
  test('metrics and gates name the user\'s design', () => {
    const m = connectorMetrics(replay('save-h200-raw.jsonl', 'save'))
    const names = m.map((x) => x.name)
    assert.ok(names.includes('connector/save/llama-3.1-8b/SlowLookup/moved_pct_of_ceiling'))
    assert.ok(names.includes('connector/save/llama-3.1-8b/async/get_num_new_matched_tokens_p50_us'))
    assert.ok(m.filter((x) => x.row.role === 'user').length > 0)
  })
})
