// The store tier behind `save/load --backend` (bounded queue, drops, busy extents,
// generations, pipelined calls, room check), tested in C++ without a GPU or Node:
// native/test/store_tier_test.cc, built with the Makefile's g++ rule.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {test} from 'node:test'

import {ROOT} from './helpers/cli.mjs'

const haveGxx = spawnSync('g++', ['--version']).status === 0

test('store tier: the C++ checks pass', {skip: haveGxx ? false : 'g++ is not installed'}, () => {
  const r = spawnSync('make', ['-s', '-C', join(ROOT, 'native'), 'store-test'], {encoding: 'utf8', timeout: 180_000})
  assert.equal(r.status, 0, r.stdout + r.stderr)
  const oks = r.stdout.split('\n').filter((l) => l.startsWith('ok '))
  assert.equal(oks.length, 5, r.stdout)
})
