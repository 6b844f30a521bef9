// Faults a user meets (issue 16): signals mid-run leave no records behind and report what was
// measured, secrets never reach output, memory is checked before it is allocated, and runs that
// checked nothing do not pass.
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {exitCodeFor} from '../dist/core/audit.js'
import {maskSecrets} from '../dist/core/secrets.js'
import {kvbench, kvbenchAsync, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const dir = mkdtempSync(join(tmpdir(), 'kvbench-faults-'))
after(() => rmSync(dir, {recursive: true, force: true}))
const hasTorch = spawnSync('python3', ['-c', 'import torch']).status === 0

/** Starts `args`, sends `signal` once the run has written records (or after `ms`), returns the outcome. */
async function interrupted(args, signal, ready) {
  const {child, done} = kvbenchAsync(args)
  for (let i = 0; i < 200 && !ready(); i++) await new Promise((r) => setTimeout(r, 50))
  child.kill(signal)
  return done
}

describe('a signal mid-run: the run stops, its records go, what was measured is reported', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
    test(`backend bench --backend file: ${signal} -> exit ${code}, partial, no file left`, async () => {
      const store = mkdtempSync(join(dir, 'store-'))
      const files = () => readdirSync(store, {recursive: true}).length
      const r = await interrupted(['backend', 'bench', '--backend', `file:${store}`, '--mib', '4096', '--json'], signal, () => files() > 200)
      assert.equal(r.code, code, r.stderr)
      const j = JSON.parse(r.stdout)
      assertSchema('backend-bench.schema.json', j)
      assert.equal(j.status, 'partial')
      assert.ok(j.notes.some((n) => n.startsWith(`interrupted (${signal})`)), JSON.stringify(j.notes))
      assert.equal(files(), 0, 'records left behind')
    })
  }

  const url = process.env.KVBENCH_REDIS_URL
  test('backend bench --backend redis://: SIGTERM -> exit 143, no key left', {skip: url ? false : 'KVBENCH_REDIS_URL is not set (.ci/run sets it)'}, async () => {
    const u = new URL(url)
    const cli = (...a) => spawnSync('redis-cli', ['-h', u.hostname, '-p', u.port, '-a', decodeURIComponent(u.password), '--no-auth-warning', ...a], {encoding: 'utf8'}).stdout.trim()
    const before = Number(cli('dbsize'))
    const r = await interrupted(['backend', 'bench', '--backend', url, '--mib', '2048', '--json'], 'SIGTERM', () => Number(cli('dbsize')) > before + 200)
    assert.equal(r.code, 143, r.stderr)
    assert.equal(JSON.parse(r.stdout).status, 'partial')
    assert.equal(Number(cli('dbsize')), before, 'keys left behind')
    assert.ok(!r.stdout.includes(decodeURIComponent(u.password)))
  })
})

describe('secrets never reach output, whatever the scheme\'s spelling', () => {
  test('the masking rule', () => {
    assert.equal(maskSecrets('REDIS://:pw@127.0.0.1:6379'), 'REDIS://:***@127.0.0.1:6379')
    assert.equal(maskSecrets('redis//:pw@127.0.0.1:6379'), 'redis//:***@127.0.0.1:6379')
    assert.equal(maskSecrets('--backend=rediss://alice:s3cr:et@h/0 and Redis:/bob:pw@h'), '--backend=rediss://alice:***@h/0 and Redis:/bob:***@h')
    assert.equal(maskSecrets('file:/tmp/x host redis://h:6379'), 'file:/tmp/x host redis://h:6379')
  })
  for (const spec of ['REDIS://:hunter2@127.0.0.1:1', 'redis//:hunter2@127.0.0.1:6379', 'Redis:/u:hunter2@h']) {
    test(`--backend ${spec.replace('hunter2', '***')}: the password in no message, argv or JSON`, () => {
      const human = kvbench(['backend', 'bench', '--backend', spec, '--mib', '1'])
      assert.equal(human.code, 2)
      assert.ok(!human.stderr.includes('hunter2') && !human.stdout.includes('hunter2'), human.stderr)
      const j = kvbench(['backend', 'bench', '--backend', spec, '--mib', '1', '--json'])
      assert.ok(!j.stdout.includes('hunter2'), j.stdout)
    })
  }
  test('REDISCLI_AUTH gives the password when the URL has none', {skip: process.env.KVBENCH_REDIS_URL ? false : 'KVBENCH_REDIS_URL is not set'}, () => {
    const u = new URL(process.env.KVBENCH_REDIS_URL)
    const bare = `redis://${u.hostname}:${u.port}`
    assert.equal(kvbench(['backend', 'bench', '--backend', bare, '--mib', '1']).code, 2)  // NOAUTH without it
    const r = kvbenchJson(['backend', 'bench', '--backend', bare, '--mib', '1'], {env: {REDISCLI_AUTH: decodeURIComponent(u.password)}})
    assert.equal(r.code, 0, r.stdout)
    assert.ok(!r.stdout.includes(decodeURIComponent(u.password)))
  })
})

describe('memory is checked before it is allocated', () => {
  test('more records than kvbench counts: exit 2, one line', () => {
    const r = kvbench(['backend', 'bench', '--backend', 'host', '--mib', '99999999'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error: --mib 99999999 needs \d+ records of one size, more than kvbench counts/)
  })
  test('the host store past the host\'s memory: needed against available, exit 2', () => {
    const r = kvbench(['backend', 'bench', '--backend', 'host', '--mib', '10000000'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error: --mib 10000000 needs [\d.]+ TiB of host memory \(the host store keeps every record\) but the host has [\d.]+ \w+ available: lower --mib\n$/)
  })
})

describe('runs that checked nothing do not pass', () => {
  const fake = (name, body, mode = 0o755) => {
    const f = join(dir, name)
    writeFileSync(f, body)
    chmodSync(f, mode)
    return f
  }
  for (const py of ['/bin/false', '/bin/sleep', process.execPath]) {
    test(`audit-streams --python ${py}: not a Python, exit 2`, () => {
      const r = kvbench(['audit-streams', '--python', py])
      assert.equal(r.code, 2)
      assert.match(r.stderr, /^Error: --python .*: not a Python that runs kvbench's probes \(exit \d+\)/)
    })
  }
  test('audit-streams --python that is not executable: exit 2, one line', () => {
    const r = kvbench(['audit-streams', '--python', fake('python-noexec', '#!/bin/sh\n', 0o644)])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error: --python .*python-noexec: not executable\n$/)
  })
  test('--reproduce nan that could not run: a SKIP row saying so; --strict fails on it', {skip: hasTorch && 'this python3 has torch'}, () => {
    const r = kvbenchJson(['audit-streams', '--reproduce', 'nan'])
    assert.equal(r.code, 0)
    const row = r.json.results.probes.find((p) => p.kind === 'reproduction')
    assert.equal(row.probe, 'reproduce-nan')
    assert.equal(row.verdict, 'SKIP')
    assert.match(row.evidence, /the reproduction could not run: torch is not importable/)
    const strict = kvbenchJson(['audit-streams', '--reproduce', 'nan', '--strict'])
    assert.equal(strict.code, 1)
    assert.ok(strict.json.notes.some((n) => /reproduce-nan asked for but not run: --strict fails on it/.test(n)))
  })
  test('--strict fails on hazards in the user\'s stack, not on facts about kvbench\'s build', () => {
    const v = (verdict, kind) => ({layer: 'native', kind, probe: 'p', target: 't', verdict, evidence: 'e', fix: null})
    assert.equal(exitCodeFor([v('HAZARD', 'context'), v('PASS', 'audit')], true), 0)
    assert.equal(exitCodeFor([v('HAZARD', 'audit')], true), 1)
    assert.equal(exitCodeFor([v('SKIP', 'reproduction')], true), 1)
    assert.equal(exitCodeFor([v('SKIP', 'reproduction')], false), 0)
  })
})

describe('what a run without a GPU, or with a flag that does nothing, says', () => {
  const noGpu = !existsSync('/proc/driver/nvidia/version')
  test('env --measure without a GPU: the host part, the reason once, exit 0 (not the memlock error)', {skip: !noGpu && 'this host has an NVIDIA driver'}, () => {
    const r = kvbench(['env', '--measure'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /GPUs: none \(no NVIDIA driver \(no \/proc\/driver\/nvidia\/version; the CUDA runtime reports cudaErrorInsufficientDriver\)\)/)
    assert.equal(r.stdout.match(/cudaErrorInsufficientDriver/g).length, 1)
  })
  test('flags that do nothing here get a note', () => {
    assert.match(kvbench(['env', '--size', '64']).stdout, /note: --size does nothing without --measure/)
    assert.match(kvbench(['backend', 'bench', '--backend', 'host', '--mib', '1', '--fsync', 'always']).stdout, /note: --fsync does nothing with a host store/)
  })
  test('file: and plugin: with nothing after the colon say what is missing', () => {
    assert.match(kvbench(['backend', 'bench', '--backend', 'file:']).stderr, /^Error: --backend file: needs the directory to write to after the colon/)
    assert.match(kvbench(['backend', 'bench', '--backend', 'plugin:']).stderr, /^Error: --backend plugin: needs the shared library after the colon/)
  })
  test('an unknown profile field is refused, named', () => {
    const p = JSON.parse(readFileSync(join(ROOT, 'profiles', 'llama-3.1-8b.json'), 'utf8'))
    p.blokSize = 16
    const f = join(dir, 'typo-profile.json')
    writeFileSync(f, JSON.stringify(p))
    const r = kvbench(['save', '--profile', f])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /field 'blokSize' is not a profile field/)
  })
  test('a skipped GPU suite counts as skipped in the summary', {skip: !noGpu && 'this host has an NVIDIA driver'}, () => {
    const env = {...process.env, KVBENCH_REQUIRE_GPU: ''}
    delete env.NODE_TEST_CONTEXT  // a run of its own, with its own summary
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', join(ROOT, 'test', 'gpu', 'env.test.mjs')], {encoding: 'utf8', env})
    assert.match(r.stdout, /# skipped [1-9]/)
  })
})

test('backend bench: --mib honoured for small values, and the figures say what they time', () => {
  const r = kvbenchJson(['backend', 'bench', '--backend', 'host', '--mib', '1'])
  assert.equal(r.code, 0)
  assert.deepEqual(r.json.results.sizes.map((s) => s.ops), [32, 1])  // 1 MiB of 32 KiB chunks; one 2 MiB block
  assert.ok(r.json.notes.some((n) => /busiest I\/O thread's time inside store calls/.test(n)))
})

test('rediss:// to a plain Redis port hints at TLS; a CA file that is not PEM says so', {skip: spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server is not installed'}, async () => {
  const port = 20000 + Math.floor(Math.random() * 20000)
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {stdio: 'ignore'})
  try {
    for (let i = 0; i < 50 && spawnSync('redis-cli', ['-p', String(port), 'ping'], {encoding: 'utf8'}).stdout.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100))
    const r = kvbench(['backend', 'bench', '--backend', `rediss://127.0.0.1:${port}`, '--mib', '1'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /TLS handshake failed: .* \(the server may not speak TLS on this port; plain Redis is redis:\/\/\)/)
  } finally {
    server.kill('SIGKILL')
  }
  const der = join(dir, 'ca.der')
  writeFileSync(der, Buffer.from([0x30, 0x82, 0x01, 0x0a]))
  const c = kvbench(['backend', 'bench', '--backend', `rediss://127.0.0.1:1?cacert=${der}`])
  assert.equal(c.code, 2)
  assert.match(c.stderr, /cacert .*ca\.der is not a PEM certificate file/)
})

test('a progress bar on a terminal, never when piped or under --json', {skip: spawnSync('script', ['--version']).status === 0 ? false : 'script(1) is not installed'}, () => {
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, 'bin', 'run.js'))} backend bench --backend host --mib 512`
  const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], {encoding: 'utf8', timeout: 120_000})
  assert.equal(tty.status, 0, tty.stdout)
  assert.match(tty.stdout, /backend bench \[[=-]+\] \d+% · \d+\/\d+/)
  const piped = kvbench(['backend', 'bench', '--backend', 'host', '--mib', '512'])
  assert.doesNotMatch(piped.stdout + piped.stderr, /backend bench \[/)
  const json = spawnSync('script', ['-qec', `${cmd} --json`, '/dev/null'], {encoding: 'utf8', timeout: 120_000})
  assert.doesNotMatch(json.stdout, /backend bench \[/)
})

test('backend bench --runs: the median of the runs, each run kept, their range the spread compare reads', async () => {
  const r = kvbenchJson(['backend', 'bench', '--backend', 'host', '--mib', '8', '--runs', '3', '--warmup-runs', '1'])
  assert.equal(r.code, 0)
  assertSchema('backend-bench.schema.json', r.json)
  assert.equal(r.json.results.runs, 3)
  assert.equal(r.json.results.warmupRuns, 1)
  for (const s of r.json.results.sizes) {
    for (const op of ['put', 'get']) {
      const runs = [...s[op].runsGBps].sort((a, b) => a - b)
      assert.equal(runs.length, 3)
      assert.equal(s[op].gbps, runs[1])
    }
    assert.equal(s.put.latencyUs.n, 3 * s.ops)
  }
  const {backendMetrics} = await import('../dist/core/metrics/backend-metrics.js')
  const m = backendMetrics(r.json.results).find((x) => x.figure === 'put_gbps')
  assert.equal(m.spread.what, 'range of 3 runs')
  assert.equal(kvbench(['backend', 'bench', '--runs', '101']).code, 2)
})
