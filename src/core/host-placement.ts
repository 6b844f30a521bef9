// --gpus: where each GPU's worker thread runs and allocates: the CPUs local to the GPU (its PCIe
// device's local_cpulist) and its NUMA node, so its pinned pool and its connector's threads sit on
// the GPU's side of the socket interconnect. Decided here from the environment; the native worker
// applies it before it allocates and reports what the kernel gave it.
import type {GpuInfo} from './environment.js'

export interface HostPlacementPlan {
  /** null: unknown (host memory left to the kernel's default) */
  numaNode: number | null
  /** empty: unknown (the thread keeps the process's CPUs) */
  cpus: number[]
}

/** "0-3,8-11" (sysfs cpulist) -> [0, 1, 2, 3, 8, 9, 10, 11]; null or unreadable text: []. */
export function parseCpuList(text: string | null): number[] {
  if (!text) return []
  const out: number[] = []
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim())
    if (!m) return []
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo) return []
    for (let c = lo; c <= hi; ++c) out.push(c)
  }
  return out
}

/** [0, 1, 2, 3, 8] -> "0-3,8"; [] -> null. */
export function cpuRanges(cpus: readonly number[]): string | null {
  const parts: string[] = []
  for (let i = 0; i < cpus.length; ) {
    let j = i
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) ++j
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`)
    i = j + 1
  }
  return parts.length > 0 ? parts.join(',') : null
}

/** `hostNodes`: the host's NUMA nodes; with one, every GPU's is node 0 (a VM's sysfs often says -1, unknown). */
export function hostPlacements(gpus: readonly Pick<GpuInfo, 'index' | 'numaNode' | 'cpuAffinity'>[], devices: readonly number[], hostNodes: number | null): HostPlacementPlan[] {
  return devices.map((d) => {
    const g = gpus.find((x) => x.index === d)
    return {numaNode: g?.numaNode ?? (hostNodes === 1 ? 0 : null), cpus: parseCpuList(g?.cpuAffinity ?? null)}
  })
}
