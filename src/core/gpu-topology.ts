// How the host's GPUs reach each other over PCIe, from sysfs: each GPU's chain of bridges from its
// host bridge (the root complex) down, and the NUMA node. GPUs under one switch share its uplink, so
// their copies to host memory at once contend there; GPUs on different host bridges contend only in
// host memory, and across NUMA nodes on the socket interconnect. What nvidia-smi topo -m calls PIX/PXB,
// PHB, NODE and SYS, named for what is shared.
import {readlinkSync, realpathSync} from 'node:fs'
import {join} from 'node:path'

export type PciLink = 'same-switch' | 'same-root-port' | 'same-host-bridge' | 'same-numa-node' | 'across-numa-nodes' | 'unknown'

export interface GpuPair {
  a: number
  b: number
  link: PciLink
  /** The nearest PCIe device both sit below (a switch port or root port), or their host bridge; null across host bridges. */
  through: string | null
}

interface PciChain {
  hostBridge: string
  /** Bridges from the root port down, the GPU itself left out. */
  bridges: string[]
}

const HOST_BRIDGE = /^pci[0-9a-f]{4}:[0-9a-f]{2}$/
const DEVICE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]$/

/** /sys/bus/pci/devices/<bus id> links to /sys/devices/pciDDDD:BB/<root port>/.../<gpu>. */
export function pciChain(busId: string, sys: string): PciChain | null {
  let target: string
  try {
    readlinkSync(join(sys, 'bus/pci/devices', busId.toLowerCase()))  // a link, or no such device
    target = realpathSync(join(sys, 'bus/pci/devices', busId.toLowerCase()))
  } catch {
    return null
  }
  const parts = target.split('/')
  const at = parts.findIndex((p) => HOST_BRIDGE.test(p))
  if (at < 0) return null
  const chain = parts.slice(at + 1).filter((p) => DEVICE.test(p))
  if (chain.length === 0) return null
  return {hostBridge: parts[at], bridges: chain.slice(0, -1)}
}

export function classifyPair(x: PciChain | null, y: PciChain | null, numaX: number | null, numaY: number | null): {link: PciLink; through: string | null} {
  if (!x || !y) return {link: 'unknown', through: null}
  if (x.hostBridge !== y.hostBridge) {
    if (numaX === null || numaY === null) return {link: 'unknown', through: null}
    return {link: numaX === numaY ? 'same-numa-node' : 'across-numa-nodes', through: null}
  }
  let k = 0
  while (k < x.bridges.length && k < y.bridges.length && x.bridges[k] === y.bridges[k]) k++
  if (k === 0) return {link: 'same-host-bridge', through: x.hostBridge}
  return {link: k === 1 ? 'same-root-port' : 'same-switch', through: x.bridges[k - 1]}
}

/** Every pair of the GPUs (by index), nothing for fewer than two. */
export function gpuTopology(gpus: Array<{index: number; busId: string; numaNode: number | null}>, sys: string): GpuPair[] {
  const chains = gpus.map((g) => pciChain(g.busId, sys))
  const pairs: GpuPair[] = []
  for (let i = 0; i < gpus.length; i++)
    for (let j = i + 1; j < gpus.length; j++) pairs.push({a: gpus[i].index, b: gpus[j].index, ...classifyPair(chains[i], chains[j], gpus[i].numaNode, gpus[j].numaNode)})
  return pairs
}
