// kvbench export: every format against its schema (github-action-benchmark and BMF written from
// those projects' documented formats), stable names, JUnit of gates and verifications.
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'
import {tempDir} from './helpers/temp-dir.mjs'

const DIR = join(ROOT, 'test/fixtures/results')
const F = (name) => join(DIR, name)
const ALL = ['save-h200.json', 'load-h200.json', 'backend-host-h200.json', 'backend-file-h200.json', 'env-h200.json', 'audit-h200.json'].map(F)

test('every result fixture validates against its kind\'s schema', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'))
  assert.ok(files.length >= 16)
  for (const f of files) {
    const j = JSON.parse(readFileSync(F(f), 'utf8'))
    assertSchema(`${j.kind}.schema.json`, j)
  }
})

test('github-action-benchmark: one array per direction, each valid, no figure in both', () => {
  const bigger = kvbench(['export', ...ALL, '--format', 'github-action-benchmark', '--direction', 'bigger'])
  const smaller = kvbench(['export', ...ALL, '--format', 'github-action-benchmark', '--direction', 'smaller'])
  assert.equal(bigger.code, 0, bigger.stderr)
  const b = JSON.parse(bigger.stdout)
  const s = JSON.parse(smaller.stdout)
  assertSchema('github-action-benchmark.schema.json', b)
  assertSchema('github-action-benchmark.schema.json', s)
  const bn = new Set(b.map((e) => e.name))
  assert.ok(bn.has('save/llama-3.1-8b/async/staged/moved_pct_of_ceiling'))
  assert.ok(bn.has('env/h2d_pinned/gbps'))
  assert.ok(bn.has('backend-bench/file/llama-3.1-8b/block/get_gbps'))
  assert.ok(s.some((e) => e.name === 'save/llama-3.1-8b/async/staged/slowdown_pct' && e.unit === '%'))
  assert.ok(s.some((e) => e.name === 'load/llama-3.1-8b/async/staged/blocked_p99_us' && e.unit === 'us'))
  assert.ok(!s.some((e) => bn.has(e.name)))
  // a figure with a spread carries it as range, and where it ran in extra
  const staged = b.find((e) => e.name === 'save/llama-3.1-8b/alone/staged/save_pct_of_ceiling')
  assert.match(staged.range, /^± [\d.]+$/)
  assert.match(staged.extra, /p10-p90 of 8 timed groups: [\d.]+-[\d.]+\nNVIDIA H200, driver 580\.159\.04, kvbench [0-9a-f]{7}/)
  // the schema can fail
  assert.throws(() => assertSchema('github-action-benchmark.schema.json', [{name: 'x', value: '1', unit: 'GB/s'}]), /value/)
})

test('bencher: BMF with lower and upper values where there is a spread', () => {
  const r = kvbench(['export', ...ALL, '--format', 'bencher'])
  assert.equal(r.code, 0, r.stderr)
  const bmf = JSON.parse(r.stdout)
  assertSchema('bmf.schema.json', bmf)
  const m = bmf['save/llama-3.1-8b/alone/staged'].save_pct_of_ceiling
  assert.ok(m.lower_value <= m.value && m.value <= m.upper_value)
  assert.equal(typeof bmf['save/llama-3.1-8b/async/staged'].moved_pct_of_ceiling.value, 'number')
  assert.equal(bmf['save/llama-3.1-8b/async/staged'].verified, undefined, 'checks go to JUnit, not dashboards')
  assert.throws(() => assertSchema('bmf.schema.json', {b: {m: {lower_value: 1}}}), /value/)
})

test('the same names in every format, compare and gates', () => {
  const csv = kvbench(['export', F('save-h200.json'), '--format', 'csv']).stdout
  const gab = [
    ...JSON.parse(kvbench(['export', F('save-h200.json'), '--format', 'github-action-benchmark', '--direction', 'bigger']).stdout),
    ...JSON.parse(kvbench(['export', F('save-h200.json'), '--format', 'github-action-benchmark', '--direction', 'smaller']).stdout),
  ].map((e) => e.name)
  const bmf = Object.entries(JSON.parse(kvbench(['export', F('save-h200.json'), '--format', 'bencher']).stdout)).flatMap(([b, ms]) => Object.keys(ms).map((m) => `${b}/${m}`))
  const compared = kvbenchJson(['compare', F('save-h200.json'), F('save-h200.json')]).json.results.rows.map((r) => r.metric)
  const lines = csv.trim().split('\r\n')
  assert.equal(lines[0], 'metric,unit,better,value,lower,upper,spread,runs,context,text,where')
  const csvNames = lines.slice(1).map((l) => l.split(',')[0])
  assert.deepEqual([...gab].sort(), [...bmf].sort())
  assert.deepEqual([...csvNames].sort(), [...compared].sort())
  for (const n of gab) assert.ok(csvNames.includes(n), n)
  const gated = JSON.parse(readFileSync(F('save-h200.json'), 'utf8')).results.gates.map((g) => g.metric)
  for (const n of gated) assert.ok(csvNames.includes(n), n)
})

/** A small well-formedness check: tags nest, attributes are quoted, entities are known. */
function assertWellFormedXml(text) {
  assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n/)
  const stack = []
  for (const m of text.replace(/^<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(amp|lt|gt|quot|apos);)/g)) {
    if (m[2] === undefined) assert.fail(`stray markup at ${m.index}: ${text.slice(m.index, m.index + 40)}`)
    if (m[1]) assert.equal(stack.pop(), m[2], `closing ${m[2]} at ${m.index}`)
    else if (!m[4]) stack.push(m[2])
  }
  assert.deepEqual(stack, [])
}

test('junit: each run, gate, verification and verdict a test case; failures counted', () => {
  const r = kvbench(['export', F('save-h200.json'), F('load-h200.json'), F('audit-h200.json'), '--format', 'junit'])
  assert.equal(r.code, 0, r.stderr)
  const x = r.stdout
  assertWellFormedXml(x)
  assert.match(x, /<testsuites name="kvbench" tests="\d+" failures="1" skipped="2">/)
  // the load run's gate that failed on the card, the one that passed
  assert.match(x, /<testcase classname="kvbench.load" name="gate --max-slowdown load\/llama-3.1-8b\/blocking\/staged\/slowdown_pct &lt;= 15"><failure message="value 17\.2\d+"\/><\/testcase>/)
  assert.match(x, /<testcase classname="kvbench.load" name="gate --max-slowdown load\/llama-3.1-8b\/async\/staged\/slowdown_pct &lt;= 15"\/>/)
  assert.match(x, /name="save\/llama-3.1-8b\/async\/staged\/verified"\/>/)
  assert.match(x, /name="audit-streams\/native\/cross-device-stream\/CUDA_runtime\/verdict"><skipped message="SKIP"\/>/)
  // HAZARD fails the audit only under --strict, and so in JUnit
  assert.match(x, /default-stream-mode\/CUDA_runtime\/verdict"\/>/)
})

test('junit takes an error envelope as a failed run; other formats refuse it', () => {
  const file = join(tempDir('kvbench-export-'), 'error.json')
  writeFileSync(file, kvbench(['env', '--device', '9', '--json']).stdout)
  const r = kvbench(['export', file, '--format', 'junit'])
  assert.equal(r.code, 0, r.stderr)
  assertWellFormedXml(r.stdout)
  assert.match(r.stdout, /<testcase classname="kvbench.env" name="run"><failure message="error NO_DEVICE: no GPU 9: this host has/)
  const csv = kvbench(['export', file, '--format', 'csv'])
  assert.equal(csv.code, 2)
  assert.match(csv.stderr, /^Error: RESULT \S+error\.json is an error envelope/)
})

test('--json is the envelope with the document inside; bad input exits 2 naming the flag', () => {
  const r = kvbenchJson(['export', F('env-h200.json'), '--format', 'bencher'])
  assert.equal(r.code, 0)
  assertSchema('export.schema.json', r.json)
  assert.deepEqual(JSON.parse(r.json.results.document), JSON.parse(kvbench(['export', F('env-h200.json'), '--format', 'bencher']).stdout))
  const cases = [
    [['export', F('env-h200.json'), '--format', 'github-action-benchmark'], /^Error: --direction is required with --format github-action-benchmark/],
    [['export', F('env-h200.json'), '--format', 'csv', '--direction', 'bigger'], /^Error: --direction applies to --format github-action-benchmark only/],
    [['export', F('env-h200.json'), '--format', 'xml'], /^Error: Expected --format=xml to be one of/],
    [['export', F('env-h200.json')], /^Error: .*Missing required flag format/],
    [['export', '--format', 'csv'], /^Error: Missing 1 required arg/],
    [['export', join(DIR, 'nope.json'), '--format', 'csv'], /^Error: RESULT \S+nope\.json does not exist$/],
  ]
  for (const [args, pattern] of cases) {
    const x = kvbench(args)
    assert.equal(x.code, 2, `${args.join(' ')}: ${x.stderr}`)
    assert.equal(x.stdout, '')
    assert.match(x.stderr.trim(), pattern)
  }
})
