// The native sources are listed once (native/sources.txt) for binding.gyp and native/Makefile:
// every source of the core and the addon is in it exactly once, and every listed file exists.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const NATIVE = join(ROOT, 'native')

function sourcesUnder(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? sourcesUnder(join(dir, e.name)) : /\.(cc|cu)$/.test(e.name) ? [relative(NATIVE, join(dir, e.name))] : [],
  )
}

test('native/sources.txt lists every core and addon source once, and nothing that is not there', () => {
  const listed = readFileSync(join(NATIVE, 'sources.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => l.split(/\s+/)[1])
  const present = [...sourcesUnder(join(NATIVE, 'core')), ...sourcesUnder(join(NATIVE, 'addon'))].sort()
  assert.deepEqual([...listed].sort(), present)
  assert.equal(new Set(listed).size, listed.length)
  for (const f of listed) assert.ok(existsSync(join(NATIVE, f)), f)
})

test('binding.gyp and the Makefile read the groups from that list', () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts', 'native-sources.cjs'), 'cuda', 'tier'], {encoding: 'utf8'}).trim().split(' ')
  assert.ok(out.includes('native/core/run/save_load.cu') && out.includes('native/core/connector/store_tier.cc'))
  assert.ok(!out.some((f) => f.includes('addon/')))
  assert.throws(() => execFileSync(process.execPath, [join(ROOT, 'scripts', 'native-sources.cjs'), 'nosuch'], {stdio: 'pipe'}))
  const make = execFileSync('make', ['-s', '-n', '-C', NATIVE, 'build/store_tier_test', '-B'], {encoding: 'utf8'})
  for (const f of ['core/connector/store_tier.cc', 'core/backends/open_store.cc']) assert.ok(make.includes(f), f)
})
