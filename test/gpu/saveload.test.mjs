// GPU suite for `kvbench save` / `kvbench load`: every strategy moves correct data,
// verification catches a corruption and a real race, the designs block the way
// they should, Ctrl-C frees what it took.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {planWorkload} from '../../dist/core/plan.js'
import {loadProfile} from '../../dist/core/profile.js'
import {addonPath, gpuGate, kvbench, kvbenchAsync, kvbenchJson, ROOT} from '../helpers/cli.mjs'
import {assertSchema} from '../helpers/schema.mjs'

// Small enough to run in seconds, big enough that every job spans several pieces.
const SMALL = ['--profile', 'llama-3.2-1b', '--batch', '4', '--prompt-tokens', '1024', '--decode-steps', '12']

describe('save and load on a GPU', gpuGate(), () => {
  for (const mode of ['save', 'load']) {
    test(`${mode}: every strategy and design moves bit-exact data`, () => {
      const r = kvbenchJson([mode, ...SMALL, '--strategy', 'all'])
      assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
      assertSchema(`${mode}.schema.json`, r.json)
      const res = r.json.results
      assert.deepEqual(res.strategies.map((s) => s.strategy), ['per-chunk', 'batch', 'mapped-kernel', 'staged'])
      for (const s of res.strategies) {
        assert.equal(s.save.verified, true, `${s.strategy} save`)
        assert.equal(s.load.verified, true, `${s.strategy} load`)
        assert.ok(s.save.gbps > 0.5 && s.load.gbps > 0.5)
      }
      assert.equal(res.designs.length, 1 + 2 * 4)
      // The defaults: one gather CTA per chunk, and the profile's ring (llama-3.2-1b's: 64 MiB in HBM), said so.
      assert.equal(res.workload.copyCtas, 0)
      assert.equal(res.workload.stagingBytes, 64 * 2 ** 20)
      assert.equal(res.workload.stagingInL2, false)
      assert.ok(r.json.notes.some((n) => /^staging ring 64 MiB, --staging-l2 normal: profile llama-3.2-1b's staging/.test(n)), r.json.notes.join('\n'))
      // The host noise probe ran beside the forward-only baseline: about 1 us a repetition.
      assert.ok(res.hostNoise && res.hostNoise.probeSeconds > 0, JSON.stringify(res.hostNoise))
      assert.ok(res.hostNoise.repUs > 0.3 && res.hostNoise.repUs < 3, `repUs ${res.hostNoise.repUs}`)
      assert.ok(res.hostNoise.slowRepsPct >= 0 && res.hostNoise.slowRepsPct <= 100, `slowRepsPct ${res.hostNoise.slowRepsPct}`)
      // The link reference ran between the baselines: a contiguous copy stream in the run's direction.
      const ref = res.reference
      assert.ok(ref, 'a link reference')
      assert.equal(ref.steps, 12)
      assert.equal(ref.nonFiniteOutputs, 0)
      assert.ok(ref.gbps > 1 && ref.pctOfCeiling > 20 && ref.pctOfCeiling < 115, `reference ${ref.gbps} GB/s, ${ref.pctOfCeiling}%`)
      assert.equal(typeof ref.slowdownPct, 'number')
      for (const d of res.designs) {
        assert.equal(d.nonFiniteOutputs, 0, `${d.design}/${d.strategy} NaN`)
        if (d.design !== 'off') {
          assert.equal(d.verified, true, `${d.design}/${d.strategy}`)
          assert.ok(d.chunksChecked > 0 && d.transfer.jobsDone > 0)
        }
      }
    })
  }

  for (const mode of ['save', 'load']) {
    test(`${mode}: staged with a batch share moves bit-exact data through both paths`, () => {
      const r = kvbenchJson([mode, ...SMALL, '--strategy', 'staged', '--batch-share', '50', '--reference-steps', '0', '--staging-l2', 'normal', '--staging-mib', '64'])
      assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
      assertSchema(`${mode}.schema.json`, r.json)
      const res = r.json.results
      assert.equal(res.reference, null, '--reference-steps 0 skips the link reference')
      assert.equal(res.workload.batchSharePct, 50)
      assert.equal(res.workload.stagingInL2, false, '--staging-l2 normal: the ring in HBM')
      assert.ok(r.json.notes.some((n) => n.startsWith('--batch-share 50')), r.json.notes.join('\n'))
      assert.equal(res.strategies[0].save.verified, true)
      assert.equal(res.strategies[0].load.verified, true)
      for (const d of res.designs.filter((x) => x.design !== 'off')) {
        assert.equal(d.verified, true, `${d.design}`)
        assert.ok(d.transfer.jobsDone > 0)
      }
    })
  }

  for (const mode of ['save', 'load']) {
    // The default gather runs one CTA per chunk; a capped grid loops each CTA over several chunks.
    test(`${mode}: staged with 3 looping gather CTAs and an L2-persisting ring moves bit-exact data`, () => {
      const r = kvbenchJson([mode, ...SMALL, '--strategy', 'staged', '--copy-ctas', '3', '--staging-mib', '16', '--staging-l2', 'persist', '--copy-cache', 'stream', '--reference-steps', '0'])
      assert.equal(r.code, 0, r.stderr + r.json.notes.join('\n'))
      const res = r.json.results
      assert.equal(res.workload.stagingInL2, true)
      assert.equal(res.workload.copyCtas, 3)
      assert.equal(res.strategies[0].save.verified, true)
      assert.equal(res.strategies[0].load.verified, true)
      for (const d of res.designs.filter((x) => x.design !== 'off')) {
        assert.equal(d.verified, true, `${d.design}`)
        assert.ok(d.transfer.jobsDone > 0)
      }
    })
  }

  test('verification catches an injected corruption', () => {
    const r = kvbenchJson(['save', ...SMALL, '--strategy', 'staged', '--connector', 'off', '--inject', 'corrupt-host'])
    assert.equal(r.code, 1)
    const s = r.json.results.strategies[0]
    assert.equal(s.save.verified, false)
    assert.ok(s.save.mismatches >= 1)
    assert.ok(r.json.notes.some((n) => /verification FAILED: staged save/.test(n)))
  })

  test('verification catches a dropped event wait (a real race)', () => {
    const r = kvbenchJson(['save', ...SMALL, '--strategy', 'staged', '--design', 'async', '--inject', 'drop-event-wait'])
    assert.equal(r.code, 1, 'a save that does not wait for the KV write must copy stale data')
    const d = r.json.results.designs.find((x) => x.design === 'async')
    assert.equal(d.verified, false)
    assert.ok(d.mismatches > 0)
    // The same run with the wait in place passes: the failure is the race, not the harness.
    const ok = kvbenchJson(['save', ...SMALL, '--strategy', 'staged', '--design', 'async'])
    assert.equal(ok.code, 0, ok.stderr)
  })

  test('--trace: every copy starts after its layer\'s KV write, every hook inside its step; a dropped wait shows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvbench-trace-'))
    try {
      const read = (args, file) => {
        const r = kvbenchJson(['save', ...SMALL, '--strategy', 'staged', '--trace', join(dir, file), '--trace-steps', '8', ...args])
        const t = JSON.parse(readFileSync(join(dir, file), 'utf8'))
        return {r, t}
      }
      // The copies of one design's process, each with the end of its layer's KV write on the compute stream.
      const copiesAfterLayers = (t, pid) => {
        const layerEnd = new Map()
        for (const e of t.traceEvents) if (e.pid === pid && e.cat === 'kv-write') layerEnd.set(`${e.args.step}/${e.args.layer}`, e.ts + e.dur)
        return t.traceEvents.filter((e) => e.pid === pid && e.cat === 'copy').map((c) => ({c, layerEnd: layerEnd.get(`${c.args.step}/${c.args.layer}`)}))
      }
      const {r, t} = read([], 'ok.json')
      assert.equal(r.code, 0, r.stderr)
      const procs = t.traceEvents.filter((e) => e.name === 'process_name')
      assert.deepEqual(procs.map((p) => p.args.name.split(': ')[1]), ['connector off', 'async/staged', 'blocking/staged', 'connector off (closing)'])
      const asyncPid = procs[1].pid
      const tracks = t.traceEvents.filter((e) => e.pid === asyncPid && e.name === 'thread_name').map((e) => e.args.name)
      assert.equal(tracks.length, 4, tracks.join('; '))
      const pairs = copiesAfterLayers(t, asyncPid)
      assert.ok(pairs.length >= 8 * 16, `${pairs.length} copies traced`)
      for (const {c, layerEnd} of pairs) {
        assert.ok(layerEnd !== undefined, `copy of step ${c.args.step} layer ${c.args.layer} has no layer span`)
        assert.ok(c.ts >= layerEnd - 1, `copy of step ${c.args.step} layer ${c.args.layer} starts ${layerEnd - c.ts} µs before its layer's KV write ended`)
      }
      for (const pid of procs.map((p) => p.pid)) {
        const steps = new Map(t.traceEvents.filter((e) => e.pid === pid && e.cat === 'step').map((e) => [e.args.step, e]))
        assert.equal(steps.size, 8, procs.find((p) => p.pid === pid).args.name)
        for (const h of t.traceEvents.filter((e) => e.pid === pid && e.cat === 'hook')) {
          const s = steps.get(h.args.step)
          assert.ok(h.ts >= s.ts - 0.01 && h.ts + h.dur <= s.ts + s.dur + 0.01, `${h.name} of step ${h.args.step} outside its step`)
        }
      }
      assert.ok(Object.values(t.otherData.alignmentErrorUs).every((e) => e >= 0 && e < 100), JSON.stringify(t.otherData.alignmentErrorUs))
      const busy = r.json.results.designs.find((d) => d.design === 'async').connectorBusyPct
      assert.ok(busy > 0 && busy <= 100, `connector busy ${busy}%`)
      // Without the event wait, the timeline shows copies that started before their layer was written.
      const bad = read(['--design', 'async', '--inject', 'drop-event-wait'], 'race.json')
      assert.equal(bad.r.code, 1)
      const racePid = bad.t.traceEvents.find((e) => e.name === 'process_name' && e.args.name.endsWith('async/staged')).pid
      const early = copiesAfterLayers(bad.t, racePid).filter(({c, layerEnd}) => c.ts < layerEnd - 1)
      assert.ok(early.length > 0, 'a dropped event wait must show copies starting before their layer\'s KV write ended')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('async and blocking designs differ in blocked host time the way they should', () => {
    for (const mode of ['save', 'load']) {
      const r = kvbenchJson([mode, ...SMALL, '--strategy', 'staged'])
      assert.equal(r.code, 0, r.stderr)
      const by = Object.fromEntries(r.json.results.designs.map((d) => [d.design, d]))
      const wait = mode === 'save' ? 'wait_for_save' : 'wait_for_layer_load'
      assert.ok(by.blocking.hooks[wait], `blocking ${mode} has ${wait}`)
      assert.equal(by.async.hooks[wait], undefined, `async ${mode} never calls ${wait}`)
      assert.ok(
        by.async.blockedPerStepUs.p50 * 10 < by.blocking.blockedPerStepUs.p50,
        `${mode}: async blocks ${by.async.blockedPerStepUs.p50} µs/step, blocking ${by.blocking.blockedPerStepUs.p50} µs/step`,
      )
    }
  })

  test('Ctrl-C stops after the current step, prints what was measured, marked partial', async () => {
    const {child, done} = kvbenchAsync(['save', '--profile', 'llama-3.2-1b', '--decode-steps', '100000', '--strategy', 'staged', '--json'])
    setTimeout(() => child.kill('SIGINT'), 8000)
    const r = await done
    assert.equal(r.code, 130, r.stderr)
    const j = JSON.parse(r.stdout)
    assertSchema('save.schema.json', j)
    assert.equal(j.status, 'partial')
    assert.ok(j.notes.some((n) => /interrupted/.test(n)))
  })

  test('on a terminal, a bar counts the forward steps beside the connector up to the steps the run plans', {skip: spawnSync('script', ['--version']).error ? 'no `script` (util-linux) to give kvbench a terminal' : false}, () => {
    // 60 steps, 3 of warm-up: baseline, async, blocking, closing baseline and the link reference, 63 each.
    const args = ['save', '--profile', 'llama-3.2-1b', '--batch', '4', '--prompt-tokens', '1024', '--decode-steps', '60', '--strategy', 'staged']
    const base = process.env.KVBENCH_CMD ? [process.env.KVBENCH_CMD] : [process.execPath, join(ROOT, 'bin', 'run.js')]
    const line = [...base, ...args].map((a) => `'${a}'`).join(' ')
    const r = spawnSync('script', ['-qefc', `${line} 2>&1 >/dev/null`, '/dev/null'], {encoding: 'utf8', timeout: 120_000})
    assert.equal(r.status, 0, r.stdout)
    const frames = [...r.stdout.matchAll(/save beside the forward, steps \[[^\]]*\] \d+% · (\d+)\/(\d+)/g)]
    assert.ok(frames.length > 0, `no progress bar drawn:\n${r.stdout.slice(-2000)}`)
    const done = frames.map((m) => Number(m[1]))
    for (const m of frames) assert.equal(Number(m[2]), 5 * 63)
    assert.deepEqual(done, [...done].sort((a, b) => a - b), 'the count only goes up')
    // Piped, the same run draws nothing on stderr but its one start line.
    const piped = kvbench(args)
    assert.doesNotMatch(piped.stderr, /steps \[/)
  })

  test('a cancelled run frees its GPU memory (no leak in the native core)', async () => {
    const addon = createRequire(import.meta.url)(addonPath())
    const before = addon.memInfo(0).freeBytes
    // The planner builds the plan, as the CLI does: a short connector phase, then a link
    // reference long enough that the cancel lands in it (the defaults: a ring in L2 where the GPU allows it).
    const profile = loadProfile('llama-3.2-1b')
    const opts = {mode: 'save', device: 0, strategy: 'staged', design: 'async', connector: true, verify: true, warmupSteps: 1, stagingMiB: 16, copyCtas: 0, mappedCtas: 264,
      streamingCopies: true, stagingL2: 'auto', batchSharePct: 0, referenceSteps: 100000, fault: 'none', backend: 'host', ioThreads: 4, storeQueue: 32, pipeline: 4, fsync: 'never', direct: true}
    const plan = {...planWorkload(profile, opts).plan, steps: 50}
    assert.deepEqual([plan.strategies, plan.designs], [['staged'], ['off', 'async']])
    const run = addon.runSaveLoad(plan)
    await new Promise((r) => setTimeout(r, 4000))
    addon.cancelRun()
    const res = await run
    assert.equal(res.cancelled, true)
    assert.ok(res.reference === null || res.reference.steps.stepsRun < 100000, 'the reference stopped with the run')
    const after = addon.memInfo(0).freeBytes
    assert.ok(before - after < 64 << 20, `GPU memory not returned: ${(before - after) / 2 ** 20} MiB still held`)
  })
})
