// GPU suite for `kvbench save/load --backend`: the pinned pool's extents go to a real
// store and come back; every record is verified, a corrupt record fails its requests
// instead of loading bad bytes, and a store slower than the link drops saves and says so.
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {gpuGate, kvbenchJson} from '../helpers/cli.mjs'
import {assertSchema} from '../helpers/schema.mjs'

const SMALL = ['--profile', 'llama-3.2-1b', '--batch', '4', '--prompt-tokens', '1024', '--decode-steps', '12', '--strategy', 'staged']

function withDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'kvbench-store-'))
  try {
    return fn(dir)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

describe('save and load through a store on a GPU', gpuGate(), () => {
  test('save --backend file: every record reaches the store and reads back bit-exact; nothing is left behind', () =>
    withDir((dir) => {
      const r = kvbenchJson(['save', ...SMALL, '--backend', `file:${dir}`])
      assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
      assertSchema('save.schema.json', r.json)
      const res = r.json.results
      assert.match(res.backend.store, /^file /)
      assert.equal(res.backend.alone.verified, true)
      assert.ok(res.backend.alone.putGBps > 0 && res.backend.alone.getGBps > 0)
      for (const d of res.designs.filter((x) => x.design !== 'off')) {
        assert.ok(d.store.puts.done > 0, `${d.design}: nothing reached the store`)
        assert.equal(d.store.puts.failed, 0)
        assert.equal(d.store.verified, true, `${d.design}: store records`)
        assert.ok(d.store.recordsChecked > 0)
        assert.equal(d.verified, true)
      }
      assert.deepEqual(readdirSync(dir), [], 'the run left files behind')
    }))

  test('save --backend file: --trace has a track per store I/O thread, each put started after it was queued', () =>
    withDir((dir) => {
      const file = join(tmpdir(), `kvbench-store-trace-${process.pid}.json`)
      try {
        const r = kvbenchJson(['save', ...SMALL, '--design', 'async', '--io-threads', '2', '--backend', `file:${dir}`, '--trace', file, '--trace-steps', '8'])
        assert.equal(r.code, 0, r.stderr)
        const t = JSON.parse(readFileSync(file, 'utf8'))
        const asyncPid = t.traceEvents.find((e) => e.name === 'process_name' && e.args.name.endsWith('async/staged')).pid
        const puts = t.traceEvents.filter((e) => e.pid === asyncPid && e.cat === 'store')
        assert.ok(puts.length > 0, 'no store request in the traced steps')
        for (const p of puts) {
          assert.equal(p.name, 'store put')
          assert.ok(p.args.queuedUs >= 0 && p.dur >= 0 && p.args.ok, JSON.stringify(p))
        }
        const tracks = t.traceEvents.filter((e) => e.pid === asyncPid && e.name === 'thread_name' && e.args.name.startsWith('store I/O thread'))
        assert.ok(tracks.length >= 1 && tracks.length <= 2, tracks.map((x) => x.args.name).join('; '))
      } finally {
        rmSync(file, {force: true})
      }
    }))

  test('load --backend file: loaded blocks came through the store (the pinned pool was poisoned)', () =>
    withDir((dir) => {
      const r = kvbenchJson(['load', ...SMALL, '--backend', `file:${dir}`])
      assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
      assertSchema('load.schema.json', r.json)
      for (const d of r.json.results.designs.filter((x) => x.design !== 'off')) {
        assert.ok(d.store.gets.done > 0, `${d.design}: no record read`)
        assert.equal(d.store.requestsFailed, 0)
        assert.ok(d.transfer.jobsDone > 0)
        assert.equal(d.verified, true, `${d.design}: loaded blocks`)
        assert.ok(d.hooks.lookup.calls > 0)
      }
      assert.deepEqual(readdirSync(dir), [])
    }))

  test('a corrupt record fails its requests (exit 1, partial); no bad bytes are loaded', () =>
    withDir((dir) => {
      const r = kvbenchJson(['load', ...SMALL, '--backend', `file:${dir}`, '--inject', 'corrupt-store'])
      assert.equal(r.code, 1, r.stderr)
      assert.equal(r.json.status, 'partial')
      const designs = r.json.results.designs.filter((x) => x.design !== 'off')
      assert.ok(designs.some((d) => d.store.requestsFailed > 0 && d.store.gets.failed > 0))
      for (const d of designs) assert.equal(d.verified, true, `${d.design}: what was loaded must still be right`)
      assert.ok(r.json.notes.some((n) => /store FAILED: .*corrupt/.test(n)), r.json.notes.join('\n'))
    }))

  test('backpressure: a store queue of one drops or skips saves, counted, and stays verified', () =>
    withDir((dir) => {
      const r = kvbenchJson(['save', ...SMALL, '--design', 'async', '--backend', `file:${dir}`, '--store-queue', '1', '--io-threads', '1', '--fsync', 'always'])
      assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
      const d = r.json.results.designs.find((x) => x.design === 'async')
      assert.ok(d.store.puts.droppedQueueFull + d.store.puts.savesSkippedStoreBusy > 0, JSON.stringify(d.store))
      assert.equal(d.store.queueDepth.limit, 1)
      assert.ok(d.store.queueDepth.max <= 1)
      assert.equal(d.store.verified, true)
    }))

  const redis = process.env.KVBENCH_REDIS_URL
  test('save and load --backend redis:// (pipelined), verified', {skip: redis ? false : 'KVBENCH_REDIS_URL not set'}, () => {
    for (const mode of ['save', 'load']) {
      const r = kvbenchJson([mode, ...SMALL, '--backend', redis, '--pipeline', '8'])
      assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
      assert.match(r.json.results.backend.store, /^redis /)
      assert.ok(!r.stdout.includes(new URL(redis).password || '\u0000'), 'password printed')
      for (const d of r.json.results.designs.filter((x) => x.design !== 'off')) assert.equal(d.verified, true)
    }
  })
})
