// GPU suite for save/load/mix --gpus: every GPU of the host a worker, all at once (on a host of
// one GPU, a world of one through the same workers, barriers and communicator): every GPU's bytes
// verified, the sums, the all-reduce across the GPUs with every probe sum right, a worker that
// fails on purpose (exit 1, named), an interrupt that stops every GPU (partial, no hang), bad input.
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {gpuGate, kvbench, kvbenchAsync, kvbenchJson} from '../helpers/cli.mjs'
import {assertSchema} from '../helpers/schema.mjs'

const oneWay = (d) => d.direction === 'save' || d.direction === 'load'
const SMALL = ['--profile', 'llama-3.2-1b', '--batch', '4', '--prompt-tokens', '1024', '--decode-steps', '12', '--strategy', 'staged']

describe('--gpus on a GPU host', gpuGate(), () => {
  const env = kvbenchJson(['env']).json.environment
  const gpus = env.gpus.map((g) => g.index)

  for (const mode of ['save', 'load', 'mix']) {
    test(`${mode} --gpus all --all-reduce nccl: every GPU verified, one communicator, the sums`, () => {
      const r = kvbenchJson([mode, ...SMALL, '--design', 'async', '--gpus', 'all', '--all-reduce', 'nccl'])
      assert.equal(r.code, 0, r.stderr + r.json.notes?.join('\n'))
      assertSchema(`${mode}.schema.json`, r.json)
      const res = r.json.results
      assert.deepEqual(res.workers.map((w) => w.device), gpus)
      for (const w of res.workers) {
        assert.equal(w.error, null)
        // Placed on the GPU's NUMA node and local CPUs, where sysfs says them.
        const g = env.gpus.find((x) => x.index === w.device)
        if (g.cpuAffinity || g.numaNode !== null) {
          assert.equal(w.placement.numaNode, g.numaNode ?? (env.host.numaNodes === 1 ? 0 : null))
          if (g.cpuAffinity) assert.ok(w.placement.cpusAllowed > 0 && w.placement.cpus !== null, JSON.stringify(w.placement))
          if (w.placement.numaNode !== null) assert.ok(w.placement.memoryBound || /set_mempolicy/.test(w.placement.note), JSON.stringify(w.placement))
        }
        assert.deepEqual([w.results.forward.allReduce.world, w.results.forward.allReduce.rank], [gpus.length, gpus.indexOf(w.device)])
        for (const d of w.results.designs.filter((x) => x.design !== 'off')) {
          assert.equal(d.verified, true, `GPU ${w.device} ${d.design} ${d.direction ?? ''}`)
          if (!oneWay(d)) assert.equal(d.allReduce.mismatches, 0)  // a mix's all-reduce is its together row's
        }
      }
      const t = res.together
      assert.deepEqual(t.gpus, gpus)
      assert.ok(t.designs.some((d) => d.design === 'async'))
      t.designs.forEach((row, i) => {
        if (row.design === 'off') return
        const sum = row.gpus.reduce((a, g) => a + res.workers.find((w) => w.device === g).results.designs[i].transfer.gbps, 0)
        assert.ok(Math.abs(row.gbps - sum) < 1e-6 * sum, `${row.gbps} vs ${sum}`)
        assert.equal(row.verified, true)
        assert.ok(gpus.includes(row.slowestGpu))
        if (!oneWay(row)) assert.equal(row.allReduceP50Ms.length, row.gpus.length)
      })
    })
  }

  test('load --gpus all --backend file: every GPU\'s records apart, read back through the store, nothing left behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvbench-gpus-store-'))
    try {
      const r = kvbenchJson(['load', ...SMALL, '--design', 'async', '--gpus', 'all', '--backend', `file:${dir}`])
      assert.equal(r.code, 0, r.stderr + r.json.notes?.join('\n'))
      for (const w of r.json.results.workers) {
        assert.equal(w.results.backend.alone.verified, true, `GPU ${w.device}`)
        for (const d of w.results.designs.filter((x) => x.design !== 'off')) {
          assert.ok(d.store.gets.done > 0 && d.store.gets.failed === 0, `GPU ${w.device}: ${JSON.stringify(d.store.gets)}`)
          assert.equal(d.verified, true)
        }
      }
      assert.deepEqual(readdirSync(dir), [], 'the run left files behind')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('a worker that fails on purpose: named, exit 1 (others, where the host has them, stop: partial)', () => {
    const r = kvbenchJson(['save', ...SMALL, '--design', 'async', '--gpus', 'all', '--inject', 'gpu-worker-fails', '--reference-steps', '0'])
    assert.equal(r.code, 1, r.stderr)
    const last = gpus[gpus.length - 1]
    if (gpus.length === 1) {
      assert.equal(r.json.status, 'error')
      assert.match(r.json.error.message, new RegExp(`GPU ${last}: --inject gpu-worker-fails: GPU ${last}'s worker failed on purpose`))
    } else {
      assert.equal(r.json.status, 'partial')
      assert.match(r.json.notes.join('\n'), new RegExp(`GPU ${last}'s worker FAILED`))
    }
  })

  test('an interrupt stops every GPU (with the all-reduce, on the same step): partial, exit 130', async () => {
    const {child, done} = kvbenchAsync(['save', '--profile', 'llama-3.2-1b', '--decode-steps', '100000', '--strategy', 'staged', '--design', 'async', '--gpus', 'all', '--all-reduce', 'nccl', '--json'])
    setTimeout(() => child.kill('SIGINT'), 12_000)  // past the ceilings and strategies, inside the steps
    const r = await done
    assert.equal(r.code, 130, r.stderr)
    const j = JSON.parse(r.stdout)
    assertSchema('save.schema.json', j)
    assert.equal(j.status, 'partial')
    assert.ok(j.notes.some((n) => /interrupted/.test(n)))
    for (const w of j.results.workers) assert.equal(w.error, null)
  })

  test('bad input: a GPU the host lacks names the ones it has, exit 2', () => {
    const r = kvbench(['save', ...SMALL, '--gpus', `${gpus[0]},99`])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /--gpus \d+,99: no GPU 99: this host has GPU/)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })
})
