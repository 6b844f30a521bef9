// Human output: tables for people, no colour codes when piped or when NO_COLOR is set.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {kvbench} from './helpers/cli.mjs'

const ANSI = /\x1b\[[0-9;]*m/

test('piped output has no colour codes', () => {
  const r = kvbench(['env'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /Host/)
  assert.match(r.stdout, /Locked-memory limit/)
  assert.doesNotMatch(r.stdout, ANSI)
})

test('FORCE_COLOR turns colour on (so the check above can fail)', () => {
  const r = kvbench(['env'], {env: {FORCE_COLOR: '1'}})
  assert.match(r.stdout, ANSI)
})

test('NO_COLOR wins over FORCE_COLOR', () => {
  const r = kvbench(['env'], {env: {FORCE_COLOR: '1', NO_COLOR: '1'}})
  assert.doesNotMatch(r.stdout, ANSI)
})

test('--json prints only JSON on stdout', () => {
  const r = kvbench(['env', '--json'])
  assert.doesNotThrow(() => JSON.parse(r.stdout))
  assert.doesNotMatch(r.stdout, ANSI)
})
