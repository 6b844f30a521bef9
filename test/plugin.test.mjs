// Store plugins through the C ABI in native/include/kvbench_store.h: the example plugin
// (test/fixtures/plugin/example_store.c) built here, and the ways a plugin can be wrong.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const haveCc = spawnSync('cc', ['--version']).status === 0
const dir = mkdtempSync(join(tmpdir(), 'kvbench-plugin-'))
after(() => rmSync(dir, {recursive: true, force: true}))

function build(name, defines = []) {
  const out = join(dir, `lib${name}.so`)
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', `-I${join(ROOT, 'native', 'include')}`, ...defines, '-o', out, join(ROOT, 'test', 'fixtures', 'plugin', 'example_store.c'), '-lpthread'], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  return out
}

describe('store plugins', {skip: haveCc ? false : 'no C compiler (cc) to build the example plugin'}, () => {
  let ok, noError, v2
  before(() => {
    ok = build('example_store')
    noError = build('no_last_error', ['-DOMIT_LAST_ERROR'])
    v2 = build('abi_v2', ['-DABI_VERSION=2'])
  })

  test('the example plugin: every record verified through the ABI', () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', `plugin:${ok}`, '--mib', '4', '--profile', 'llama-3.2-1b'])
    assert.equal(r.code, 0, r.stderr)
    assertSchema('backend-bench.schema.json', r.json)
    assert.equal(r.json.results.backend.store, `plugin ${ok} (ABI v1)`)
    assert.ok(r.json.results.sizes.every((s) => s.verified === true && s.put.failed === 0))
  })

  test('a value the plugin hands back altered is caught by kvbench\'s checksum', () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', `plugin:${ok}`, '--mib', '2', '--profile', 'llama-3.2-1b', '--inject', 'corrupt-record'])
    assert.equal(r.code, 1)
    assert.ok(r.json.results.sizes.every((s) => s.get.corrupt === 1 && s.verified === false))
  })

  test('plugin errors are counted with the plugin\'s own message', () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', `plugin:${ok}?fail-put`, '--mib', '1', '--profile', 'llama-3.2-1b'])
    assert.equal(r.code, 1)
    assert.equal(r.json.status, 'partial')
    assert.ok(r.json.results.sizes.every((s) => s.put.failed === s.ops && s.verified === false))
    assert.match(r.json.results.sizes[0].firstError, /^plugin put failed: configured to fail \(fail-put\)$/)
  })

  test('missing symbols and another ABI version are named, exit 2', () => {
    const m = kvbench(['backend', 'bench', '--backend', `plugin:${noError}`])
    assert.equal(m.code, 2)
    assert.equal(m.stderr, `Error: --backend plugin:${noError}: missing symbols: kvbench_store_last_error (see native/include/kvbench_store.h)\n`)
    const v = kvbench(['backend', 'bench', '--backend', `plugin:${v2}`])
    assert.equal(v.code, 2)
    assert.equal(v.stderr, `Error: --backend plugin:${v2}: plugin ABI version 2, this kvbench speaks version 1\n`)
    const n = kvbench(['backend', 'bench', '--backend', `plugin:${join(dir, 'nope.so')}`])
    assert.equal(n.code, 2)
    assert.match(n.stderr, /^Error: --backend plugin:.*nope\.so: cannot load: .*No such file or directory\n$/)
  })
})
