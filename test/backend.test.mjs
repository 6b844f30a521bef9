// `kvbench backend bench` needs no GPU: host and file stores, checksums, errors, cleanup.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {kvbench, kvbenchJson} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const dir = mkdtempSync(join(tmpdir(), 'kvbench-store-'))
after(() => rmSync(dir, {recursive: true, force: true}))
const small = ['--mib', '4', '--profile', 'llama-3.2-1b']

for (const backend of ['host', `file:${dir}`]) {
  test(`${backend.split(':')[0]} store: every record read back bit-exact, nothing left behind`, () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', backend, ...small])
    assert.equal(r.code, 0, r.stderr + JSON.stringify(r.json.notes))
    assertSchema('backend-bench.schema.json', r.json)
    const res = r.json.results
    assert.deepEqual(res.sizes.map((s) => [s.label, s.bytes]), [['chunk', 16384], ['block', 524288]])
    for (const s of res.sizes) {
      assert.equal(s.verified, true)
      assert.ok(s.put.gbps > 0 && s.get.gbps > 0)
      assert.equal(s.put.latencyUs.n, s.ops)
      assert.equal(s.get.corrupt, 0)
    }
    const l = res.lookup
    assert.equal(l.keys, 64)
    for (const c of [l.sync.hit, l.sync.miss, l.nonBlocking.call]) assert.ok(c.calls > 0 && c.p50 > 0 && c.p99 >= c.p50, JSON.stringify(c))
    assert.equal(l.nonBlocking.answerUs.n, 64)
    if (backend !== 'host') assert.deepEqual(readdirSync(dir), [], 'the run directory must be removed')
  })
}

test('a corrupted record is caught by its checksum: exit 1, counted, not verified', () => {
  const r = kvbenchJson(['backend', 'bench', '--backend', `file:${dir}`, ...small, '--inject', 'corrupt-record'])
  assert.equal(r.code, 1)
  for (const s of r.json.results.sizes) {
    assert.equal(s.get.corrupt, 1)
    assert.equal(s.verified, false)
  }
  assert.ok(r.json.notes.some((n) => /FAILED: chunk: 0 puts failed, 0 missing, 1 corrupt/.test(n)))
  const h = kvbenchJson(['backend', 'bench', '--backend', 'host', ...small, '--inject', 'corrupt-record'])
  assert.equal(h.code, 1)
})

test('O_DIRECT falls back with a note where the filesystem refuses it', {skip: existsSync('/dev/shm') ? false : 'no /dev/shm'}, () => {
  const shm = mkdtempSync('/dev/shm/kvbench-')
  try {
    const r = kvbenchJson(['backend', 'bench', '--backend', `file:${shm}`, ...small])
    assert.equal(r.code, 0)
    if (!r.json.results.backend.direct) assert.ok(r.json.notes.some((n) => /O_DIRECT not supported here/.test(n)))
    assert.ok(r.json.results.sizes.every((s) => s.verified))
  } finally {
    rmSync(shm, {recursive: true, force: true})
  }
  const off = kvbenchJson(['backend', 'bench', '--backend', `file:${dir}`, ...small, '--no-direct'])
  assert.equal(off.json.results.backend.direct, false)
  assert.ok(off.json.notes.includes('buffered I/O (O_DIRECT off)'))
})

test('bad stores: one line naming the flag, exit 2', () => {
  const file = join(dir, 'not-a-dir')
  writeFileSync(file, 'x')
  try {
    for (const [args, re] of [
      [['--backend', 'file:/nonexistent/kv'], /^Error: --backend file:\/nonexistent\/kv: directory does not exist$/],
      [['--backend', `file:${file}`], /: not a directory$/],
      [['--backend', 'ftp://store:1'], /^Error: --backend ftp:\/\/store:1: unknown backend \(host, file:DIR, redis:\/\/, plugin:PATH\.so\)$/],
      [['--mib', '0'], /^Error: --mib must be a positive whole number, got 0$/],
      [['--threads', '0'], /^Error: --threads must be between 1 and 256, got 0$/],
      [['--pipeline', '0'], /^Error: --pipeline must be between 1 and 1024, got 0$/],
    ]) {
      const r = kvbench(['backend', 'bench', ...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr.trim(), re)
    }
  } finally {
    rmSync(file)
  }
})

test('save/load --backend: a bad store or store flag is refused before any GPU work, one line, exit 2, nothing left', () => {
  const file = join(dir, 'not-a-dir')
  writeFileSync(file, 'x')
  try {
    for (const mode of ['save', 'load']) {
      for (const [args, re] of [
        [['--backend', 'file:/nonexistent/kv'], /^Error: --backend file:\/nonexistent\/kv: directory does not exist$/],
        [['--backend', `file:${file}`], /: not a directory$/],
        [['--backend', 'ftp://store:1'], /^Error: --backend ftp:\/\/store:1: unknown backend/],
        [['--backend', 'redis://:hunter2@127.0.0.1:1'], /^Error: redis 127\.0\.0\.1:1: cannot connect: Connection refused$/],
        [['--io-threads', '0'], /^Error: --io-threads must be between 1 and 256, got 0$/],
        [['--store-queue', '0'], /^Error: --store-queue must be between 1 and 65536, got 0$/],
        [['--pipeline', '0'], /^Error: --pipeline must be between 1 and 1024, got 0$/],
        [['--inject', 'corrupt-store'], /^Error: --inject corrupt-store needs a --backend other than host$/],
      ]) {
        const r = kvbench([mode, ...args])
        assert.equal(r.code, 2, `${mode} ${args.join(' ')}: ${r.stderr}`)
        assert.match(r.stderr.trim(), re)
        assert.ok(!r.stderr.includes('hunter2'))
      }
    }
  } finally {
    rmSync(file)
  }
  // A store that opens fine is closed again (its run directory removed) before the GPU check.
  const r = kvbench(['save', '--backend', `file:${dir}`])
  assert.notEqual(r.code, 0)
  assert.deepEqual(readdirSync(dir), [])
})

// A small filesystem of our own (root, as CI is; skipped with the reason elsewhere).
function withTmpfs(options, fn) {
  const mnt = mkdtempSync(join(tmpdir(), 'kvbench-full-'))
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mnt], {encoding: 'utf8'})
  if (m.status !== 0) {
    rmSync(mnt, {recursive: true, force: true})
    return {skipped: `cannot mount a tmpfs here (${(m.stderr || m.error?.message || '').trim()})`}
  }
  try {
    return fn(mnt)
  } finally {
    spawnSync('umount', [mnt])
    rmSync(mnt, {recursive: true, force: true})
  }
}

test('a DIR too small for the run: needed versus free, exit 2, nothing written', (t) => {
  const out = withTmpfs('size=1m', (mnt) => {
    for (const args of [['backend', 'bench', '--mib', '8'], ['save']]) {
      const r = kvbench([...args, '--backend', `file:${mnt}`, '--profile', 'llama-3.2-1b'])
      if (args[0] === 'save' && r.code === 2 && /no GPU|without CUDA|cudaError/.test(r.stderr)) continue  // checked natively on a GPU host
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr.trim(), /^Error: --backend file:\S+: 1 MiB free, this run needs \d+ MiB$/)
      assert.deepEqual(readdirSync(mnt), [])
    }
  })
  if (out?.skipped) t.skip(out.skipped)
})

test('a read-only DIR: not writable, with the OS error, exit 2', (t) => {
  const out = withTmpfs('size=1m,ro', (mnt) => {
    for (const args of [['backend', 'bench'], ['save']]) {
      const r = kvbench([...args, '--backend', `file:${mnt}`])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr.trim(), /^Error: --backend file:\S+: not writable: Read-only file system \(errno 30\)$/)
    }
  })
  if (out?.skipped) t.skip(out.skipped)
})

test('a DIR that fills up mid-run: failed puts counted with the OS error, partial, exit 1, no record left', (t) => {
  // Plenty of bytes, few inodes: the room check passes, then file creation fails with ENOSPC.
  const out = withTmpfs('size=64m,nr_inodes=24', (mnt) => {
    const r = kvbenchJson(['backend', 'bench', '--backend', `file:${mnt}`, '--mib', '4', '--profile', 'llama-3.2-1b', '--threads', '2'])
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.json.status, 'partial')
    const failed = r.json.results.sizes.reduce((a, s) => a + s.put.failed, 0)
    assert.ok(failed > 0)
    for (const s of r.json.results.sizes) if (s.put.failed > 0) assert.equal(s.verified, false)
    assert.ok(r.json.notes.some((n) => /No space left on device/.test(n)), r.json.notes.join('\n'))
    assert.deepEqual(readdirSync(mnt), [], 'no temporary or partial record is left')
  })
  if (out?.skipped) t.skip(out.skipped)
})
