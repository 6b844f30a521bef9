// GPU suite for --all-reduce nccl under a launcher's ranks, on a host of one GPU (so every
// communicator here would put two ranks on one GPU, which kvbench refuses before NCCL is asked):
// torch's own TCPStore client against the store kvbench serves, kvbench's ranks meeting through
// torch's TCPStore (as under torchrun's agent) and through the one rank 0 serves (env://), the
// refusal reaching every rank with no key left, a lone rank's wait ending (exit 1), and a rank whose
// peer is killed mid-run ending within --rank-timeout. And one
// communicator over two processes after all: rank 1 in a UTS namespace of its own has another host
// name, so kvbench and NCCL take the two ranks for two hosts (NCCL then joins them over sockets, so
// its times say nothing; the probe sums, checked on every call, say the sums were right).
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {describe, test} from 'node:test'

import {serveTcpStore} from '../../dist/core/launch/rendezvous/tcp-store.js'
import {gpuGate, kvbenchAsync} from '../helpers/cli.mjs'
import {freePort} from '../helpers/net.mjs'

/** A small save with the all-reduce; `decodeSteps` for a run that must last (a flag given twice is refused). */
const small = (decodeSteps = 12) => ['save', '--profile', 'llama-3.2-1b', '--batch', '4', '--prompt-tokens', '1024', '--decode-steps', String(decodeSteps), '--strategy', 'staged', '--design', 'async', '--all-reduce', 'nccl', '--json']
const SMALL = small()
const SHARED = /ranks 0 and 1 both run on GPU [0-9A-Fa-f:.]+ of host .+ \(device 0 and 0 there\): one NCCL communicator needs a GPU per rank/

function torchReason() {
  const r = spawnSync('python3', ['-c', 'import torch.distributed as d; print(d.TCPStore)'], {encoding: 'utf8'})
  return r.status === 0 ? null : `python3 cannot import torch.distributed: ${(r.stderr || '').trim().split('\n').pop()}`
}

function python(code, args = []) {
  return spawnSync('python3', ['-c', code, ...args], {encoding: 'utf8', timeout: 60_000})
}


/** Ranks 0 and 1 started at once; each a kvbenchAsync handle (its child and its done). */
const startRanks = (env, rankArgs = [], wrap = () => [], base = SMALL) =>
  [0, 1].map((rank) => kvbenchAsync([...base, ...rankArgs], {env: {WORLD_SIZE: '2', RANK: String(rank), LOCAL_RANK: '0', ...env}, wrap: wrap(rank), detached: true}))
const ranks = (...a) => startRanks(...a).map((r) => r.done)

const gate = gpuGate()
const torch = gate.skip ? null : torchReason()

describe('ranks of a launcher meeting for the NCCL id', torch ? {skip: torch} : gate, () => {
  test("torch's TCPStore client reads and writes the store kvbench serves", async () => {
    const store = await serveTcpStore(0)
    try {
      const code = `
import sys, datetime, torch.distributed as d
s = d.TCPStore('127.0.0.1', int(sys.argv[1]), is_master=False, timeout=datetime.timedelta(seconds=20), wait_for_workers=False)
s.set('k', 'v'); print(s.get('k').decode()); s.add('n', 2); print(s.add('n', 3)); print(s.check(['k'])); s.delete_key('k'); print(s.check(['k']))`
      // The client is run off this thread's event loop (spawn, not spawnSync): the server is served here.
      const child = spawn('python3', ['-c', code, String(store.port)])
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (err += d))
      const status = await new Promise((r) => child.on('close', r))
      assert.equal(status, 0, err)
      assert.deepEqual(out.trim().split('\n'), ['v', '5', 'True', 'False'])
    } finally {
      await store.close()
    }
  })

  test("two ranks on one GPU through torch's TCPStore (torchrun's agent store): both refused, exit 2, no key left", async () => {
    const server = spawn('python3', ['-c', `
import sys, datetime, torch.distributed as d
s = d.TCPStore('127.0.0.1', 0, is_master=True, timeout=datetime.timedelta(seconds=60), wait_for_workers=False)
print(s.port, flush=True); sys.stdin.read()`])
    try {
      const port = await new Promise((resolve, reject) => {
        server.stdout.once('data', (d) => resolve(Number(String(d).trim())))
        server.once('close', () => reject(new Error('the TCPStore server ended')))
      })
      const env = {MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RUN_ID: 'gpu-shared'}
      const results = await Promise.all(ranks(env, ['--rendezvous', 'env://', '--rank-timeout', '60']))
      for (const [rank, r] of results.entries()) {
        assert.equal(r.code, 2, `rank ${rank}: ${r.stdout.slice(0, 600)} ${r.stderr}`)
        assert.match(r.stdout + r.stderr, SHARED, `rank ${rank}`)
      }
      const keys = ['answer', 'rank-0', 'rank-1', 'read-1'].map((k) => `kvbench/gpu-shared/0/${k}`)
      const left = python(`
import sys, datetime, torch.distributed as d
s = d.TCPStore('127.0.0.1', int(sys.argv[1]), is_master=False, timeout=datetime.timedelta(seconds=20), wait_for_workers=False)
print([k for k in sys.argv[2:] if s.check([k])])`, [String(port), ...keys])
      assert.equal(left.status, 0, left.stderr)
      assert.equal(left.stdout.trim(), '[]')
    } finally {
      server.stdin.end()
      server.kill()
    }
  })

  test('two ranks on one GPU through the TCPStore rank 0 serves (env://, no agent): both refused, exit 2', async () => {
    const env = {MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(await freePort()), TORCHELASTIC_RUN_ID: 'gpu-shared-own'}
    const results = await Promise.all(ranks(env, ['--rendezvous', 'env://', '--rank-timeout', '60']))
    for (const [rank, r] of results.entries()) {
      assert.equal(r.code, 2, `rank ${rank}: ${r.stdout.slice(0, 600)} ${r.stderr}`)
      assert.match(r.stdout + r.stderr, SHARED, `rank ${rank}`)
    }
  })

  /** Ranks 0 and 1 on GPU 0, rank 1 under another host name (its own UTS namespace). */
  const otherHost = ['unshare', '-u', 'sh', '-c', 'hostname kvbench-other-host && exec "$@"', 'sh']
  const twoHosts = async (runId, extra, base = SMALL) =>
    startRanks({MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(await freePort()), TORCHELASTIC_RUN_ID: runId}, ['--rendezvous', 'env://', ...extra], (rank) => (rank === 1 ? otherHost : []), base)

  const unshare = spawnSync('unshare', ['-u', 'true']).status === 0 ? null : 'unshare -u is not allowed here (a UTS namespace needs root)'
  test('two ranks of two host names on one GPU: one NCCL communicator over two processes, every probe sum right, every byte verified', {skip: unshare ?? false}, async () => {
    const results = await Promise.all((await twoHosts('gpu-two-hosts', ['--rank-timeout', '120'])).map((r) => r.done))
    for (const [rank, r] of results.entries()) {
      assert.equal(r.code, 0, `rank ${rank}: ${r.stdout.slice(0, 800)} ${r.stderr}`)
      const j = JSON.parse(r.stdout)
      assert.equal(j.run.world.rank, rank)
      assert.deepEqual([j.results.forward.allReduce.world, j.results.forward.allReduce.rank], [2, rank])
      for (const d of j.results.designs) {
        assert.equal(d.allReduce.mismatches, 0, `rank ${rank} ${d.design}`)
        assert.ok(d.allReduce.calls >= 2 * 16 * 15, `rank ${rank} ${d.design}: ${d.allReduce.calls} calls`)
        if (d.design !== 'off') assert.equal(d.verified, true, `rank ${rank} ${d.design}`)
      }
      assert.match(j.notes.join('\n'), /all-reduce across the 2 ranks of this torchrun run; rank 0's NCCL id through the TCPStore at 127\.0\.0\.1:/)
    }
  })

  test('a peer killed mid-run: the rank left waiting in its all-reduce fails naming itself within --rank-timeout, and its process ends', {skip: unshare ?? false}, async () => {
    const [zero, one] = await twoHosts('gpu-peer-killed', ['--rank-timeout', '15'], small(64))
    await new Promise((r) => setTimeout(r, 15_000))  // both in their forward steps (about 0.3 s a step over sockets)
    process.kill(-one.child.pid, 'SIGKILL')
    const killedAt = Date.now()
    const limit = setTimeout(() => process.kill(-zero.child.pid, 'SIGKILL'), 60_000)
    const r = await zero.done
    clearTimeout(limit)
    assert.equal(r.signal, null, `rank 0 was still running 60 s after its peer was killed: ${r.stderr.slice(-600)}`)
    assert.equal(r.code, 1, `${r.stdout.slice(0, 600)} ${r.stderr}`)
    assert.match(r.stdout + r.stderr, /rank 0: no forward step for 15 s \(--rank-timeout\): a peer rank stopped or died/)
    assert.ok(Date.now() - killedAt < 45_000, `rank 0 ended ${Date.now() - killedAt} ms after the kill`)
    // the abort freed the run, which returned and cleaned up: the last resort (ending the process) was not needed
    assert.doesNotMatch(r.stderr, /process ended without cleanup/)
    await one.done
  })

  test('Ctrl-C on one rank: both stop at the same forward step, partial, exit 130, and neither waits for --rank-timeout', {skip: unshare ?? false}, async () => {
    const [zero, one] = await twoHosts('gpu-agreed-stop', ['--rank-timeout', '60'], small(64))
    await new Promise((r) => setTimeout(r, 15_000))  // both in their forward steps
    process.kill(-zero.child.pid, 'SIGINT')  // rank 0 only: rank 1 learns it from their vote
    const askedAt = Date.now()
    const limit = setTimeout(() => [zero, one].forEach((r) => r.child.exitCode === null && process.kill(-r.child.pid, 'SIGKILL')), 50_000)
    const results = await Promise.all([zero.done, one.done])
    clearTimeout(limit)
    assert.ok(Date.now() - askedAt < 45_000, `the ranks ended ${Date.now() - askedAt} ms after the Ctrl-C`)
    const designs = results.map((r, rank) => {
      assert.equal(r.signal, null, `rank ${rank} was killed: ${r.stderr.slice(-600)}`)
      assert.equal(r.code, 130, `rank ${rank}: ${r.stdout.slice(0, 600)} ${r.stderr}`)
      assert.doesNotMatch(r.stdout + r.stderr, /no forward step for/)
      const j = JSON.parse(r.stdout)
      assert.equal(j.status, 'partial', `rank ${rank}`)
      assert.match(j.notes.join('\n'), /the 2 ranks stopped together, at the same forward step: 1 of them asked/)
      for (const d of j.results.designs) assert.equal(d.allReduce?.mismatches ?? 0, 0, `rank ${rank} ${d.design}`)
      return j.results.designs.map((d) => `${d.design}:${d.steps}`)
    })
    assert.ok(designs[0].some((d) => !d.endsWith(':0')), `the Ctrl-C came before any forward step: ${designs[0]}`)
    assert.deepEqual(designs[0], designs[1], 'both ranks ran the same designs and steps')
  })

  test('a rank whose rank 0 never comes: its wait ends in one line, exit 1', async () => {
    const env = {WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '0', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(await freePort()), TORCHELASTIC_RUN_ID: 'gpu-alone'}
    const r = await kvbenchAsync([...SMALL, '--rendezvous', 'env://', '--rank-timeout', '3'], {env}).done
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stdout + r.stderr, /nothing listens there \(ECONNREFUSED\) after waiting: the rank that serves it did not start/)
  })
})
