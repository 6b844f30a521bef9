// Benchmark (not a test): `kvbench compare` of 100 result files, as a CI job with a long history
// would run it. 99 repeats of a real H200 save run as NEW against one BASE; the median of 5 walls.
//   node scripts/bench-compare.mjs
import {execFileSync} from 'node:child_process'
import {copyFileSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const src = 'test/fixtures/results/save-h200.json'
const dir = mkdtempSync(join(tmpdir(), 'kvbench-bench-compare-'))
const files = Array.from({length: 100}, (_, i) => join(dir, `save-${i}.json`))
for (const f of files) copyFileSync(src, f)
const walls = []
for (let i = 0; i < 5; i++) {
  const t0 = performance.now()
  execFileSync(process.execPath, ['bin/run.js', 'compare', ...files, '--json'], {stdio: ['ignore', 'ignore', 'inherit']})
  walls.push(performance.now() - t0)
}
const help = []
for (let i = 0; i < 5; i++) {
  const t0 = performance.now()
  execFileSync(process.execPath, ['bin/run.js', '--version'], {stdio: 'ignore'})
  help.push(performance.now() - t0)
}
rmSync(dir, {recursive: true, force: true})
const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1]
console.log(`kvbench compare, 100 files (${src}, 1 BASE + 99 NEW): median ${med(walls).toFixed(0)} ms of ${walls.map((w) => w.toFixed(0)).join(', ')}; kvbench --version alone ${med(help).toFixed(0)} ms`)
