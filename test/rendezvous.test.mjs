// --all-reduce nccl under a launcher's ranks: where the ranks meet for rank 0's NCCL id (a
// directory, or a TCPStore kvbench serves or connects to), with no NCCL or GPU needed (the id is
// made by a stand-in); two ranks on one GPU refused; nothing left behind; the flags' refusals; the
// watchdog that ends a rank whose peer died.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'

import {withRankWatchdog} from '../dist/core/launch/rank-watchdog.js'
import {exchangeNcclId} from '../dist/core/launch/rendezvous/nccl-id.js'
import {rendezvousTarget} from '../dist/core/launch/rendezvous/target.js'
import {serveTcpStore, TcpStoreClient} from '../dist/core/launch/rendezvous/tcp-store.js'
import {kvbench, ROOT} from './helpers/cli.mjs'
import {freePort} from './helpers/net.mjs'

const ID = 'ab'.repeat(128)
const world = (rank, over = {}) => ({launcher: 'torchrun', rank, size: 2, localRank: rank, localSize: 2, runId: 'save-42', host: 'h', ...over})
const gpu = (busId, device = 0) => ({host: 'h', busId, device})
const noId = () => assert.fail('only rank 0 makes the id')

function withDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'kvbench-rdzv-'))
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, {recursive: true, force: true}))
}


test('a directory: rank 1 waits for the id rank 0 answers with; once rank 0 closes, nothing is left there', () =>
  withDir(async (dir) => {
    const waiting = exchangeNcclId(world(1), rendezvousTarget(dir, world(1)), gpu('0000:02:00.0', 1), noId, 5000)
    await new Promise((r) => setTimeout(r, 150))
    const zero = await exchangeNcclId(world(0), rendezvousTarget(`file://${dir}`, world(0)), gpu('0000:01:00.0'), () => ID, 5000)
    const one = await waiting
    assert.equal(one.idHex, ID)
    assert.equal(zero.idHex, ID)
    assert.equal(zero.where, dir)
    await one.close()
    assert.ok(readdirSync(dir).length > 0, 'only rank 0 removes the keys')
    await zero.close()
    assert.deepEqual(readdirSync(dir), [])
  }))

test('a TCPStore rank 0 serves (tcp://): four ranks meet, in any order, and rank 0 stops serving when it closes', async () => {
  const port = await freePort()
  const four = (rank) => world(rank, {size: 4, localSize: 4})
  const spec = `tcp://127.0.0.1:${port}`
  const others = [3, 1, 2].map((r) => exchangeNcclId(four(r), rendezvousTarget(spec, four(r)), gpu(`0000:0${r + 1}:00.0`, r), noId, 5000))
  await new Promise((r) => setTimeout(r, 300))  // they retry until rank 0 listens
  const zero = await exchangeNcclId(four(0), rendezvousTarget(spec, four(0)), gpu('0000:01:00.0'), () => ID, 5000)
  const ids = await Promise.all(others)
  assert.deepEqual(ids.map((x) => x.idHex), [ID, ID, ID])
  assert.match(zero.where, new RegExp(`the TCPStore at 127\\.0\\.0\\.1:${port}`))
  await Promise.all(ids.map((x) => x.close()))
  await zero.close()
  await assert.rejects(TcpStoreClient.connect('127.0.0.1', port, Date.now() + 300), /nothing listens there/)
})

test('a store kvbench does not serve (env:// under torchrun\'s agent): every rank connects; rank 0 deletes its keys', async () => {
  const store = await serveTcpStore(0)
  const env = {MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(store.port), TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '3'}
  try {
    const t0 = rendezvousTarget('env://', world(0), env)
    assert.equal(t0.serve, false)
    assert.equal(t0.prefix, 'kvbench/save-42/3/')
    const [zero, one] = await Promise.all([
      exchangeNcclId(world(0), t0, gpu('0000:01:00.0'), () => ID, 5000),
      exchangeNcclId(world(1), rendezvousTarget('env://', world(1), env), gpu('0000:02:00.0', 1), noId, 5000),
    ])
    assert.equal(one.idHex, ID)
    await one.close()
    await zero.close()
    const peek = await TcpStoreClient.connect('127.0.0.1', store.port, Date.now() + 1000)
    for (const k of ['answer', 'rank-0', 'rank-1', 'read-1']) assert.equal(await peek.get(`kvbench/save-42/3/${k}`), null, k)
    peek.close()
  } finally {
    await store.close()
  }
})

test('two ranks on one GPU of one host: both refused in one sentence naming them (exit 2), nothing left', () =>
  withDir(async (dir) => {
    const results = await Promise.allSettled([
      exchangeNcclId(world(0), rendezvousTarget(dir, world(0)), gpu('0000:19:00.0'), () => ID, 5000),
      exchangeNcclId(world(1), rendezvousTarget(dir, world(1)), gpu('0000:19:00.0'), noId, 5000),
    ])
    for (const r of results) {
      assert.equal(r.status, 'rejected')
      assert.equal(r.reason.exit, 2)
      assert.match(r.reason.message, /^ranks 0 and 1 both run on GPU 0000:19:00\.0 of host h \(device 0 and 0 there\): one NCCL communicator needs a GPU per rank/)
    }
    assert.deepEqual(readdirSync(dir), [])
  }))

test('rank 0 without NCCL: every rank hears why, none waits for an id', () =>
  withDir(async (dir) => {
    const results = await Promise.allSettled([
      exchangeNcclId(world(0), rendezvousTarget(dir, world(0)), gpu('a'), () => { throw new Error('libnccl.so.2 not found') }, 5000),
      exchangeNcclId(world(1), rendezvousTarget(dir, world(1)), gpu('b'), noId, 5000),
    ])
    for (const r of results) assert.match(r.reason.message, /rank 0 could not make the NCCL id: libnccl\.so\.2 not found/)
    assert.deepEqual(readdirSync(dir), [])
  }))

test('waits end in one line naming who did not come (exit 1): rank 0 alone, rank 1 alone, and an answer a killed run left', () =>
  withDir(async (dir) => {
    await assert.rejects(exchangeNcclId(world(0), rendezvousTarget(dir, world(0)), gpu('a'), () => ID, 300), (e) => e.exit === 1 && /^rank 0 waited 0 s for rank 1 at .*: it did not start/.test(e.message))
    assert.deepEqual(readdirSync(dir), [], 'rank 0 removes its keys after a failed wait too')
    await assert.rejects(exchangeNcclId(world(1), rendezvousTarget(dir, world(1)), gpu('b'), noId, 300), (e) => e.exit === 1 && /^rank 1 waited 0 s for rank 0's NCCL id at .*: rank 0 did not start/.test(e.message))
    writeFileSync(join(dir, 'kvbench-save-42.0-answer.json'), JSON.stringify({nonces: ['x', 'y'], idHex: ID}))
    await assert.rejects(exchangeNcclId(world(1), rendezvousTarget(dir, world(1)), gpu('b'), noId, 300), /the answer there names another process as this rank \(a killed run of the same id left it/)
  }))

test('the TCPStore server drops a connection whose first query is not a validation, and answers a WAIT once its key is set', async () => {
  const store = await serveTcpStore(0)
  try {
    const s = new Socket()
    await new Promise((r) => s.connect(store.port, '127.0.0.1', r))
    const closed = new Promise((r) => s.once('close', r))
    s.write(Buffer.from([5, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 107]))  // CHECK ["k"], unvalidated
    await closed
    // torch's clients WAIT before they GET: the answer comes once the key is set
    const w = new Socket()
    await new Promise((r) => w.connect(store.port, '127.0.0.1', r))
    const woken = new Promise((r) => w.once('data', r))
    w.write(Buffer.from([0, 0xce, 0xf7, 0x85, 0x3c, 6, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 107]))  // VALIDATE, WAIT ["k"]
    const c = await TcpStoreClient.connect('127.0.0.1', store.port, Date.now() + 1000)
    await new Promise((r) => setTimeout(r, 50))
    await c.set('k', 'v')
    assert.deepEqual([...(await woken)], [0], 'STOP_WAITING')
    w.destroy()
    assert.equal(await c.get('k'), 'v')
    await c.delete('k')
    assert.equal(await c.get('k'), null)
    c.close()
  } finally {
    await store.close()
  }
})

test('--rendezvous read before anything runs: one line each naming what is wrong', () => {
  const w = world(0)
  const cases = [
    [() => rendezvousTarget('env://', w, {}), /--rendezvous env:\/\/: MASTER_ADDR is not set/],
    [() => rendezvousTarget('env://', w, {MASTER_ADDR: 'h'}), /--rendezvous env:\/\/: MASTER_PORT is not set/],
    [() => rendezvousTarget('env://', w, {MASTER_ADDR: 'h', MASTER_PORT: '70000'}), /MASTER_PORT must be a port, 1-65535, got "70000"/],
    [() => rendezvousTarget('tcp://head', w), /--rendezvous tcp:\/\/head: write tcp:\/\/HOST:PORT/],
    [() => rendezvousTarget('redis://h:1', w), /--rendezvous redis:\/\/h:1: env:\/\/, tcp:\/\/HOST:PORT or a directory/],
    [() => rendezvousTarget('/nonexistent-kvbench', w), /--rendezvous \/nonexistent-kvbench: not a directory/],
    [() => rendezvousTarget(tmpdir(), world(0, {runId: null})), /no run id to name its files/],
  ]
  for (const [f, message] of cases) assert.throws(f, (e) => e.exit === 2 && message.test(e.message))
  assert.equal(rendezvousTarget('env://', w, {MASTER_ADDR: 'h', MASTER_PORT: '29500'}).serve, true, 'no agent store: rank 0 serves, as torch does')
  assert.equal(rendezvousTarget('env://', world(1), {MASTER_ADDR: 'h', MASTER_PORT: '29500'}).serve, false)
  const v6 = rendezvousTarget('tcp://[::1]:29500', w)
  assert.equal(v6.host, '::1')
})

test('the flags: one line each, exit 2', () => {
  const ranks = {WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '1', TORCHELASTIC_RUN_ID: 'save-42'}
  const cases = [
    [['save', '--all-reduce', 'nccl'], ranks, /--all-reduce nccl: the 2 ranks of this torchrun run need rank 0's NCCL id: give --rendezvous env:\/\//],
    [['save', '--rendezvous', tmpdir()], ranks, /--rendezvous hands rank 0's NCCL id to the other ranks: it needs --all-reduce nccl/],
    [['save', '--all-reduce', 'nccl', '--rendezvous', tmpdir()], {}, /--rendezvous hands rank 0's NCCL id/],
    [['save', '--all-reduce', 'nccl', '--rendezvous', tmpdir()], {WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '1'}, /no run id to name its files/],
    [['save', '--all-reduce', 'nccl', '--rendezvous', 'env://'], ranks, /--rendezvous env:\/\/: MASTER_ADDR is not set/],
    [['save', '--all-reduce', 'nccl', '--rendezvous', tmpdir(), '--rank-timeout', '0'], ranks, /--rank-timeout must be 1 to 86400 seconds, got 0/],
  ]
  for (const [args, env, message] of cases) {
    const r = kvbench(args, {env: {MASTER_ADDR: '', MASTER_PORT: '', ...env}})
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
})

test('a rank left without steps for --rank-timeout: the run is asked to stop, its communicator aborted, and it fails naming the rank; one still inside the GPU after the grace has its process ended, one that returned does not', async () => {
  const watch = (work, ends) => {
    const calls = {stopped: 0, aborted: []}
    const p = withRankWatchdog(work, {rank: 3, timeoutS: 0.2, steps: () => 7, stopRun: () => calls.stopped++, abortAllReduce: (why) => calls.aborted.push(why), endProcess: (code, why) => ends.push([code, why]), checkEveryMs: 20, graceMs: 150})
    return {p, calls}
  }
  const stuck = []
  const hung = watch(new Promise(() => {}), stuck)
  await assert.rejects(hung.p, (e) => e.exit === 1 && e.code === 'RANK_STALLED' && /^rank 3: no forward step for 0.2 s \(--rank-timeout\): a peer rank stopped or died/.test(e.message))
  assert.equal(hung.calls.stopped, 1)
  assert.equal(hung.calls.aborted.length, 1)
  assert.match(hung.calls.aborted[0], /^rank 3: no forward step for 0.2 s/, 'the communicator aborted with the reason')
  assert.deepEqual(stuck, [], 'not before the grace')
  await new Promise((r) => setTimeout(r, 250))
  assert.deepEqual(stuck, [[1, 'rank 3: the run was still inside the GPU 0.15 s after its communicator was aborted: process ended without cleanup']], 'ended, exit 1, saying so')

  const returned = []
  let finish
  const ok = watch(new Promise((r) => (finish = r)), returned)
  await assert.rejects(ok.p, /rank 3: no forward step/)
  finish('cancelled run')
  await new Promise((r) => setTimeout(r, 250))
  assert.deepEqual(returned, [], 'a run that returned within the grace ends on its own')

  const steps = {n: 0}
  const moving = withRankWatchdog(new Promise((r) => setTimeout(() => r('done'), 400)), {rank: 0, timeoutS: 0.2, steps: () => steps.n++, stopRun: () => assert.fail('steps came'), abortAllReduce: () => assert.fail('steps came'), endProcess: () => assert.fail('steps came'), checkEveryMs: 20})
  assert.equal(await moving, 'done')
})

test('exitNow: the process ends with the code given, no exit handler run (a thread stuck inside CUDA cannot hold it up)', () => {
  const script = `import {loadAddon} from './dist/native/load.js'; process.on('exit', () => console.log('exit handler ran')); const a = loadAddon(); setInterval(() => {}, 1000); a.exitNow(3)`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {cwd: ROOT, encoding: 'utf8'})
  assert.equal(r.status, 3, r.stderr)
  assert.doesNotMatch(r.stdout, /exit handler ran/)
})
