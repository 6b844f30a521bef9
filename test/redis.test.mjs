// The Redis store against a real redis-server (.ci/run installs Debian's and starts one;
// the kill test starts its own so it can kill it mid-run).
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {parseRedisUrl} from '../dist/core/store-spec.js'
import {kvbench, kvbenchAsync, kvbenchJson} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const PASSWORD = 'kv-s3cret-pw'
const haveServer = spawnSync('redis-server', ['--version']).status === 0
const noServer = haveServer ? false : 'redis-server is not installed (.ci/run installs it with apt)'

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function startServer() {
  const port = await freePort()
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no'], {stdio: 'ignore'})
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('redis-cli', ['-p', String(port), '-a', PASSWORD, '--no-auth-warning', 'ping'], {encoding: 'utf8'})
    if (r.stdout.trim() === 'PONG') return {port, proc}
    await new Promise((res) => setTimeout(res, 100))
  }
  proc.kill('SIGKILL')
  throw new Error('redis-server did not start')
}

test('redis URLs: user, password, host, port, db; bad ones name the flag, never the password', () => {
  assert.deepEqual(parseRedisUrl('redis://alice:pw@cache.local:7000/3'), {host: 'cache.local', port: 7000, user: 'alice', password: 'pw', db: 3, tls: false, caFile: ''})
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1'), {host: '127.0.0.1', port: 6379, user: '', password: '', db: 0, tls: false, caFile: ''})
  assert.throws(() => parseRedisUrl('redis://:hunter2@h:1/x'), (e) => e.exit === 2 && /database must be a whole number/.test(e.message) && !e.message.includes('hunter2'))
  assert.deepEqual(parseRedisUrl('rediss://:pw@h:1/2'), {host: 'h', port: 1, user: '', password: 'pw', db: 2, tls: true, caFile: ''})
  assert.throws(() => parseRedisUrl('rediss://:hunter2@h:1?verify=0'), (e) => /unknown parameter verify \(rediss:\/\/ takes \?cacert=PATH\)/.test(e.message) && !e.message.includes('hunter2'))
})

test('an unreachable store: one line with host:port and the OS error, exit 2', async () => {
  const port = await freePort()
  const r = kvbench(['backend', 'bench', '--backend', `redis://127.0.0.1:${port}`, '--mib', '1'])
  assert.equal(r.code, 2)
  assert.equal(r.stderr, `Error: redis 127.0.0.1:${port}: cannot connect: Connection refused\n`)
})

// The server .ci/run started (KVBENCH_REDIS_URL), else one of our own.
const ciUrl = process.env.KVBENCH_REDIS_URL ? new URL(process.env.KVBENCH_REDIS_URL) : null

describe('against a real redis-server', {skip: ciUrl ? false : noServer}, () => {
  let server
  let password = PASSWORD
  before(async () => {
    if (ciUrl) {
      server = {port: Number(ciUrl.port), proc: null}
      password = decodeURIComponent(ciUrl.password)
      console.log(`# using the redis-server .ci/run started on port ${ciUrl.port}`)
    } else {
      server = await startServer()
    }
  })
  after(() => server?.proc?.kill('SIGKILL'))
  const url = (pw = password) => `redis://:${pw}@127.0.0.1:${server.port}/1`

  test('put/get verified, keys namespaced and removed, password never printed', () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', url(), '--mib', '4', '--profile', 'llama-3.2-1b'])
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(0, 300))
    assertSchema('backend-bench.schema.json', r.json)
    assert.ok(r.json.results.sizes.every((s) => s.verified === true))
    const l = r.json.results.lookup
    // A round trip per synchronous lookup; the non-blocking call only queues the question.
    assert.ok(l.sync.hit.p50 > l.nonBlocking.call.p50, JSON.stringify(l))
    assert.match(r.json.results.backend.store, /^redis 127\.0\.0\.1:\d+\/1 \(4 connections, keys kvbench:[0-9a-f]{8}:\*\)$/)
    assert.ok(!r.stdout.includes(password), 'the password must not be in the JSON (argv included)')
    const left = spawnSync('redis-cli', ['-p', String(server.port), '-a', password, '--no-auth-warning', '-n', '1', 'dbsize'], {encoding: 'utf8'})
    assert.equal(left.stdout.trim(), '0', 'every key of the run is deleted')
  })

  test('a wrong password: authentication failed, exit 2, password not printed', () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', url('not-the-password'), '--mib', '1'])
    assert.equal(r.code, 2)
    assert.match(r.json.error.message, /^redis 127\.0\.0\.1:\d+: authentication failed \(WRONGPASS\)$/)
    assert.ok(!r.stdout.includes('not-the-password'))
    const t = kvbench(['backend', 'bench', '--backend', url('not-the-password'), '--mib', '1'])
    assert.ok(!t.stderr.includes('not-the-password'))
  })

  test('pipelined: every record verified, and the same keys cleaned up', () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', url(), '--mib', '4', '--profile', 'llama-3.2-1b', '--pipeline', '16'])
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(0, 300))
    assertSchema('backend-bench.schema.json', r.json)
    assert.equal(r.json.results.pipeline, 16)
    assert.ok(r.json.results.sizes.every((s) => s.verified === true && s.put.failed === 0))
    const left = spawnSync('redis-cli', ['-p', String(server.port), '-a', password, '--no-auth-warning', '-n', '1', 'dbsize'], {encoding: 'utf8'})
    assert.equal(left.stdout.trim(), '0')
  })

  test('save/load --backend with a wrong password: authentication failed before any GPU work, exit 2, password not printed', () => {
    for (const mode of ['save', 'load']) {
      const r = kvbench([mode, '--backend', url('not-the-password')])
      assert.equal(r.code, 2)
      assert.match(r.stderr.trim(), /^Error: redis 127\.0\.0\.1:\d+: authentication failed \(WRONGPASS\)$/)
      assert.ok(!r.stderr.includes('not-the-password') && !r.stdout.includes('not-the-password'))
    }
  })

  test('a corrupted value is caught by its checksum', () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', url(), '--mib', '2', '--profile', 'llama-3.2-1b', '--inject', 'corrupt-record'])
    assert.equal(r.code, 1)
    assert.ok(r.json.results.sizes.every((s) => s.get.corrupt === 1 && s.verified === false))
  })
})

test('the server killed mid-run: failed ops counted, partial, no crash, nothing unverified called verified', {skip: noServer}, async () => {
  const own = await startServer()
  try {
    const run = kvbenchAsync(['backend', 'bench', '--backend', `redis://:${PASSWORD}@127.0.0.1:${own.port}`, '--mib', '4096', '--json'])
    await new Promise((res) => setTimeout(res, 1500))
    own.proc.kill('SIGKILL')
    const r = await run.done
    assert.equal(r.code, 1, r.stderr)
    const j = JSON.parse(r.stdout)
    assertSchema('backend-bench.schema.json', j)
    assert.equal(j.status, 'partial')
    assert.equal(j.results.lookup, null, 'no lookup figures from a store that failed')
    const failed = j.results.sizes.reduce((a, s) => a + s.put.failed + s.get.missing, 0)
    assert.ok(failed > 0, 'failed operations are counted')
    for (const s of j.results.sizes) {
      if (s.put.failed > 0 || s.get.missing > 0) assert.equal(s.verified, false)
    }
    assert.ok(j.notes.some((n) => /FAILED: .*puts failed.*redis 127\.0\.0\.1:\d+: /.test(n)))
  } finally {
    own.proc.kill('SIGKILL')
  }
})

// rediss://: a redis-server speaking TLS with a certificate from a CA made for the test.
const haveOpenssl = spawnSync('openssl', ['version']).status === 0
describe('rediss:// (TLS) against a real redis-server', {skip: noServer || (haveOpenssl ? false : 'the openssl command is not installed')}, () => {
  let dir
  let server
  before(async (t) => {
    dir = mkdtempSync(join(tmpdir(), 'kvbench-tls-'))
    const sh = (args) => {
      const r = spawnSync('openssl', args, {cwd: dir, encoding: 'utf8'})
      if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`)
    }
    sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=kvbench-test-ca'])
    sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'])
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
    sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf'])
    const port = await freePort()
    const proc = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1 127.0.0.2', '--tls-cert-file', join(dir, 'server.crt'),
      '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no',
      '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no'], {stdio: 'ignore'})
    for (let i = 0; i < 100 && !server; i++) {
      const r = spawnSync('redis-cli', ['--tls', '--cacert', join(dir, 'ca.crt'), '-p', String(port), '-a', PASSWORD, '--no-auth-warning', 'ping'], {encoding: 'utf8'})
      if (r.stdout.trim() === 'PONG') server = {port, proc}
      else await new Promise((res) => setTimeout(res, 100))
    }
    if (!server) {
      proc.kill('SIGKILL')
      throw new Error('redis-server with TLS did not start (built without TLS?)')
    }
  })
  after(() => {
    server?.proc.kill('SIGKILL')
    if (dir) rmSync(dir, {recursive: true, force: true})
  })
  const url = (host = '127.0.0.1', query = `?cacert=${join(dir, 'ca.crt')}`) => `rediss://:${PASSWORD}@${host}:${server.port}${query}`

  test('records verified over TLS with the CA given; password never printed', () => {
    const r = kvbenchJson(['backend', 'bench', '--backend', url(), '--mib', '2', '--profile', 'llama-3.2-1b', '--pipeline', '4'])
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(0, 300))
    assertSchema('backend-bench.schema.json', r.json)
    assert.match(r.json.results.backend.store, /^redis 127\.0\.0\.1:\d+\/0 \(4 connections, TLSv1\.[23], keys /)
    assert.ok(r.json.results.sizes.every((s) => s.verified === true))
    assert.ok(!r.stdout.includes(PASSWORD))
  })

  test('an untrusted certificate, a name it does not carry, plain redis:// to a TLS port: one line, exit 2', () => {
    for (const [backend, re] of [
      [url('127.0.0.1', ''), /^Error: redis 127\.0\.0\.1:\d+: TLS handshake failed: certificate not trusted \(self-signed certificate in certificate chain\)$/],
      [url('127.0.0.2'), /^Error: redis 127\.0\.0\.2:\d+: TLS handshake failed: certificate not trusted \(IP address mismatch\)$/],
      [`redis://:${PASSWORD}@127.0.0.1:${server.port}`, /^Error: redis 127\.0\.0\.1:\d+: .*\(if the server speaks TLS, use rediss:\/\/\)$/],
      [url('127.0.0.1', '?cacert=/nonexistent/ca.crt'), /^Error: --backend rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\?cacert=\/nonexistent\/ca\.crt: cacert \/nonexistent\/ca\.crt is not a readable file$/],
    ]) {
      const r = kvbench(['backend', 'bench', '--backend', backend, '--mib', '1'])
      assert.equal(r.code, 2, `${backend}: ${r.stderr}`)
      assert.match(r.stderr.trim(), re)
      assert.ok(!r.stderr.includes(PASSWORD))
    }
  })
})
