// Host and GPU fingerprint readers, against a fake /proc, /sys and /etc tree.
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, test} from 'node:test'

import {buildEnvironment, parseLockedMemoryLimit, pcieGenFromSpeed, readGpuPlacement, readHost} from '../dist/core/environment.js'

const root = mkdtempSync(join(tmpdir(), 'kvbench-env-'))
after(() => rmSync(root, {recursive: true, force: true}))
const paths = {proc: join(root, 'proc'), sys: join(root, 'sys'), etc: join(root, 'etc')}
function put(path, text) {
  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, text)
}
put(join(paths.proc, 'cpuinfo'), 'processor\t: 0\nmodel name\t: Test CPU 9000\n')
put(join(paths.proc, 'self/limits'), 'Limit                     Soft Limit           Hard Limit           Units\nMax locked memory         65536                65536                bytes\n')
put(join(paths.etc, 'os-release'), 'NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 24.04.1 LTS"\n')
mkdirSync(join(paths.sys, 'devices/system/node/node0'), {recursive: true})
mkdirSync(join(paths.sys, 'devices/system/node/node1'), {recursive: true})
const gpuDir = join(paths.sys, 'bus/pci/devices/0000:18:00.0')
put(join(gpuDir, 'numa_node'), '1\n')
put(join(gpuDir, 'local_cpulist'), '16-31\n')
put(join(gpuDir, 'current_link_speed'), '32.0 GT/s PCIe\n')
put(join(gpuDir, 'max_link_speed'), '32.0 GT/s PCIe\n')
put(join(gpuDir, 'current_link_width'), '16\n')
put(join(gpuDir, 'max_link_width'), '16\n')

test('host facts come from cpuinfo, limits, os-release and the NUMA tree', () => {
  const h = readHost(paths)
  assert.equal(h.cpuModel, 'Test CPU 9000')
  assert.equal(h.lockedMemoryLimitBytes, 65536)
  assert.equal(h.os, 'Ubuntu 24.04.1 LTS')
  assert.equal(h.numaNodes, 2)
  assert.equal(h.node, process.version)
})

test('locked-memory limit: unlimited is null, missing is undefined', () => {
  assert.equal(parseLockedMemoryLimit('Max locked memory         unlimited            unlimited            bytes'), null)
  assert.equal(parseLockedMemoryLimit('nothing here'), undefined)
  assert.equal(parseLockedMemoryLimit(null), undefined)
})

test('PCIe generation from the link speed', () => {
  assert.equal(pcieGenFromSpeed('32.0 GT/s PCIe'), 5)
  assert.equal(pcieGenFromSpeed('16.0 GT/s PCIe'), 4)
  assert.equal(pcieGenFromSpeed('2.5 GT/s PCIe'), 1)
  assert.equal(pcieGenFromSpeed('Unknown'), null)
})

test('GPU placement from sysfs, bus id case-insensitive', () => {
  const p = readGpuPlacement('0000:18:00.0'.toUpperCase(), paths)
  assert.deepEqual(p, {numaNode: 1, cpuAffinity: '16-31', pcie: {currentGen: 5, maxGen: 5, currentWidth: 16, maxWidth: 16, source: 'sysfs'}})
  assert.deepEqual(readGpuPlacement('0000:99:00.0', paths).pcie.source, null)
})

const nativeGpu = {
  index: 0, name: 'Fake H100', uuid: 'GPU-00000000-0000-0000-0000-000000000000', busId: '0000:18:00.0',
  computeCapability: '9.0', smCount: 132, memoryBytes: 85e9, l2Bytes: 52428800, memoryBusWidthBits: 5120,
  copyEngines: 3, canMapHostMemory: true, pcie: {currentGen: null, maxGen: null, currentWidth: null, maxWidth: null, source: null},
}

test('environment prefers NVML link data, falls back to sysfs', () => {
  const cuda = {builtWithCuda: true, gencodes: ['sm_90'], runtimeVersion: 13000, driverVersion: 13000, driverRelease: '580.1', nvml: 'x', errorName: null, errorMessage: null, gpus: [nativeGpu]}
  const env = buildEnvironment(cuda, null, paths)
  assert.equal(env.gpus[0].pcie.source, 'sysfs')
  assert.equal(env.cuda.runtimeVersion, '13.0')
  assert.equal(env.gpusReason, null)
  const withNvml = {...cuda, gpus: [{...nativeGpu, pcie: {currentGen: 1, maxGen: 5, currentWidth: 16, maxWidth: 16, source: 'nvml'}}]}
  assert.equal(buildEnvironment(withNvml, null, paths).gpus[0].pcie.currentGen, 1)
})

test('no GPU: empty list and the reason', () => {
  const cuda = {builtWithCuda: true, gencodes: [], runtimeVersion: 13000, driverVersion: 0, driverRelease: null, nvml: 'x', errorName: 'cudaErrorNoDevice', errorMessage: 'no CUDA-capable device is detected', gpus: []}
  const env = buildEnvironment(cuda, null, paths)
  assert.deepEqual(env.gpus, [])
  assert.equal(env.gpusReason, 'cudaErrorNoDevice: no CUDA-capable device is detected')
  assert.equal(env.cuda.driverVersion, null)
  assert.equal(buildEnvironment(null, 'addon missing', paths).gpusReason, 'addon missing')
})

test('GPU topology from the sysfs PCIe tree: a switch, a host bridge, a NUMA node apart', async () => {
  const {gpuTopology} = await import('../dist/core/gpu-topology.js')
  const {symlinkSync} = await import('node:fs')
  const sys = join(root, 'topo-sys')
  // GPUs 0 and 1 under one switch (root port 00:01.0, upstream 01:00.0, downstream 02:00.0 / 02:01.0),
  // GPU 2 on another root port of host bridge 0000:00, GPU 3 on host bridge 0000:80 (NUMA node 1).
  const devices = {
    '0000:03:00.0': 'devices/pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:00.0/0000:03:00.0',
    '0000:04:00.0': 'devices/pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:01.0/0000:04:00.0',
    '0000:05:00.0': 'devices/pci0000:00/0000:00:03.0/0000:05:00.0',
    '0000:81:00.0': 'devices/pci0000:80/0000:80:01.0/0000:81:00.0',
  }
  mkdirSync(join(sys, 'bus/pci/devices'), {recursive: true})
  for (const [id, path] of Object.entries(devices)) {
    mkdirSync(join(sys, path), {recursive: true})
    symlinkSync(join('../../..', path), join(sys, 'bus/pci/devices', id))
  }
  const gpus = Object.keys(devices).map((busId, index) => ({index, busId: busId.toUpperCase(), numaNode: index === 3 ? 1 : 0}))
  const pair = (a, b, t) => t.find((p) => p.a === a && p.b === b)
  const t = gpuTopology(gpus, sys)
  assert.equal(t.length, 6)
  assert.deepEqual(pair(0, 1, t), {a: 0, b: 1, link: 'same-switch', through: '0000:01:00.0'})
  assert.deepEqual(pair(0, 2, t), {a: 0, b: 2, link: 'same-host-bridge', through: 'pci0000:00'})
  assert.deepEqual(pair(0, 3, t), {a: 0, b: 3, link: 'across-numa-nodes', through: null})
  assert.equal(pair(1, 3, gpuTopology(gpus.map((g) => ({...g, numaNode: 0})), sys)).link, 'same-numa-node')
  assert.equal(pair(1, 3, gpuTopology(gpus.map((g) => ({...g, numaNode: null})), sys)).link, 'unknown')
  // A GPU sysfs does not show as a link (a VM's flat tree, a missing device): unknown, never a guess.
  assert.equal(gpuTopology([gpus[0], {index: 9, busId: '0000:99:00.0', numaNode: 0}], sys)[0].link, 'unknown')
  assert.deepEqual(gpuTopology([gpus[0]], sys), [])
})
