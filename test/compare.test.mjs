// kvbench compare: directions, the noise rule, repeat runs, exit codes and bad input, on real
// H200 results (test/fixtures/results/README.md says where each came from).
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {judge, DEFAULT_THRESHOLDS} from '../dist/core/compare/compare.js'
import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'
import {tempDir} from './helpers/temp-dir.mjs'

const F = (name) => join(ROOT, 'test/fixtures/results', name)
const tmp = tempDir('kvbench-compare-')
const edited = (name, edit) => {
  const j = JSON.parse(readFileSync(F(name), 'utf8'))
  edit(j)
  const p = join(tmp, `${Math.random().toString(36).slice(2)}-${name}`)
  writeFileSync(p, JSON.stringify(j))
  return p
}
const row = (r, metric) => r.json.results.rows.find((x) => x.metric === metric)
const side = (value, lo = null, hi = null) => ({value, lo, hi, spread: lo === null ? null : 'p10-p90', runs: 1, text: null})
const metric = (unit, better) => ({unit, better})

test('a figure is judged in its direction', () => {
  const t = DEFAULT_THRESHOLDS
  assert.equal(judge(metric('GB/s', 'bigger'), side(50), side(45), t).verdict, 'regression')
  assert.equal(judge(metric('GB/s', 'bigger'), side(50), side(55), t).verdict, 'improved')
  assert.equal(judge(metric('ms', 'smaller'), side(10), side(11), t).verdict, 'regression')
  assert.equal(judge(metric('ms', 'smaller'), side(10), side(9), t).verdict, 'improved')
  assert.equal(judge(metric('GB/s', 'bigger'), side(50), side(49), t).verdict, 'same', '2% is within the default 3%')
  // percentages move by points: 2 points of slowdown is a regression, 0.5 is not
  assert.equal(judge(metric('%', 'smaller'), side(2), side(4), t).verdict, 'regression')
  assert.equal(judge(metric('%', 'smaller'), side(2), side(2.5), t).verdict, 'same')
  // µs figures must also move by a microsecond: 0.1 -> 0.3 µs is the clock's noise
  assert.equal(judge(metric('us', 'smaller'), side(0.1), side(0.3), t).verdict, 'same')
  assert.equal(judge(metric('us', 'smaller'), side(5), side(9), t).verdict, 'regression')
  // checks and verdicts: any step worse
  assert.equal(judge(metric('check', 'bigger'), {...side(1), text: 'passed'}, {...side(0), text: 'FAILED'}, t).verdict, 'regression')
  assert.equal(judge(metric('verdict', 'smaller'), {...side(0), text: 'PASS'}, {...side(3), text: 'LEAK'}, t).verdict, 'regression')
  assert.equal(judge(metric('verdict', 'smaller'), {...side(2), text: 'HAZARD'}, {...side(0), text: 'PASS'}, t).verdict, 'improved')
})

test('the noise rule: a change inside the spread is not a regression; the same change with no spread is', () => {
  const t = DEFAULT_THRESHOLDS
  const m = metric('GB/s', 'bigger')
  assert.equal(judge(m, side(50, 44, 52), side(45), t).verdict, 'same')
  assert.match(judge(m, side(50, 44, 52), side(45), t).why, /inside the spread/)
  assert.equal(judge(m, side(50), side(45), t).verdict, 'regression')
  // the spread of NEW counts as well as BASE's
  assert.equal(judge(m, side(50), side(45, 44, 51), t).verdict, 'same')
  // outside both spreads: a regression, and it says so
  assert.match(judge(m, side(50, 49, 51), side(45, 44, 46), t).why, /outside the spread/)
})

test('the same run against itself: every figure same, exit 0, the JSON valid', () => {
  const r = kvbenchJson(['compare', F('save-h200.json'), F('save-h200.json')])
  assert.equal(r.code, 0, r.stderr)
  assertSchema('compare.schema.json', r.json)
  const c = r.json.results
  assert.equal(c.regressions, 0)
  assert.equal(c.counts.same, c.rows.length)
  assert.ok(c.rows.length > 40, `${c.rows.length} figures`)
  assert.ok(row(r, 'save/llama-3.1-8b/async/staged/moved_pct_of_ceiling'))
})

test('a regression exits 1 and names each figure; improvements never fail', () => {
  const r = kvbenchJson(['compare', F('save-async-h200-1.json'), F('save-async-h200-regressed.json')])
  assert.equal(r.code, 1)
  assertSchema('compare.schema.json', r.json)
  for (const m of ['moved_pct_of_ceiling', 'moved_gbps', 'slowdown_pct']) {
    assert.equal(row(r, `save/llama-3.1-8b/async/staged/${m}`).verdict, 'regression', m)
  }
  // the other way round the edits are improvements: exit 0
  const back = kvbenchJson(['compare', F('save-async-h200-regressed.json'), F('save-async-h200-1.json')])
  assert.equal(row(back, 'save/llama-3.1-8b/async/staged/moved_pct_of_ceiling').verdict, 'improved')
})

test('repeat runs: real run-to-run noise of one build is inside the spread of repeated BASE runs', () => {
  // One BASE run against another: the host-noisy async blocking figures of one build differ 2-3x.
  const single = kvbenchJson(['compare', F('save-async-h200-3.json'), F('save-async-h200-1.json'), F('save-async-h200-2.json')])
  assert.equal(single.code, 1)
  assert.equal(row(single, 'save/llama-3.1-8b/async/staged/blocked_p99_us').verdict, 'regression')
  assert.equal(row(single, 'save/llama-3.1-8b/async/staged/blocked_p99_us').new.runs, 2)
  // With the baseline's repeats as BASE, the third run of the same build is no regression ...
  const r = kvbenchJson(['compare', '--base', F('save-async-h200-1.json'), '--base', F('save-async-h200-2.json'), F('save-async-h200-3.json')])
  assert.equal(r.code, 0, JSON.stringify(r.json.results.rows.filter((x) => x.verdict === 'regression').map((x) => x.metric)))
  assert.equal(r.json.results.base.length, 2)
  // ... and the edited copy of it still is.
  const bad = kvbench(['compare', '--base', F('save-async-h200-1.json'), '--base', F('save-async-h200-2.json'), F('save-async-h200-regressed.json')])
  assert.equal(bad.code, 1)
  assert.match(bad.stdout, /moved_pct_of_ceiling .*REGRESSION/)
})

test('a figure that NEW lacks is a regression; a verification that fails is one', () => {
  const lost = edited('save-async-h200-2.json', (j) => {
    const d = j.results.designs.find((x) => x.design === 'async')
    d.blockedPerStepUs = null
    d.verified = false
  })
  const r = kvbenchJson(['compare', F('save-async-h200-1.json'), lost])
  assert.equal(r.code, 1)
  assert.equal(row(r, 'save/llama-3.1-8b/async/staged/blocked_p99_us').verdict, 'missing')
  assert.equal(row(r, 'save/llama-3.1-8b/async/staged/verified').verdict, 'regression')
})

test('--strategy auto picking another strategy pairs the design by its name, with a note', () => {
  const other = edited('save-async-h200-2.json', (j) => {
    for (const d of j.results.designs) if (d.design === 'async') d.strategy = 'batch'
  })
  const r = kvbenchJson(['compare', F('save-async-h200-1.json'), other])
  assert.equal(r.code, 0)
  assert.equal(row(r, 'save/llama-3.1-8b/async/staged/moved_pct_of_ceiling').verdict, 'same')
  assert.ok(r.json.notes.some((n) => /async ran with batch .* staged .*auto picked differently/.test(n)), r.json.notes.join('\n'))
})

test('env, backend bench, load and audit results compare per ceiling, record size, design and probe', () => {
  const env = kvbenchJson(['compare', F('env-h200-c834328.json'), F('env-h200.json')])
  assert.equal(env.code, 0)
  assert.equal(row(env, 'env/h2d_pinned/gbps').verdict, 'same')
  assert.equal(row(env, 'env/h2d_pinned/gbps').base.spread, 'p10-p90 of 20 samples')
  const slower = edited('backend-host-h200.json', (j) => (j.results.sizes[0].put.gbps /= 2))
  const bb = kvbenchJson(['compare', F('backend-host-h200.json'), slower])
  assert.equal(bb.code, 1)
  assert.equal(row(bb, 'backend-bench/host/llama-3.1-8b/chunk/put_gbps').verdict, 'regression')
  const load = kvbenchJson(['compare', F('load-h200.json'), F('load-h200.json')])
  assert.ok(row(load, 'load/llama-3.1-8b/async/staged/moved_pct_of_ceiling'))
  const leak = edited('audit-h200.json', (j) => (j.results.probes.find((p) => p.probe === 'torch-baseline').verdict = 'LEAK'))
  const audit = kvbenchJson(['compare', F('audit-h200.json'), leak])
  assert.equal(audit.code, 1)
  const v = row(audit, 'audit-streams/python/torch-baseline/torch.cuda.current_stream/verdict')
  assert.equal(v.verdict, 'regression')
  assert.equal(v.why, 'PASS -> LEAK')
})

test('a different GPU or driver is a note, not a refusal', () => {
  const h100 = edited('env-h200.json', (j) => {
    j.environment.gpus[0].name = 'NVIDIA H100 80GB HBM3'
    j.environment.cuda.driverRelease = '570.1'
  })
  const r = kvbenchJson(['compare', F('env-h200.json'), h100])
  assert.equal(r.code, 0)
  assert.ok(r.json.notes.some((n) => /ran elsewhere: GPU NVIDIA H200 vs NVIDIA H100 80GB HBM3 \(BASE first\)/.test(n)), r.json.notes.join('\n'))
  assert.ok(r.json.notes.some((n) => /driver/.test(n)))
})

test('--format markdown fits a PR comment and --summary appends it to $GITHUB_STEP_SUMMARY', () => {
  const summary = join(tmp, 'summary.md')
  writeFileSync(summary, '# earlier step\n')
  const r = kvbench(['compare', F('save-async-h200-1.json'), F('save-async-h200-regressed.json'), '--format', 'markdown', '--summary'], {env: {GITHUB_STEP_SUMMARY: summary}})
  assert.equal(r.code, 1)
  assert.match(r.stdout, /^### ❌ kvbench compare save: \d+ regressions/)
  assert.match(r.stdout, /\| `save\/llama-3.1-8b\/async\/staged\/moved_pct_of_ceiling` \| 97.06% \| 89.31% \| -7.74 pts \| REGRESSION \|/)
  assert.match(r.stdout, /<details><summary>All \d+ figures<\/summary>/)
  assert.equal(readFileSync(summary, 'utf8'), `# earlier step\n${r.stdout}`)
  // --format json is the envelope
  const j = kvbench(['compare', F('save-h200.json'), F('save-h200.json'), '--format', 'json'])
  assertSchema('compare.schema.json', JSON.parse(j.stdout))
})

test('bad input: one line naming the file or flag, exit 2, nothing written', () => {
  const notJson = join(tmp, 'not.json')
  writeFileSync(notJson, 'hello')
  const notEnvelope = join(tmp, 'plain.json')
  writeFileSync(notEnvelope, '{"a": 1}')
  const major2 = edited('env-h200.json', (j) => (j.schemaVersion = '2.0.0'))
  const errorBase = join(tmp, 'error.json')
  writeFileSync(errorBase, kvbench(['env', '--device', '9', '--json']).stdout)
  const out = join(tmp, 'never.json')
  const cases = [
    [[join(tmp, 'missing.json'), F('env-h200.json')], /^Error: BASE \S+missing\.json does not exist$/],
    [[notJson, F('env-h200.json')], /^Error: BASE \S+not\.json is not JSON/],
    [[notEnvelope, F('env-h200.json')], /^Error: BASE \S+plain\.json is not a kvbench result envelope/],
    [[major2, F('env-h200.json')], /^Error: BASE \S+ is schema 2\.x; this kvbench reads 1\.x$/],
    [[errorBase, F('env-h200.json')], /^Error: BASE \S+error\.json is an error envelope \(no GPU 9/],
    [[F('env-h200.json'), F('save-h200.json')], /^Error: NEW \S+save-h200\.json is a save result and BASE \S+ a env result: compare results of one kind$/],
    [[F('save-h200.json'), F('save-async-h200-1.json')], /^Error: NEW \S+ is not comparable with BASE \S+: designs off, async, blocking vs off, async$/],
    [[F('save-h200.json'), F('load-h200.json')], /^Error: NEW \S+ is a load result and BASE \S+ a save result/],
    [[F('env-h200.json'), F('env-h200.json'), '--threshold', '-1'], /^Error: --threshold must be a positive number, got -1$/],
    [[F('env-h200.json'), F('env-h200.json'), '--threshold-points', 'x'], /^Error: --threshold-points must be a positive number, got x$/],
    [[F('env-h200.json'), F('env-h200.json'), '--format', 'html'], /^Error: Expected --format=html to be one of: table, markdown, json/],
    [[F('env-h200.json')], /^Error: compare needs a NEW result/],
    [[F('env-h200.json'), F('env-h200.json'), '--output', tmp], /^Error: --output \S+ is a directory; give a file name$/],
  ]
  for (const [args, pattern] of cases) {
    const r = kvbench(['compare', ...args, ...(args.includes('--output') ? [] : ['-o', out])])
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr.trim(), pattern)
  }
  // a profile that differs names its field; so does a different workload
  const steps = edited('save-async-h200-1.json', (j) => (j.results.workload.steps = 100))
  const r = kvbench(['compare', F('save-async-h200-1.json'), steps])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /workload\.steps 200 vs 100/)
  // the error envelopes went to -o (as asked), never a results file: only the last one is there
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).status, 'error')
})
