// The command line as a user meets it: help, flags, oclif's errors and exit codes.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {kvbench} from './helpers/cli.mjs'

test('root help lists every command and the backend topic', () => {
  const r = kvbench(['--help'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /USAGE/)
  for (const c of ['env', 'save', 'load', 'profiles', 'audit-streams']) assert.match(r.stdout, new RegExp(`\\n  ${c}\\s+\\S`), c)
  assert.match(r.stdout, /TOPICS\n  backend\s+Benchmark KV stores/)
  assert.match(kvbench(['backend', '--help']).stdout, /backend bench\s+Benchmark a KV store alone/)
})

test('env --help documents every flag', () => {
  const r = kvbench(['env', '--help'])
  assert.equal(r.code, 0)
  for (const flag of ['--measure', '--device', '--size', '--iterations', '--[no-]verify', '--json']) {
    assert.ok(r.stdout.includes(flag), `missing ${flag} in:\n${r.stdout}`)
  }
})

test('--version prints name and version', () => {
  const r = kvbench(['--version'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /^kvbench\/\d+\.\d+\.\d+ /)
})

test('unknown command: one line naming the commands, exit 2', () => {
  const r = kvbench(['frobnicate'])
  assert.equal(r.code, 2)
  assert.equal(r.stderr.trim().split('\n').length, 1)
  assert.match(r.stderr, /^Error: 'frobnicate' is not a kvbench command\. \(kvbench --help lists them: /)
})

test('unknown flag: oclif message, exit 2, one line', () => {
  const r = kvbench(['env', '--frob'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^Error: Nonexistent flag: --frob/)
  assert.equal(r.stderr.trim().split('\n').length, 1)
})

test('a flag that wants a number gets a number', () => {
  const r = kvbench(['env', '--device', 'one'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /Expected an integer but received: one/)
})

test('bad sizes and counts are refused with the flag named', () => {
  for (const [args, re] of [
    [['env', '--measure', '--size', '0'], /--size must be a positive whole number of MiB, got 0/],
    [['env', '--measure', '--iterations', '0'], /--iterations must be a positive whole number, got 0/],
    [['env', '--device', '-1'], /--device must be a GPU index/],
  ]) {
    const r = kvbench(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, re)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
})
