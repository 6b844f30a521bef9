// Gates in the run and --output on every command: what a CI job relies on.
import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {evaluateGates, transferGateSpecs} from '../dist/core/gates.js'
import {transferMetrics} from '../dist/core/metrics/transfer-metrics.js'
import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'
import {tempDir} from './helpers/temp-dir.mjs'

const tmp = tempDir('kvbench-gates-')
const fixture = (name) => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/results', name), 'utf8'))

test('save/load gates pick the best strategy alone, every design, and the async design\'s blocking', () => {
  const r = fixture('save-h200.json').results
  const gates = evaluateGates(transferMetrics(r), transferGateSpecs('save', {minPctOfCeiling: 97.5, maxSlowdown: 0.5, maxBlockedP99Us: 50}))
  const by = (flag) => gates.filter((g) => g.flag === flag).map((g) => [g.metric, g.passed])
  assert.deepEqual(by('--min-pct-of-ceiling'), [
    ['save/llama-3.1-8b/alone/staged/save_pct_of_ceiling', true],
    ['save/llama-3.1-8b/async/staged/moved_pct_of_ceiling', false],
    ['save/llama-3.1-8b/blocking/staged/moved_pct_of_ceiling', false],
  ])
  assert.deepEqual(by('--max-slowdown'), [
    ['save/llama-3.1-8b/async/staged/slowdown_pct', true],
    ['save/llama-3.1-8b/blocking/staged/slowdown_pct', false],
  ])
  assert.deepEqual(by('--max-blocked-p99-us'), [['save/llama-3.1-8b/async/staged/blocked_p99_us', true]])
  // the card's own run recorded the same gates with the thresholds it was given
  assert.deepEqual(fixture('save-h200.json').results.gates.map((g) => g.passed), [true, true, true, true, true, true])
})

test('a gate that finds nothing to check fails: the run measured less than asked', () => {
  const r = fixture('save-h200.json').results
  const noAsync = {...r, designs: r.designs.filter((d) => d.design !== 'async')}
  const [g] = evaluateGates(transferMetrics(noAsync), transferGateSpecs('save', {maxBlockedP99Us: 50}))
  assert.deepEqual(g, {flag: '--max-blocked-p99-us', metric: null, op: '<=', threshold: 50, value: null, passed: false})
})

test('backend bench gates: a failed gate exits 1, the envelope stays complete, the table names it', () => {
  const out = join(tmp, 'bench.json')
  const r = kvbench(['backend', 'bench', '--mib', '4', '--min-put-gbps', '0.001', '--max-p99-us', '0.001', '-o', out])
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stdout, /^gate passed: backend-bench\/host\/llama-3.1-8b\/chunk\/put_gbps = [\d.]+ \(--min-put-gbps >= 0.001\)$/m)
  assert.match(r.stdout, /^gate FAILED: backend-bench\/host\/llama-3.1-8b\/chunk\/put_p99_us = [\d.]+ \(--max-p99-us <= 0.001\)$/m)
  const j = JSON.parse(readFileSync(out, 'utf8'))
  assertSchema('backend-bench.schema.json', j)
  assert.equal(j.status, 'complete')
  assert.equal(j.results.gates.length, 6)
  assert.equal(j.results.gates.filter((g) => !g.passed).length, 4)
  const ok = kvbenchJson(['backend', 'bench', '--mib', '4', '--min-get-gbps', '0.001'])
  assert.equal(ok.code, 0)
  assert.deepEqual(ok.json.results.gates.map((g) => g.passed), [true, true])
})

test('gate flags: bad values and gates no design of the run could meet are bad input', () => {
  const cases = [
    [['backend', 'bench', '--min-put-gbps', 'fast'], /^Error: --min-put-gbps must be a number of at least 0, got fast$/],
    [['save', '--max-slowdown', '-2'], /^Error: --max-slowdown must be a number of at least 0, got -2$/],
    [['load', '--min-pct-of-ceiling', ''], /^Error: --min-pct-of-ceiling must be a number/],
    [['save', '--max-blocked-p99-us', '20', '--design', 'blocking'], /^Error: --max-blocked-p99-us gates the async design: this run has only blocking$/],
    [['save', '--max-slowdown', '3', '--connector', 'off'], /^Error: --max-slowdown gates the designs beside the forward: --connector off runs none$/],
  ]
  for (const [args, pattern] of cases) {
    const r = kvbench(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr.trim(), pattern)
  }
})

test('--output writes the envelope while the table goes to stdout; --json unchanged', () => {
  const out = join(tmp, 'env.json')
  const r = kvbench(['env', '-o', out])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /Locked-memory limit/)
  const j = JSON.parse(readFileSync(out, 'utf8'))
  assertSchema('env.schema.json', j)
  assert.deepEqual(j.run.argv, ['-o', out])
  const both = join(tmp, 'both.json')
  const js = kvbenchJson(['profiles', '--output', both])
  assert.deepEqual(JSON.parse(readFileSync(both, 'utf8')), js.json)
  // every command has it
  for (const cmd of [['save'], ['load'], ['env'], ['profiles'], ['audit-streams'], ['backend', 'bench'], ['compare'], ['export']]) {
    assert.match(kvbench([...cmd, '--help']).stdout, /-o, --output=FILE/, cmd.join(' '))
  }
  // no temporary file is left beside it
  assert.deepEqual(readdirSync(tmp).filter((f) => f.endsWith('.tmp')), [])
})

test('--output with an error writes the error envelope, also for a flag oclif rejects', () => {
  const out = join(tmp, 'err.json')
  const r = kvbench(['env', '--device', '9', '-o', out])
  assert.equal(r.code, 2)
  const j = JSON.parse(readFileSync(out, 'utf8'))
  assertSchema('env.schema.json', j)
  assert.equal(j.status, 'error')
  assert.match(j.error.message, /^no GPU 9/)
  const parse = join(tmp, 'parse.json')
  assert.equal(kvbench(['env', '--frob', `--output=${parse}`]).code, 2)
  assert.match(JSON.parse(readFileSync(parse, 'utf8')).error.message, /Nonexistent flag: --frob/)
})

test('--output to a directory, a missing directory or an unwritable path: exit 2 before any work, nothing written', () => {
  const ro = join(tmp, 'ro')
  mkdirSync(ro)
  chmodSync(ro, 0o555)
  const asRoot = process.getuid?.() === 0
  const cases = [
    [tmp, /^Error: --output \S+ is a directory; give a file name$/],
    [join(tmp, 'no', 'such', 'x.json'), /^Error: --output \S+x\.json: directory \S+such does not exist$/],
    ...(asRoot ? [] : [[join(ro, 'x.json'), /^Error: --output \S+x\.json: not writable$/]]),
  ]
  for (const [path, pattern] of cases) {
    const r = kvbench(['backend', 'bench', '--mib', '4', '-o', path])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stdout, '', 'nothing ran')
    assert.match(r.stderr.trim(), pattern)
  }
  assert.equal(existsSync(join(ro, 'x.json')), false)
})
