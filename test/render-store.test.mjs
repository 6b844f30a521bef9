// The human view and the schema of a save/load run through a store, from real results
// (H100, 2026-11-27: `kvbench save|load --backend file:... --json`, test/fixtures/results/).
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {renderTransfer} from '../dist/cli/render/transfer.js'
import {storeFailures, verificationFailures} from '../dist/core/saveload/verdicts.js'
import {ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const load = (name) => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/results', name), 'utf8'))

for (const [name, mode] of [['save-file-h100.json', 'save'], ['load-file-h100.json', 'load']]) {
  test(`${mode} through a file store: schema, store table, nothing failed`, () => {
    const j = load(name)
    assertSchema(`${mode}.schema.json`, j)
    const text = renderTransfer(j.results)
    assert.match(text, /^Store: file \S+ \(O_DIRECT\) \(--backend file:\S+\); the pinned pool's extents are its records$/m)
    assert.match(text, /^store alone \(every extent put, then read back; 1024 records, 8 GiB\): put \d+\.\d\d GB\/s, get \d+\.\d\d GB\/s, verified yes$/m)
    assert.match(text, new RegExp(`store ${mode === 'save' ? 'put' : 'get'} GB/s`))
    assert.deepEqual(storeFailures(j.results), [])
    assert.deepEqual(verificationFailures(j.results), [])
  })
}

test('a store that failed or returned bad records is named, and its run fails', () => {
  const j = load('save-file-h100.json')
  const d = j.results.designs.find((x) => x.design === 'async')
  d.store.puts.failed = 3
  d.store.firstError = 'write /x/.tmp-1: No space left on device (errno 28)'
  d.store.verified = false
  d.store.mismatches = 12
  assert.deepEqual(storeFailures(j.results), ['async/staged: 3 store requests failed (write /x/.tmp-1: No space left on device (errno 28))'])
  assert.deepEqual(verificationFailures(j.results), ['async/staged store records (12 words differ, 0 unreadable)'])
  j.results.storeFailed = true
  j.results.partial = true
  assert.match(renderTransfer(j.results), /PARTIAL: store requests failed; figures cover what completed$/)
  assert.match(renderTransfer(j.results), /NO \(12 words, 0 unreadable\)/)
})
