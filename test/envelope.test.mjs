// JSON outputs against the published schemas, success and error alike.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {redactArgv} from '../dist/core/envelope.js'
import {kvbenchJson} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

test('env --json validates against env.schema.json', () => {
  const r = kvbenchJson(['env'])
  assert.equal(r.code, 0, r.stderr)
  assertSchema('env.schema.json', r.json)
  assert.equal(r.json.kind, 'env')
  assert.equal(r.json.status, 'complete')
  assert.deepEqual(r.json.run.argv, ['--json'])
  assert.ok(r.json.environment.host.logicalCpus >= 1)
  assert.equal(r.json.results.measured, false)
})

test('the schema rejects what it should (the check can fail)', () => {
  const r = kvbenchJson(['env'])
  const broken = structuredClone(r.json)
  delete broken.environment.host.kernel
  assert.throws(() => assertSchema('env.schema.json', broken), /kernel/)
  const wrongType = structuredClone(r.json)
  wrongType.results.measured = 'yes'
  assert.throws(() => assertSchema('env.schema.json', wrongType), /measured|boolean/)
})

test('an error under --json is an envelope with the error and exit 2', () => {
  const r = kvbenchJson(['env', '--device', '7'])
  assert.equal(r.code, 2)
  assertSchema('env.schema.json', r.json)
  assert.equal(r.json.status, 'error')
  assert.equal(r.json.error.exitCode, 2)
  assert.match(r.json.error.message, /^no GPU 7: this host has \d+ GPUs?/)
  assert.equal(r.stderr, '')
})

test('a parse error under --json keeps exit 2', () => {
  const r = kvbenchJson(['env', '--frob'])
  assert.equal(r.code, 2)
  assertSchema('env.schema.json', r.json)
  assert.match(r.json.error.message, /Nonexistent flag: --frob/)
})

test('credentials never reach argv', () => {
  assert.deepEqual(redactArgv(['--backend', 'redis://user:hunter2@host:6379/0']), ['--backend', 'redis://user:***@host:6379/0'])
  assert.deepEqual(redactArgv(['--backend=redis://:hunter2@h:1']), ['--backend=redis://:***@h:1'])
  assert.deepEqual(redactArgv(['--password', 'hunter2', '--json']), ['--password', '***', '--json'])
  assert.deepEqual(redactArgv(['--token=abc']), ['--token=***'])
  assert.deepEqual(redactArgv(['--device', '1']), ['--device', '1'])
})
