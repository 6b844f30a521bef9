// The pinned pool's index (native/core/kv/flat_index.h), tested in C++ without a GPU or Node
// (native/test/flat_index_test.cc, built with the Makefile's g++ rule).
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {test} from 'node:test'

import {ROOT} from './helpers/cli.mjs'

const haveGxx = spawnSync('g++', ['--version']).status === 0

test('flat index: the C++ checks pass', {skip: haveGxx ? false : 'g++ is not installed'}, () => {
  const r = spawnSync('make', ['-s', '-C', join(ROOT, 'native'), 'flat-index-test'], {encoding: 'utf8', timeout: 120_000})
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, 3, r.stdout)
})
