// The machine fingerprint carried in every result envelope: the host, the CUDA
// stack and each GPU. Host facts come from Node and /proc and /sys; GPU facts from
// the addon, with PCIe link and NUMA placement read from sysfs where NVML is absent.
import {readdirSync} from 'node:fs'
import os from 'node:os'
import {join} from 'node:path'

import type {NativeCudaInfo, NativeGpu} from '../native/index.js'
import {gpuTopology, type GpuPair} from './gpu-topology.js'
import {readText} from './read-text.js'

export interface HostInfo {
  cpuModel: string
  logicalCpus: number
  numaNodes: number | null
  memoryBytes: number
  /** RLIMIT_MEMLOCK soft limit in bytes; null means unlimited. */
  lockedMemoryLimitBytes: number | null
  os: string
  kernel: string
  arch: string
  node: string
  napi: string
}

export interface PcieInfo {
  currentGen: number | null
  maxGen: number | null
  currentWidth: number | null
  maxWidth: number | null
  source: 'nvml' | 'sysfs' | null
}

/** What the addon reports of a GPU, with PCIe link and NUMA placement filled in from sysfs. */
export interface GpuInfo extends Omit<NativeGpu, 'pcie' | 'canMapHostMemory'> {
  pcie: PcieInfo
  numaNode: number | null
  cpuAffinity: string | null
}

export interface CudaStack {
  addonBuiltWithCuda: boolean
  gencodes: string[]
  runtimeVersion: string | null
  driverVersion: string | null
  driverRelease: string | null
  /** NCCL for `--all-reduce nccl`, loaded at run time: its library and version, or why not (reason). `env` only (loading it is not free); absent before 1.11.0. */
  nccl?: {library: string | null; version: string | null; reason: string | null}
}

export interface Environment {
  host: HostInfo
  cuda: CudaStack
  gpus: GpuInfo[]
  /** How each pair of GPUs reaches the other over PCIe (switch, root port, host bridge, NUMA node); empty below two GPUs. Absent before 1.9.0. */
  gpuTopology: GpuPair[]
  /** Why `gpus` is empty (no driver, no device, built without CUDA); null when GPUs were listed. */
  gpusReason: string | null
}

/** Paths are read under `root` so tests can point the readers at a fake tree. */
export interface SystemPaths {
  proc: string
  sys: string
  etc: string
}

const REAL: SystemPaths = {proc: '/proc', sys: '/sys', etc: '/etc'}


/** "Max locked memory  65536  65536  bytes" -> 65536; "unlimited" -> null. */
export function parseLockedMemoryLimit(limits: string | null): number | null | undefined {
  const line = limits?.split('\n').find((l) => l.startsWith('Max locked memory'))
  if (!line) return undefined
  const soft = line.replace('Max locked memory', '').trim().split(/\s+/)[0]
  if (soft === 'unlimited') return null
  const n = Number(soft)
  return Number.isFinite(n) ? n : undefined
}

export function readHost(paths: SystemPaths = REAL): HostInfo {
  const cpuinfo = readText(join(paths.proc, 'cpuinfo')) ?? ''
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown'
  let numaNodes: number | null = null
  try {
    numaNodes = readdirSync(join(paths.sys, 'devices/system/node')).filter((d) => /^node\d+$/.test(d)).length || null
  } catch {
    numaNodes = null
  }
  const osRelease = readText(join(paths.etc, 'os-release')) ?? ''
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1]
  const memlock = parseLockedMemoryLimit(readText(join(paths.proc, 'self/limits')))
  return {
    cpuModel: model.trim(),
    logicalCpus: os.availableParallelism(),
    numaNodes,
    memoryBytes: os.totalmem(),
    lockedMemoryLimitBytes: memlock === undefined ? null : memlock,
    os: pretty ?? `${os.type()} ${os.release()}`,
    kernel: os.release(),
    arch: process.arch,
    node: process.version,
    napi: process.versions.napi ?? 'unknown',
  }
}

/** "32.0 GT/s PCIe" -> 5 (PCIe generation by per-lane signalling rate). */
export function pcieGenFromSpeed(speed: string | null): number | null {
  const gts = Number.parseFloat(speed ?? '')
  const byRate: Array<[number, number]> = [[2.5, 1], [5, 2], [8, 3], [16, 4], [32, 5], [64, 6], [128, 7]]
  return byRate.find(([rate]) => Math.abs(rate - gts) < 0.01)?.[1] ?? null
}

function sysfsInt(path: string): number | null {
  const v = Number.parseInt(readText(path)?.trim() ?? '', 10)
  return Number.isFinite(v) ? v : null
}

export function readGpuPlacement(busId: string, paths: SystemPaths = REAL) {
  const dir = join(paths.sys, 'bus/pci/devices', busId.toLowerCase())
  const numa = sysfsInt(join(dir, 'numa_node'))
  const pcie: PcieInfo = {
    currentGen: pcieGenFromSpeed(readText(join(dir, 'current_link_speed'))),
    maxGen: pcieGenFromSpeed(readText(join(dir, 'max_link_speed'))),
    currentWidth: sysfsInt(join(dir, 'current_link_width')),
    maxWidth: sysfsInt(join(dir, 'max_link_width')),
    source: null,
  }
  if (pcie.maxGen !== null || pcie.maxWidth !== null) pcie.source = 'sysfs'
  return {
    numaNode: numa !== null && numa >= 0 ? numa : null,
    cpuAffinity: readText(join(dir, 'local_cpulist'))?.trim() || null,
    pcie,
  }
}

function cudaVersion(v: number): string | null {
  return v > 0 ? `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}` : null
}

export function describeGpu(g: NativeGpu, paths: SystemPaths = REAL): GpuInfo {
  const placement = readGpuPlacement(g.busId, paths)
  const nvmlHasLink = g.pcie.source === 'nvml' && g.pcie.maxGen !== null
  return {
    index: g.index,
    name: g.name,
    uuid: g.uuid,
    busId: g.busId,
    computeCapability: g.computeCapability,
    smCount: g.smCount,
    memoryBytes: g.memoryBytes,
    l2Bytes: g.l2Bytes,
    memoryBusWidthBits: g.memoryBusWidthBits,
    copyEngines: g.copyEngines,
    pcie: nvmlHasLink ? {...g.pcie, source: 'nvml'} : placement.pcie,
    numaNode: placement.numaNode,
    cpuAffinity: placement.cpuAffinity,
  }
}

/** Builds the fingerprint from the addon's answer; `cuda` is null when the addon could not load. */
export function buildEnvironment(cuda: NativeCudaInfo | null, addonProblem: string | null, paths: SystemPaths = REAL): Environment {
  const host = readHost(paths)
  if (!cuda) {
    return {
      host,
      cuda: {addonBuiltWithCuda: false, gencodes: [], runtimeVersion: null, driverVersion: null, driverRelease: null},
      gpus: [],
      gpuTopology: [],
      gpusReason: addonProblem ?? 'the native addon is not available',
    }
  }
  const gpus = cuda.gpus.map((g) => describeGpu(g, paths))
  let gpusReason: string | null = null
  if (!cuda.builtWithCuda) gpusReason = cuda.errorMessage ?? 'built without CUDA'
  else if (cuda.errorName === 'cudaErrorInsufficientDriver' && readText(`${paths.proc}/driver/nvidia/version`) === null) {
    // The CUDA runtime says "insufficient" when there is no driver at all: say what is true.
    gpusReason = 'no NVIDIA driver (no /proc/driver/nvidia/version; the CUDA runtime reports cudaErrorInsufficientDriver)'
  } else if (cuda.errorName) gpusReason = `${cuda.errorName}: ${cuda.errorMessage}`
  else if (gpus.length === 0) gpusReason = 'the CUDA runtime reports no GPU'
  return {
    host,
    cuda: {
      addonBuiltWithCuda: cuda.builtWithCuda,
      gencodes: cuda.gencodes,
      runtimeVersion: cudaVersion(cuda.runtimeVersion),
      driverVersion: cudaVersion(cuda.driverVersion),
      driverRelease: cuda.driverRelease,
    },
    gpus,
    gpuTopology: gpuTopology(gpus, paths.sys),
    gpusReason,
  }
}
