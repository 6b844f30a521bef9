// Human view of a save/load run: the same columns for every strategy and design.
import {fixed, formatBytes, makeTable} from './render.js'
import type {TransferResults} from './saveload-run.js'

const us = (v: number | undefined) => (v === undefined ? '-' : v >= 1000 ? `${fixed(v / 1000, 2)} ms` : `${fixed(v, 1)} µs`)
const yesNo = (v: boolean | null) => (v === null ? 'skipped' : v ? 'yes' : 'NO')

export function renderTransfer(r: TransferResults): string {
  const out: string[] = []
  const p = r.profile
  out.push(
    `${r.mode} · ${p.name} · ${p.layers} layers · chunk ${formatBytes(r.sizes.chunkBytes)} · block ${formatBytes(r.sizes.kvBytesPerBlock)} (all layers) · ` +
      `${r.workload.transferBlocks} blocks moved per strategy · ceilings H2D ${fixed(r.ceilings.h2dGBps)} / D2H ${fixed(r.ceilings.d2hGBps)} GB/s (this run)`,
  )
  const f = r.forward
  if (f.stepMs) {
    out.push(`forward alone: ${fixed(f.stepMs.p50, 2)} ms/step, ${fixed(f.tflops ?? 0, 1)} TFLOP/s, ${fixed(f.hbmGBps ?? 0, 0)} GB/s HBM (matrix work: ${f.gemmEngine})`)
  }
  if (r.strategies.length > 0) {
    out.push('', 'Copy strategies alone (whole transfer set, CUDA events)')
    const t = makeTable(['strategy', 'save GB/s', 'save % ceiling', 'load GB/s', 'load % ceiling', 'host enqueue (save)', 'verified'])
    for (const s of r.strategies) {
      const best = (dir: 'save' | 'load') => (r.best[dir] === s.strategy ? ' *' : '')
      t.push([
        s.strategy,
        fixed(s.save.gbps) + best('save'),
        `${fixed(s.save.pctOfCeiling)}%`,
        fixed(s.load.gbps) + best('load'),
        `${fixed(s.load.pctOfCeiling)}%`,
        `${fixed(s.save.enqueueHostMs, 1)} ms`,
        s.save.verified === null ? 'skipped' : s.save.verified && s.load.verified ? 'yes' : `NO (${s.save.mismatches + s.load.mismatches} words)`,
      ])
    }
    out.push(t.toString(), '* fastest verified')
  }
  if (r.designs.length > 0) {
    out.push('', `Forward with the connector beside it (${r.workload.steps} steps; slowdown vs connector off)`)
    const t = makeTable(['design', 'strategy', 'step ms p50 (GPU / wall)', 'slowdown GPU / wall', `${r.mode} GB/s`, '% ceiling', 'latency p50/p99 ms', 'host blocked/step p50/p99', 'skipped', 'verified'])
    for (const d of r.designs) {
      t.push([
        d.design,
        d.strategy ?? '-',
        d.stepGpuMs && d.stepWallMs ? `${fixed(d.stepGpuMs.p50, 2)} / ${fixed(d.stepWallMs.p50, 2)}` : '-',
        d.slowdownPct === null || d.wallSlowdownPct === null || d.design === 'off' ? '-' : `${fixed(d.slowdownPct)}% / ${fixed(d.wallSlowdownPct)}%`,
        d.transfer ? fixed(d.transfer.gbps) : '-',
        d.transfer ? `${fixed(d.transfer.pctOfCeiling)}%` : '-',
        d.transfer?.latencyMs ? `${fixed(d.transfer.latencyMs.p50, 2)} / ${fixed(d.transfer.latencyMs.p99, 2)}` : '-',
        d.blockedPerStepUs ? `${us(d.blockedPerStepUs.p50)} / ${us(d.blockedPerStepUs.p99)}` : '-',
        d.transfer ? String(d.transfer.jobsSkipped) : '-',
        d.design === 'off' ? (d.nonFiniteOutputs ? 'NaN!' : '-') : d.nonFiniteOutputs ? 'NaN!' : yesNo(d.verified),
      ])
    }
    out.push(t.toString())
    const hooks = makeTable(['design', 'strategy', 'hook', 'calls', 'p50', 'p99', 'max'])
    for (const d of r.designs) {
      for (const [name, h] of Object.entries(d.hooks)) hooks.push([d.design, d.strategy ?? '-', name, String(h.calls), us(h.us.p50), us(h.us.p99), us(h.us.max)])
    }
    if (hooks.length > 0) out.push('', 'Host time blocked in each connector hook', hooks.toString())
  }
  if (r.partial) out.push('', 'PARTIAL: the run was interrupted; figures cover the steps measured')
  return out.join('\n')
}
