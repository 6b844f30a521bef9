// Human view of a --gpus run: each GPU's row of every design and the GPUs together (GB/s added,
// against the ceilings they read while all of them copied; the slowest GPU's slowdown).
import {fixed, fixedPct as pct, fixedUs as us, makeTable} from './table.js'
import type {DesignFigures, TransferResults} from '../../core/saveload/results.js'
import type {TogetherRow} from '../../core/saveload/together.js'

const label = (d: {design: string; direction?: string}) => (d.direction && d.design !== 'off' ? `${d.design} · ${d.direction}` : d.design)

export function renderTogether(r: TransferResults): string[] {
  const t = r.together
  if (!r.workers || !t) return []
  const c = t.ceilings
  const out = [
    `GPUs ${t.gpus.join(', ')} at once (a worker each: its own forward, connector thread and host pool, every phase started on all together); ` +
      `ceilings read while every GPU copied, added: H2D ${fixed(c.h2dGBps)} / D2H ${fixed(c.d2hGBps)}${r.mode === 'mix' ? ` / both ways ${fixed(c.bothGBps)}` : ''} GB/s`,
  ]
  const table = makeTable(['design', 'strategy', 'GPU', `${r.mode === 'mix' ? 'moved' : r.mode} GB/s`, '% ceiling', 'slowdown (GPU step)', 'blocked/step p99', 'all-reduce ms p50', 'skipped', 'verified'])
  const designOf = (device: number, i: number): DesignFigures | undefined => r.workers!.find((w) => w.device === device)?.results?.designs[i]
  const together = (row: TogetherRow) => [
    row.gbps === null ? '-' : fixed(row.gbps),
    pct(row.pctOfCeiling),
    row.slowestSlowdownPct === null ? '-' : `slowest ${fixed(row.slowestSlowdownPct)}% (GPU ${row.slowestGpu})`,
  ]
  t.designs.forEach((row, i) => {
    if (row.design === 'off') return
    for (const device of row.gpus) {
      const d = designOf(device, i)!
      const ar = d.allReduce?.stepMs?.p50
      table.push([label(row), row.strategy ?? '-', String(device), d.transfer ? fixed(d.transfer.gbps) : '-', d.transfer ? pct(d.transfer.pctOfCeiling) : '-', pct(d.slowdownPct), us(d.blockedPerStepUs?.p99), ar === undefined ? '-' : fixed(ar, 3), d.transfer ? String(d.transfer.jobsSkipped) : '-', d.verified === null ? 'skipped' : d.verified ? 'yes' : 'NO'])
    }
    const ar = row.allReduceP50Ms?.filter((v): v is number => v !== null) ?? []
    table.push([label(row), row.strategy ?? '-', 'together', ...together(row), '-', ar.length ? `max ${fixed(Math.max(...ar), 3)}` : '-', String(row.jobsSkipped), row.verified === null ? 'skipped' : row.verified ? 'yes' : 'NO'])
  })
  if (t.reference) table.push(['link reference', 'contiguous', 'together', ...together(t.reference), '-', '-', '-', '-'])
  if (table.length > 0) out.push(table.toString())
  for (const w of r.workers) {
    const p = w.placement
    if (p) out.push(`GPU ${w.device}: worker threads on CPUs ${p.cpus ?? 'all'} (${p.cpusAllowed} allowed), host memory ${p.memoryBound ? `on NUMA node ${p.numaNode}` : 'where the kernel puts it'}${p.note ? ` (${p.note})` : ''}`)
  }
  for (const w of r.workers) if (!w.results) out.push(`GPU ${w.device}: FAILED: ${w.error ?? 'no result'}${w.stuck ? ' (left waiting for a failed GPU until its communicator was aborted)' : ''}`)
  out.push(`GPU ${r.workload.device}'s run in detail (every GPU's is in --json's results.workers):`, '')
  return out
}
