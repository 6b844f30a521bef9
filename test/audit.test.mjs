// audit-streams without a GPU (CI): arguments, verdict logic, a missing Python, a Python
// without torch, no GPU: each a SKIP with its reason or a one-line error, never a crash.
import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, test} from 'node:test'

import {countVerdicts, exitCodeFor} from '../dist/core/audit.js'
import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const fixtures = join(ROOT, 'test', 'fixtures')
const dir = mkdtempSync(join(tmpdir(), 'kvbench-audit-'))
after(() => rmSync(dir, {recursive: true, force: true}))

/** A stand-in Python that prints a fixed probe report: exercises parsing, verdicts and exit codes. */
function fakePython(report) {
  const file = join(dir, `python-${Math.random().toString(36).slice(2)}`)
  writeFileSync(file, `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(report)}\nJSON\n`)
  chmodSync(file, 0o755)
  return file
}
const probe = (outcome, id = 'accessor-isolation') => ({id, target: 'eng.utils:current_stream', outcome, evidence: `saw ${outcome}`, fix: outcome === 'leak' ? 'use threading.local()' : null, kind: 'audit'})

test('verdict logic: LEAK and ERROR fail, HAZARD only under --strict, reproductions do not count', () => {
  const v = (verdict, kind = 'audit') => ({layer: 'python', kind, probe: 'p', target: 't', verdict, evidence: 'e', fix: null})
  assert.equal(exitCodeFor([v('PASS'), v('SKIP')], false), 0)
  assert.equal(exitCodeFor([v('PASS'), v('LEAK')], false), 1)
  assert.equal(exitCodeFor([v('ERROR')], false), 1)
  assert.equal(exitCodeFor([v('HAZARD')], false), 0)
  assert.equal(exitCodeFor([v('HAZARD')], true), 1)
  assert.equal(exitCodeFor([v('HAZARD', 'reproduction')], true), 0)
  assert.deepEqual(countVerdicts([v('PASS'), v('PASS'), v('LEAK')]), {PASS: 2, LEAK: 1, HAZARD: 0, SKIP: 0, ERROR: 0})
})

test('no GPU and no torch: every probe is a SKIP with its reason, exit 0', () => {
  const r = kvbenchJson(['audit-streams'])
  assert.equal(r.code, 0, r.stderr)
  assertSchema('audit-streams.schema.json', r.json)
  const probes = r.json.results.probes
  assert.ok(probes.length >= 5)
  for (const p of probes) {
    assert.equal(p.verdict, 'SKIP', JSON.stringify(p))
    assert.ok(p.evidence.length > 0)
  }
  assert.match(probes.find((p) => p.layer === 'python').evidence, /torch is not importable: ModuleNotFoundError/)
  assert.match(probes.find((p) => p.layer === 'native').evidence, /no GPU|built without CUDA/)
})

test('a missing default Python is a SKIP; a missing --python is a one-line error, exit 2', () => {
  const r = kvbenchJson(['audit-streams'], {env: {PATH: dirname(process.execPath) === '/usr/bin' ? '/nonexistent' : dirname(process.execPath)}})
  // bin/run.js is started with an absolute node path, so PATH only affects the probes.
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.json.results.probes.find((p) => p.layer === 'python').evidence, /python3 not found on PATH/)
  const e = kvbench(['audit-streams', '--python', '/nonexistent/python3'])
  assert.equal(e.code, 2)
  assert.equal(e.stderr, 'Error: --python /nonexistent/python3: no such file\n')
})

test('bad accessors and imports: one-line errors naming the flag, exit 2', () => {
  const env = {PYTHONPATH: fixtures}
  const cases = [
    [['--accessor', 'vllm.utils.current_stream'], /^Error: --accessor vllm.utils.current_stream: expected module:attr/],
    [['--accessor', 'broken_import:current_stream'], /^Error: --accessor broken_import:current_stream: import failed: RuntimeError: engine failed to initialise: no config$/],
    [['--accessor', 'not_callable:current_stream'], /^Error: --accessor not_callable:current_stream: current_stream is a int, not callable$/],
    [['--accessor', 'json:no_such_function'], /^Error: --accessor json:no_such_function: no attribute: AttributeError/],
    [['--import', 'no_such_engine_module'], /^Error: --import no_such_engine_module: ModuleNotFoundError: No module named 'no_such_engine_module'$/],
    [['--trials', '0'], /^Error: --trials must be between 1 and 1000, got 0$/],
    [['--reproduce', 'segfault'], /Expected --reproduce=segfault to be one of: nan, invalid-handle/],
  ]
  for (const [args, re] of cases) {
    const r = kvbench(['audit-streams', ...args], {env})
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr.trim(), re)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  }
})

test('a LEAK reported by the Python side fails the audit (exit 1) with its evidence and fix', () => {
  const py = fakePython({python: '3.12.0', executable: '/fake/python', torch: '2.11', skip: null, probes: [probe('pass', 'torch-baseline'), probe('leak')]})
  const r = kvbenchJson(['audit-streams', '--python', py, '--accessor', 'eng.utils:current_stream'])
  assert.equal(r.code, 1)
  assertSchema('audit-streams.schema.json', r.json)
  const leak = r.json.results.probes.find((p) => p.verdict === 'LEAK')
  assert.equal(leak.fix, 'use threading.local()')
  assert.equal(r.json.results.counts.LEAK, 1)
  const table = kvbench(['audit-streams', '--python', py])
  assert.match(table.stdout, /accessor-isolation.*LEAK.*saw leak/)
})

test('HAZARD passes by default and fails with --strict', () => {
  const py = fakePython({python: '3.12.0', torch: '2.11', skip: null, probes: [probe('hazard', 'patch-detection')]})
  assert.equal(kvbench(['audit-streams', '--python', py]).code, 0)
  assert.equal(kvbench(['audit-streams', '--python', py, '--strict']).code, 1)
})

test('a --python that prints garbage is bad input (it checked nothing); one that hangs is reported, never a crash', () => {
  const garbage = join(dir, 'garbage-python')
  writeFileSync(garbage, '#!/bin/sh\necho "Traceback: boom" >&2\nexit 3\n')
  chmodSync(garbage, 0o755)
  const r = kvbenchJson(['audit-streams', '--python', garbage])
  assert.equal(r.code, 2)
  assert.match(r.json.error.message, /--python .*garbage-python: not a Python that runs kvbench's probes \(exit 3\): Traceback: boom/)
  const hang = join(dir, 'hang-python')
  writeFileSync(hang, '#!/bin/sh\nexec sleep 600\n')
  chmodSync(hang, 0o755)
  const h = kvbenchJson(['audit-streams', '--python', hang, '--timeout', '1'])
  assert.equal(h.code, 1)
  assert.match(h.json.results.probes.find((p) => p.layer === 'python').evidence, /timed out after 16 s/)
})
