import {prose} from '../cli/prose.js'
import {Flags} from '@oclif/core'

import {flagsGiven} from '../cli/flags-given.js'
import {KvCommand} from '../cli/kv-command.js'
import type {CeilingResults, TogetherCeilings} from '../core/ceilings.js'
import type {Environment} from '../core/environment.js'
import {runEnv} from '../core/env-run.js'
import {fixed, keyValueTable, makeTable, orDash} from '../cli/render/table.js'
import {formatBytes} from '../core/bytes.js'

export default class Env extends KvCommand {
  static summary = 'Describe this machine for KV-cache transfer; --measure its copy ceilings'
  static description = prose`Host (CPU, NUMA, memory, locked-memory limit, OS), CUDA driver and runtime, and every GPU
(SMs, memory, L2, PCIe link, NUMA placement, copy engines). With --measure: pinned H2D and D2H
copy-engine bandwidth, both at once, D2D, pageable H2D and D2H, and small-copy latency, as medians of
repeated samples timed with CUDA events, every copy verified. These ceilings are what save/load figures
are compared with.`
  static examples = ['<%= config.bin %> env', '<%= config.bin %> env --measure', '<%= config.bin %> env --measure --device 1 --json', '<%= config.bin %> env --measure --gpus all']
  static flags = {
    measure: Flags.boolean({description: 'measure copy ceilings on the GPU (a few seconds)', default: false}),
    device: Flags.integer({description: 'GPU index to describe and measure (default: describe all, measure 0)'}),
    gpus: Flags.string({
      description: "with --measure: these GPUs' pinned copies (H2D, D2H, both at once) all at the same time, each GPU and the total, after the first one's alone",
      helpValue: 'LIST|all',
    }),
    size: Flags.integer({description: 'MiB per large copy when measuring', default: 256}),
    iterations: Flags.integer({description: 'timed samples per measurement', default: 20}),
    verify: Flags.boolean({description: 'check every copied byte (--no-verify skips it)', default: true, allowNo: true}),
  }
  protected readonly kind = 'env'

  async run() {
    const {flags} = await this.parse(Env)
    const progress = this.humanView() && process.stderr.isTTY
    const outcome = await runEnv(
      {
        measure: flags.measure,
        device: flags.device,
        gpus: flags.gpus,
        sizeMiB: flags.size,
        iterations: flags.iterations,
        verify: flags.verify,
        onProgress: progress ? (m) => process.stderr.write(`${m}…\n`) : undefined,
      },
      (env) => (this.environment = env),
    )
    if (!flags.measure) {
      for (const f of ['size', 'iterations', 'verify']) {
        if (flagsGiven(this.argv).has(f)) outcome.notes.push(`--${f} does nothing without --measure`)
      }
    }
    if (this.humanView()) this.render(outcome.environment, outcome.results, outcome.notes)
    return this.envelope(outcome.results, {notes: outcome.notes})
  }

  private render(env: Environment, r: CeilingResults, notes: string[]) {
    const h = env.host
    this.log('Host')
    this.log(
      keyValueTable([
        ['CPU', `${h.cpuModel} (${h.logicalCpus} logical CPUs)`],
        ['NUMA nodes', orDash(h.numaNodes)],
        ['Memory', formatBytes(h.memoryBytes)],
        ['Locked-memory limit', formatBytes(h.lockedMemoryLimitBytes)],
        ['OS / kernel', `${h.os} / ${h.kernel} (${h.arch})`],
        ['Node / N-API', `${h.node} / ${h.napi}`],
      ]),
    )
    const c = env.cuda
    this.log('CUDA')
    this.log(
      keyValueTable([
        ['Driver', `${orDash(c.driverVersion)}${c.driverRelease ? ` (${c.driverRelease})` : ''}`],
        ['Runtime (in addon)', orDash(c.runtimeVersion)],
        ['Addon gencodes', c.addonBuiltWithCuda ? c.gencodes.join(', ') : 'built without CUDA'],
        ['NCCL (--all-reduce)', c.nccl?.version ? `${c.nccl.version} (${c.nccl.library})` : `none: ${c.nccl?.reason ?? 'unknown'}`],
      ]),
    )
    if (env.gpus.length === 0) this.log(`GPUs: none (${env.gpusReason})`)
    for (const g of env.gpus) {
      const p = g.pcie
      const link = p.maxGen === null && p.maxWidth === null ? 'unknown' : `Gen${orDash(p.currentGen)} x${orDash(p.currentWidth)} now, Gen${orDash(p.maxGen)} x${orDash(p.maxWidth)} max (${p.source})`
      this.log(`GPU ${g.index}`)
      this.log(
        keyValueTable([
          ['Name', g.name],
          ['UUID', g.uuid],
          ['Compute capability', g.computeCapability],
          ['SMs', String(g.smCount)],
          ['Memory / L2', `${formatBytes(g.memoryBytes)} / ${formatBytes(g.l2Bytes)}`],
          ['Bus id', g.busId],
          ['PCIe link', link],
          ['NUMA node / CPUs', `${orDash(g.numaNode)} / ${orDash(g.cpuAffinity)}`],
          ['Copy engines', String(g.copyEngines)],
        ]),
      )
    }
    if (env.gpuTopology.length > 0) {
      this.log('GPU topology (PCIe, from sysfs: GPUs under one switch share its uplink to the host)')
      const t = makeTable(['GPUs', 'link', 'through'], undefined, {compact: true})
      for (const p of env.gpuTopology) t.push([`${p.a} - ${p.b}`, p.link, orDash(p.through)])
      this.log(t.toString())
    }
    if (r.measured) {
      this.log(`Copy ceilings, GPU ${r.device} (median of samples; p10-p90 in brackets)`)
      const t = makeTable(['measurement', 'bytes/sample', 'samples', 'GB/s', 'p10-p90 GB/s', 'time/sample', 'verified'])
      for (const x of r.ceilings) {
        const time = x.latencyUs.p50 >= 1000 ? `${fixed(x.latencyUs.p50 / 1000, 2)} ms` : `${fixed(x.latencyUs.p50, 1)} µs`
        t.push([x.label, formatBytes(x.bytesPerSample), String(x.samples), fixed(x.gbps.p50), `${fixed(x.gbps.p10)}-${fixed(x.gbps.p90)}`, time, r.verify ? (x.verified ? 'yes' : `NO (${x.mismatches})`) : 'skipped'])
      }
      this.log(t.toString())
      if (r.together) this.renderTogether(r.together, r.verify)
    } else if (r.reason) {
      this.log(`Copy ceilings: ${r.reason}`)
    }
    for (const n of notes) this.log(`note: ${n}`)
  }

  private renderTogether(g: TogetherCeilings, verify: boolean) {
    const ids = ['h2d_pinned', 'd2h_pinned', 'bidir_pinned']
    this.log(`Pinned copies on ${g.devices.length === 1 ? 'GPU' : 'GPUs'} ${g.devices.join(', ')} at once (GB/s, median of samples; p10-p90 in brackets)`)
    const t = makeTable(['GPU', 'H2D', 'D2H', 'both at once', 'verified'])
    for (const p of g.perGpu) {
      const cell = (id: string) => {
        const c = p.ceilings.find((x) => x.id === id)
        return c ? `${fixed(c.gbps.p50)} (${fixed(c.gbps.p10)}-${fixed(c.gbps.p90)})` : '-'
      }
      t.push([String(p.device), ...ids.map(cell), verify ? (p.ceilings.every((c) => c.verified) ? 'yes' : 'NO') : 'skipped'])
    }
    t.push(['total', ...ids.map((id) => (g.totalGBps[id] === undefined ? '-' : fixed(g.totalGBps[id]))), ''])
    this.log(t.toString())
  }
}
