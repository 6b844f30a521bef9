// Profiles: validation names file and field, overrides, derived sizes.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {checkFits, DEFAULT_STAGING, memAvailableBytes, planWorkload, stagingFor, stagingSlots} from '../dist/core/plan.js'
import {applyOverrides, deriveSizes, listProfileNames, loadProfile, validateProfile} from '../dist/core/profile.js'
import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const dir = mkdtempSync(join(tmpdir(), 'kvbench-prof-'))
after(() => rmSync(dir, {recursive: true, force: true}))
const base = JSON.parse(readFileSync(join(ROOT, 'profiles/llama-3.1-8b.json'), 'utf8'))
const runOpts = {mode: 'save', device: 0, strategy: 'auto', design: 'all', connector: true, verify: true, warmupSteps: 3, stagingMiB: 64, copyCtas: 0, mappedCtas: 264, streamingCopies: false, stagingL2: 'normal', batchSharePct: 0, fault: 'none', backend: 'host', ioThreads: 4, storeQueue: 32, pipeline: 4, fsync: 'never', direct: true}

test('the shipped profiles exist, validate against the schema, and derive the known sizes', () => {
  assert.deepEqual(listProfileNames(), ['deepseek-v3', 'llama-3.1-70b', 'llama-3.1-8b', 'llama-3.2-1b', 'qwen2.5-7b'])
  for (const name of listProfileNames()) assertSchema('profile.schema.json', JSON.parse(readFileSync(join(ROOT, `profiles/${name}.json`), 'utf8')))
  const s = deriveSizes(loadProfile('llama-3.1-8b'))
  assert.equal(s.kvBytesPerToken, 32 * 2 * 8 * 128 * 2) // 128 KiB
  assert.equal(s.chunkBytes, 16 * 8 * 128 * 2) // 32 KiB, as shared/GPU.md
  assert.equal(s.kvBytesPerBlock, 2 * 1024 * 1024)
  const mla = deriveSizes(loadProfile('deepseek-v3'))
  assert.equal(mla.parts, 1)
  assert.equal(mla.kvBytesPerToken, 61 * 576 * 2)
  assert.equal(mla.chunkBytes, 64 * 576 * 2)
  assert.equal(deriveSizes(loadProfile('llama-3.1-70b')).chunkBytes, 16 * 1 * 128 * 2)
})

test('a missing or mistyped field names the file and the field', () => {
  const cases = [
    [(p) => delete p.layers, /bad.json: field 'layers' is missing/],
    [(p) => (p.layers = '32'), /field 'layers' must be a whole number, got "32"/],
    [(p) => (p.attention.kvHeads = 0), /field 'attention.kvHeads' must be between 1/],
    [(p) => (p.workload.prefixHitRate = 1.5), /field 'workload.prefixHitRate' must be between 0 and 1/],
    [(p) => (p.layout = 'diagonal'), /field 'layout' must be one of layer-major, block-contiguous/],
    [(p) => delete p.workload, /field 'workload' is missing/],
    [(p) => (p.attention.headDim = 100), /field 'attention.headDim' must be a multiple of 8/],
    [(p) => (p.staging = {mib: 0}), /field 'staging.mib' must be between 1 and 4096, got 0/],
    [(p) => (p.staging = {l2: 'sometimes'}), /field 'staging.l2' must be one of auto, persist, normal, got "sometimes"/],
    [(p) => (p.staging = {mib: 32, slots: 4}), /field 'staging.slots' is not a profile field \(known here: mib, l2\)/],
    [(p) => (p.staging = 64), /field 'staging' must be an object/],
  ]
  for (const [mutate, re] of cases) {
    const p = structuredClone(base)
    mutate(p)
    assert.throws(() => validateProfile(p, 'bad.json'), (e) => e.exit === 2 && re.test(e.message), re.toString())
  }
})

test('--profile takes a path; errors there exit 2 naming the file and field', () => {
  const p = structuredClone(base)
  p.attention.kvHeads = 'eight'
  const file = join(dir, 'broken.json')
  writeFileSync(file, JSON.stringify(p))
  const r = kvbench(['save', '--profile', file])
  assert.equal(r.code, 2)
  assert.equal(r.stderr, `Error: ${file}: field 'attention.kvHeads' must be a whole number, got "eight"\n`)
  writeFileSync(join(dir, 'notjson.json'), '{')
  assert.match(kvbench(['load', '--profile', join(dir, 'notjson.json')]).stderr, /notjson.json: not valid JSON/)
  assert.match(kvbench(['save', '--profile', 'gpt-17']).stderr, /unknown profile "gpt-17" \(known: deepseek-v3, /)
})

test('every field can be overridden; bad overrides name the flag', () => {
  const p = applyOverrides(loadProfile('llama-3.1-8b'), {blockSize: 32, batch: 2, kvHeads: 4, layout: 'block-contiguous', prefixHitRate: 0.25})
  assert.equal(p.blockSize, 32)
  assert.equal(p.workload.batch, 2)
  assert.equal(p.attention.kvHeads, 4)
  assert.equal(p.layout, 'block-contiguous')
  assert.equal(deriveSizes(p).chunkBytes, 32 * 4 * 128 * 2)
  assert.throws(() => applyOverrides(loadProfile('llama-3.1-8b'), {batch: 0}), /--batch must be a positive whole number, got 0/)
  assert.throws(() => applyOverrides(loadProfile('llama-3.1-8b'), {queryHeads: 30}), /--query-heads must be a multiple of kvHeads/)
  assert.throws(() => applyOverrides(loadProfile('deepseek-v3'), {headDim: 64}), /--head-dim does not apply to MLA/)
  assert.throws(() => applyOverrides(loadProfile('llama-3.1-8b'), {latentDim: 512}), /--latent-dim applies to MLA/)
})

test('bad counts on the command line exit 2 with the flag named', () => {
  for (const [args, re] of [
    [['save', '--batch', '0'], /--batch must be a positive whole number, got 0/],
    [['save', '--block-size', '-3'], /--block-size must be a positive whole number, got -3/],
    [['load', '--prefix-hit-rate', 'lots'], /--prefix-hit-rate must be between 0 and 1, got NaN/],
    [['save', '--staging-mib', '0'], /--staging-mib must be a positive whole number/],
    [['save', '--warmup', '-1'], /--warmup must be a whole number/],
    [['save', '--profile', 'llama-3.2-1b', '--head-dim', '4'], /--head-dim must be a multiple of 8/],
    [['save', '--strategy', 'teleport'], /Expected --strategy=teleport to be one of/],
    [['save', '--batch-share', '101'], /--batch-share must be a whole percentage from 0 to 100, got 101/],
    [['load', '--batch-share', '-5'], /--batch-share must be a whole percentage from 0 to 100, got -5/],
    [['save', '--batch-share', '50', '--strategy', 'batch'], /--batch-share splits the staged strategy's copies; it does nothing with --strategy batch/],
    [['save', '--reference-steps', '-4'], /--reference-steps must be a whole number, 0 or more, got -4/],
    [['save', '--copy-ctas', '-1'], /--copy-ctas must be between 0 \(one per chunk\) and 65535, got -1/],
    [['load', '--mapped-ctas', '0'], /--mapped-ctas must be between 1 and 65535, got 0/],
  ]) {
    const r = kvbench(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, re)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
})

test('the plan derives the run from the profile, once', () => {
  assert.equal(planWorkload(loadProfile('llama-3.1-8b'), {...runOpts, batchSharePct: 50}).plan.batchSharePct, 50)
  const wp = planWorkload(loadProfile('llama-3.1-8b'), runOpts)
  assert.equal(wp.contextBlocks, 128)
  assert.equal(wp.plan.transferBlocks, 32 * 128)
  assert.equal(wp.plan.geometry.gpuBlocks, 2 * 32 * 128)
  assert.equal(wp.gpuCacheBytes, 2 * 32 * 128 * 2 * 1024 * 1024)
  assert.equal(wp.loadBlocksPerRequest, 64)
  assert.deepEqual(wp.designs, ['off', 'async', 'blocking'])
  assert.deepEqual(wp.plan.strategies, ['per-chunk', 'batch', 'mapped-kernel', 'staged'])
  assert.equal(wp.plan.pickBest, true)
  assert.deepEqual(planWorkload(loadProfile('llama-3.1-8b'), {...runOpts, connector: false}).designs, ['off'])
  assert.deepEqual(planWorkload(loadProfile('llama-3.1-8b'), {...runOpts, strategy: 'staged', design: 'async'}).plan.strategies, ['staged'])
  // host: the pinned pool is the store; another backend becomes a store spec with a fresh namespace.
  assert.equal(wp.plan.store, null)
  const f = planWorkload(loadProfile('llama-3.1-8b'), {...runOpts, backend: 'file:/data', ioThreads: 2, storeQueue: 8, pipeline: 3}).plan
  assert.deepEqual({...f.store, run: 'x'}, {backend: 'file:/data', redis: undefined, run: 'x', connections: 2, fsync: 'never', direct: true})
  assert.match(f.store.run, /^[0-9a-f]{8}$/)
  assert.deepEqual([f.storeQueueDepth, f.storePipeline], [8, 3])
  assert.equal(planWorkload(loadProfile('llama-3.1-8b'), {...runOpts, backend: 'redis://:pw@h:7/2'}).plan.store.redis.db, 2)
})

test('sizes that do not fit: needed versus available, before allocating', () => {
  const wp = planWorkload(loadProfile('llama-3.1-8b'), runOpts)
  assert.throws(() => checkFits(wp, [{device: 0, freeBytes: 8 * 2 ** 30}], null, null), /GPU 0 needs [\d.]+ GiB \(KV cache 16 GiB\) but has 8 GiB free: lower --batch/)
  assert.throws(() => checkFits(wp, [{device: 0, freeBytes: 80 * 2 ** 30}], 4 * 2 ** 30, null), /host pool needs 8.5 GiB of pinned memory but the host has 4 GiB available/)
  assert.throws(() => checkFits(wp, [{device: 0, freeBytes: 80 * 2 ** 30}], 64 * 2 ** 30, 8 * 2 ** 20), /locked-memory limit \(ulimit -l\) is 8 MiB but the run pins 8.5 GiB/)
  assert.doesNotThrow(() => checkFits(wp, [{device: 0, freeBytes: 80 * 2 ** 30}], 64 * 2 ** 30, null))
  // --gpus: every GPU named is checked, and the host holds a pool for each of them.
  assert.throws(() => checkFits(wp, [{device: 0, freeBytes: 80 * 2 ** 30}, {device: 3, freeBytes: 8 * 2 ** 30}], 64 * 2 ** 30, null), /GPU 3 needs/)
  assert.throws(() => checkFits(wp, [{device: 0, freeBytes: 80 * 2 ** 30}, {device: 1, freeBytes: 80 * 2 ** 30}], 16 * 2 ** 30, null), /host pools of 2 GPUs need 17 GiB of pinned memory/)
  assert.ok(memAvailableBytes('MemTotal: 10 kB\nMemAvailable:    2048 kB\n') === 2048 * 1024)
})

test('staging ring slots: about 8 MiB each, 2 to 8, every slot aligned for 16-byte accesses', () => {
  const MiB = 2 ** 20
  assert.deepEqual(stagingSlots(64 * MiB), {slots: 8, slotBytes: 8 * MiB})
  assert.deepEqual(stagingSlots(16 * MiB), {slots: 2, slotBytes: 8 * MiB})
  assert.deepEqual(stagingSlots(4 * MiB), {slots: 2, slotBytes: 2 * MiB})
  assert.deepEqual(stagingSlots(1024 * MiB), {slots: 8, slotBytes: 128 * MiB})
  const odd = stagingSlots(25 * MiB)  // 25 MiB / 3 is not a whole number of bytes
  assert.equal(odd.slots, 3)
  assert.equal(odd.slotBytes % 256, 0)
  assert.ok(odd.slotBytes <= (25 * MiB) / 3 && odd.slotBytes > (25 * MiB) / 3 - 256)
})

test("the staging ring: each flag, else the profile's staging, else the default; the note says when the profile chose", () => {
  const MiB = 2 ** 20
  const unset = {...runOpts, stagingMiB: undefined, stagingL2: undefined}
  const small = loadProfile('llama-3.2-1b')
  assert.deepEqual(small.staging, {mib: 64, l2: 'normal'})
  let plan = planWorkload(small, unset).plan
  assert.equal(plan.stagingBytes, 64 * MiB)
  assert.equal(plan.stagingSlots, 8)
  assert.equal(plan.stagingL2, 'normal')
  assert.match(stagingFor(small, unset).note, /^staging ring 64 MiB, --staging-l2 normal: profile llama-3.2-1b's staging/)
  assert.equal(planWorkload(small, unset).stagingNote, stagingFor(small, unset).note, 'the plan carries the note')
  assert.equal(planWorkload(small, {...unset, strategy: 'batch'}).stagingNote, null, 'no ring runs: no note')
  plan = planWorkload(small, {...unset, stagingMiB: 16}).plan
  assert.equal(plan.stagingBytes, 16 * MiB, '--staging-mib wins')
  assert.equal(plan.stagingL2, 'normal', 'the profile still sets what no flag gave')
  assert.match(stagingFor(small, {stagingMiB: 16}).note, /^staging ring --staging-l2 normal: profile/)
  assert.equal(stagingFor(small, {stagingMiB: 16, stagingL2: 'auto'}).note, null)
  const eight = loadProfile('llama-3.1-8b')
  assert.equal(eight.staging, undefined)
  plan = planWorkload(eight, unset).plan
  assert.equal(plan.stagingBytes, DEFAULT_STAGING.mib * MiB)
  assert.equal(plan.stagingL2, DEFAULT_STAGING.l2)
  assert.equal(stagingFor(eight, unset).note, null)
})

test('a block size that does not fit the staging layout is refused', () => {
  const p = applyOverrides(loadProfile('llama-3.1-8b'), {blockSize: 1024})
  assert.throws(() => planWorkload(p, {...runOpts, stagingMiB: 4}), /--staging-mib 4 gives 2 staging ring slots of 2 MiB, less than one block of one layer \(4 MiB\) each/)
  assert.doesNotThrow(() => planWorkload(p, {...runOpts, stagingMiB: 8}))  // two slots of 4 MiB
  const r = kvbench(['save', '--block-size', '1024', '--staging-mib', '4'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--staging-mib 4 gives 2 staging ring slots of 2 MiB, less than one block/)
})

test('save without a GPU says why, exit 2; profiles lists with sizes', () => {
  const r = kvbench(['save', '--profile', 'llama-3.2-1b'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^Error: (no GPU 0: this host has 0 GPUs|kvbench was built without CUDA)/)
  const j = kvbenchJson(['load'])
  assert.equal(j.code, 2)
  assertSchema('load.schema.json', j.json)
  const p = kvbenchJson(['profiles'])
  assert.equal(p.code, 0)
  assertSchema('profiles.schema.json', p.json)
  assert.equal(p.json.results.profiles.find((x) => x.profile.name === 'llama-3.1-8b').sizes.chunkBytes, 32768)
  const table = kvbench(['profiles']).stdout
  assert.match(table, /llama-3\.1-70b.*4 KiB/)
  assert.match(table, /llama-3\.2-1b .*│ 64 MiB, HBM +│/, 'the profile\'s own ring')
  assert.match(table, /llama-3\.1-8b .*│ 16 MiB, L2 where it fits +│/, 'the default ring')
})
