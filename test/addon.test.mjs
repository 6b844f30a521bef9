// The native addon on a machine without a GPU (CI): it loads, names the CUDA
// error, and every way it can be missing or built without CUDA gives a clear error.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {kvbench, kvbenchJson, ROOT} from './helpers/cli.mjs'
import {assertSchema} from './helpers/schema.mjs'

const require = createRequire(import.meta.url)
const addonPath = join(ROOT, 'build/Release/kvbench.node')
// Loaded here but checked in a test: a missing or broken build fails that test, not the file.
let addon = null
let loadError = null
try {
  addon = require(addonPath)
} catch (error) {
  loadError = error
}
const info = addon ? addon.cudaInfo() : {gpus: []}
const noGpu = info.gpus.length === 0 ? false : 'this host has a GPU: the no-GPU behaviour cannot be observed'

/** CUDART_VERSION of the toolkit the addon was built with (scripts/cuda-home.cjs finds it). */
function toolkitRuntimeVersion() {
  const home = spawnSync(process.execPath, [join(ROOT, 'scripts/cuda-home.cjs')], {encoding: 'utf8'}).stdout.trim()
  const header = home && existsSync(join(home, 'include/cuda_runtime_api.h')) ? readFileSync(join(home, 'include/cuda_runtime_api.h'), 'utf8') : ''
  const m = /#define CUDART_VERSION\s+(\d+)/.exec(header)
  return m ? Number(m[1]) : null
}

test('the addon loads and reports the CUDA error by name when there is no GPU', {skip: noGpu}, () => {
  assert.equal(loadError, null, `the addon did not load: ${loadError?.message}`)
  assert.equal(info.builtWithCuda, true)
  assert.deepEqual(info.gencodes, ['sm_80', 'sm_90', 'compute_90'])
  assert.equal(info.runtimeVersion, toolkitRuntimeVersion())
  assert.match(info.errorName, /^cuda(ErrorInsufficientDriver|ErrorNoDevice)$/)
  assert.ok(info.errorMessage.length > 0)
})

test('a measurement without a GPU rejects with a coded error, never a crash', {skip: noGpu}, async () => {
  const plan = {device: 0, bytes: 4096, pageableBytes: 4096, iterations: 1, pageableIterations: 1, warmup: 0, smallBytes: 8, smallIterations: 1, verify: true}
  await assert.rejects(addon.measureCeilings(plan), (e) => e.code === 'CUDA_ERROR' && /cudaGetDeviceCount\(&n\) failed: cuda\w+/.test(e.message))
})

test('a malformed plan is refused at the boundary, naming the field', () => {
  assert.throws(() => addon.measureCeilings({device: 0}), (e) => e.code === 'BAD_INPUT' && /'bytes'/.test(e.message))
  assert.throws(() => addon.measureCeilings(), (e) => e.code === 'BAD_INPUT')
})

test('strategies, designs and faults cross the boundary by name; a code or an unknown name is refused, naming the field', async () => {
  assert.equal(loadError, null)
  const {planWorkload} = await import('../dist/core/plan.js')
  const {loadProfile} = await import('../dist/core/profile.js')
  const opts = {mode: 'save', device: 0, strategy: 'staged', design: 'async', connector: true, verify: true, warmupSteps: 1, stagingMiB: 16, copyCtas: 0, mappedCtas: 264,
    streamingCopies: true, stagingL2: 'auto', batchSharePct: 0, fault: 'none', backend: 'host', ioThreads: 4, storeQueue: 32, pipeline: 4, fsync: 'never', direct: true}
  const plan = planWorkload(loadProfile('llama-3.2-1b'), opts).plan
  assert.deepEqual([plan.strategies, plan.designs, plan.fault], [['staged'], ['off', 'async'], 'none'])
  for (const [bad, message] of [[{strategies: [3]}, /'strategies' must hold names/], [{strategies: ['nosuch']}, /'strategies' holds an unknown name 'nosuch'/],
    [{designs: ['off', 'sync']}, /'designs' holds an unknown name 'sync'/], [{fault: 'x'}, /'fault' holds an unknown name 'x'/]]) {
    assert.throws(() => addon.runSaveLoad({...plan, ...bad}), (e) => e.code === 'BAD_INPUT' && message.test(e.message), JSON.stringify(bad))
  }
  // The ceiling plan and the staging ring come from the planner (src/core/ceilings.ts, plan.ts), whole.
  assert.deepEqual([plan.stagingSlots, plan.stagingSlotBytes, plan.ceiling.bytes, plan.ceiling.iterations], [2, 8 * 2 ** 20, 256 * 2 ** 20, 10])
  assert.throws(() => addon.runSaveLoad({...plan, ceiling: undefined}), (e) => e.code === 'BAD_INPUT' && /'ceiling' must be an object/.test(e.message))
  assert.throws(() => addon.runSaveLoad({...plan, ceiling: {...plan.ceiling, iterations: 'x'}}), (e) => e.code === 'BAD_INPUT' && /'iterations' must be a number/.test(e.message))
  await assert.rejects(addon.runSaveLoad({...plan, stagingSlots: 1}), (e) => e.code === 'BAD_INPUT' && /staging ring slots must be two or more/.test(e.message))
  await assert.rejects(addon.runSaveLoad({...plan, ceiling: {...plan.ceiling, device: 1}}), (e) => e.code === 'BAD_INPUT' && /ceiling plan must be for the run's device/.test(e.message))
})

test('the addon exports the ABI number written once in src/native/abi.ts, and its no-CUDA words', async () => {
  assert.equal(loadError, null)
  const {ADDON_ABI} = await import('../dist/native/abi.js')
  assert.equal(addon.abiVersion, ADDON_ABI)
  const abi = spawnSync(process.execPath, [join(ROOT, 'scripts/addon-abi.cjs')], {encoding: 'utf8'})
  assert.equal(abi.stdout.trim(), String(ADDON_ABI))
  assert.match(addon.noCudaMessage, /^kvbench was built without CUDA: .*npm rebuild$/)
  // Progress for a bar: what is done, of how many when the native run knows it (nothing ran here).
  assert.deepEqual(addon.runProgress(), {done: 0, total: 0})
})

test('env with no GPU: host part, gpus [] and the reason, exit 0', {skip: noGpu}, () => {
  const r = kvbenchJson(['env'])
  assert.equal(r.code, 0)
  assert.deepEqual(r.json.environment.gpus, [])
  assert.match(r.json.environment.gpusReason, /^(cudaError\w+: |no NVIDIA driver \()/)
  const m = kvbenchJson(['env', '--measure', '--size', '1'])
  assert.equal(m.code, 0, m.stderr)
  assertSchema('env.schema.json', m.json)
  assert.equal(m.json.results.measured, false)
  assert.match(m.json.results.reason, /^no GPU to measure/)
})

test('--device 7 names the GPUs this host has', {skip: noGpu}, () => {
  const r = kvbench(['env', '--device', '7'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^Error: no GPU 7: this host has 0 GPUs \((cudaError\w+: .+|no NVIDIA driver \(.+\))\)\n$/)
})

test('a locked-memory limit too low for --measure: number and fix, exit 2, before anything is pinned', {skip: info.gpus.length === 0 ? 'no GPU: env --measure then answers with the host part, exit 0 (test/faults.test.mjs)' : false}, () => {
  const r = kvbench(['env', '--measure', '--size', '64'], {shellPrefix: 'ulimit -S -l 1024'})
  assert.equal(r.code, 2, r.stderr)
  assert.equal(
    r.stderr,
    'Error: locked-memory limit (ulimit -l) is 1 MiB but --measure pins 128 MiB: raise it with `ulimit -l unlimited` (containers: --ulimit memlock=-1) or lower --size\n',
  )
  const ok = kvbench(['env', '--measure', '--size', '1'], {shellPrefix: 'ulimit -S -l 4096'})
  assert.doesNotMatch(ok.stderr, /locked-memory/)
})

test('a missing addon is explained, and env still describes the host', () => {
  const env = {KVBENCH_ADDON: '/nonexistent/kvbench.node'}
  const r = kvbench(['env', '--measure', '--size', '1'], {env})
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^Error: the native addon is not built \(looked for \/nonexistent\/kvbench.node\): run npm rebuild\n$/)
  const j = kvbenchJson(['env'], {env})
  assert.equal(j.code, 0)
  assert.match(j.json.environment.gpusReason, /not built/)
})

test('an addon that fails to load is explained', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvbench-bad-'))
  const bad = join(dir, 'kvbench.node')
  writeFileSync(bad, 'not an ELF file')
  try {
    const r = kvbench(['env', '--measure', '--size', '1'], {env: {KVBENCH_ADDON: bad}})
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error: the native addon at .*kvbench.node failed to load: .*(invalid ELF header|too short).*; run npm rebuild\n$/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

describe('an addon built without CUDA', {timeout: 300_000}, () => {
  let dir
  let built
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvbench-nocuda-'))
    // What an installed package builds from: the native sources, and the ABI number in its compiled dist/.
    for (const p of ['binding.gyp', 'native', 'scripts', 'dist/native/abi.js']) cpSync(join(ROOT, p), join(dir, p), {recursive: true})
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    const r = spawnSync(process.execPath, ['scripts/build-native.mjs'], {cwd: dir, env: {...process.env, KVBENCH_CUDA: 'off'}, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /building the addon without CUDA/)
    built = join(dir, 'build/Release/kvbench.node')
    assert.ok(existsSync(built))
  })
  after(() => dir && rmSync(dir, {recursive: true, force: true}))

  test('loads and says it has no CUDA', () => {
    const a = require(built)
    const i = a.cudaInfo()
    assert.equal(i.builtWithCuda, false)
    assert.deepEqual(i.gpus, [])
  })

  test('GPU work says how to fix it, exit 2; env alone still works', () => {
    const env = {KVBENCH_ADDON: built}
    const r = kvbench(['env', '--measure', '--size', '1'], {env})
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'Error: kvbench was built without CUDA: install the CUDA toolkit and run npm rebuild\n')
    const d = kvbench(['env', '--device', '0'], {env})
    assert.equal(d.code, 2)
    assert.match(d.stderr, /built without CUDA/)
    const j = kvbenchJson(['env'], {env})
    assert.equal(j.code, 0)
    assert.equal(j.json.environment.cuda.addonBuiltWithCuda, false)
    assert.match(j.json.environment.gpusReason, /built without CUDA/)
  })
})
