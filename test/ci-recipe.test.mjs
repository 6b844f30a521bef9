// The README's CI recipes, as written there: their `kvbench export` and `kvbench compare` lines
// run on real H200 results (the `kvbench save` lines need the GPU; their outputs are the fixtures).
import assert from 'node:assert/strict'
import {chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {spawnSync} from 'node:child_process'
import {test} from 'node:test'

import {ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'
import {tempDir} from './helpers/temp-dir.mjs'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const recipe = readme.slice(readme.indexOf('### CI recipe'), readme.indexOf('## Portable bundle'))
const lines = [...recipe.matchAll(/^\s*- (?:run: )?(kvbench (?:export|compare) .*)$/gm)].map((m) => m[1])
const F = (name) => join(ROOT, 'test/fixtures/results', name)

/** A runner's checkout: the baseline of three runs, and this run's three outputs. */
function workspace(newRuns) {
  const dir = tempDir('kvbench-ci-')
  mkdirSync(join(dir, 'kvbench-baseline'))
  mkdirSync(join(dir, 'bin'))
  for (const i of [1, 2, 3]) copyFileSync(F(`save-async-h200-${i}.json`), join(dir, 'kvbench-baseline', `save-${i}.json`))
  newRuns.forEach((f, i) => copyFileSync(F(f), join(dir, `save-${i + 1}.json`)))
  const shim = join(dir, 'bin', 'kvbench')
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'run.js')}" "$@"\n`)
  chmodSync(shim, 0o755)
  return dir
}

function sh(dir, line, env = {}) {
  const r = spawnSync('/bin/sh', ['-c', line], {cwd: dir, encoding: 'utf8', env: {...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, ...env}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

test('the README has both recipes and their export and compare lines', () => {
  assert.match(recipe, /runs-on: \[self-hosted, gpu\]/)
  assert.match(recipe, /tags: \[gpu\]/)
  assert.ok(lines.filter((l) => l.startsWith('kvbench compare')).length === 2, lines.join('\n'))
  assert.ok(lines.filter((l) => l.startsWith('kvbench export')).length === 4, lines.join('\n'))
})

test('a run of the same build: exports valid, compare passes', () => {
  // The fourth async save of that build on the card stands for this run's three.
  const dir = workspace(['save-async-h200-gate-failed.json', 'save-async-h200-gate-failed.json', 'save-async-h200-gate-failed.json'])
  const summary = join(dir, 'summary.md')
  for (const line of lines) {
    const r = sh(dir, line, {GITHUB_STEP_SUMMARY: summary})
    assert.equal(r.code, 0, `${line}\n${r.stdout}\n${r.stderr}`)
  }
  assertSchema('github-action-benchmark.schema.json', JSON.parse(readFileSync(join(dir, 'bigger.json'), 'utf8')))
  assertSchema('github-action-benchmark.schema.json', JSON.parse(readFileSync(join(dir, 'smaller.json'), 'utf8')))
  assert.match(readFileSync(join(dir, 'kvbench-junit.xml'), 'utf8'), /<testsuites name="kvbench" tests="\d+" failures="3"/, 'the run\'s failed gate, once per file')
  assert.match(readFileSync(join(dir, 'kvbench.csv'), 'utf8'), /^metric,unit,better,/)
  assert.match(readFileSync(summary, 'utf8'), /^### ✅ kvbench compare save: no regression/)
})

test('a regressed run: the compare lines fail the job with exit 1', () => {
  const dir = workspace(['save-async-h200-regressed.json', 'save-async-h200-regressed.json', 'save-async-h200-regressed.json'])
  for (const line of lines.filter((l) => l.startsWith('kvbench compare'))) {
    const r = sh(dir, line)
    assert.equal(r.code, 1, `${line}\n${r.stderr}`)
    assert.match(r.stdout, /^### ❌ kvbench compare save: \d+ regressions/)
    assert.match(r.stdout, /moved_pct_of_ceiling` \| 97\.\d+% \[[\d.-]+\] \(3 runs\) \| 89\.31% \[[\d.-]+\] \(3 runs\) \| -7\.\d+ pts \| REGRESSION/)
  }
})
