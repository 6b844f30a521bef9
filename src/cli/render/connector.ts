// Human view of a connector run: the user's connector beside the references, the same columns
// for every design, then each hook's host time by design.
import {gateLine} from '../../core/gates.js'
import {fixed, fixedPct as pct, fixedUs as us, makeTable} from './table.js'
import {formatBytes} from '../../core/bytes.js'
import type {ConnectorResults} from '../../core/connector/run.js'
import type {ConnectorDesignFigures} from '../../core/connector/figures.js'

/** A design's loads checked: how many came back right, or how many chunks did not ('-' for a baseline). */
const loadsChecked = (d: ConnectorDesignFigures) =>
  d.verify.verified === null ? (d.role === 'baseline' ? '-' : 'none') : d.verify.verified ? `${d.verify.requests} ok` : `NO (${d.verify.chunksBad} chunks)`

/** --gpus: each GPU's row of every design and the GPUs together (GB/s added, the slowest GPU's slowdown). */
function renderTogether(r: ConnectorResults): string[] {
  const t = r.together
  if (!r.workers || !t) return []
  const ceiling = r.direction === 'save' ? t.ceilings.d2hGBps : t.ceilings.h2dGBps
  const out = [`GPUs ${t.gpus.join(', ')} at once (a Python harness each: its own torch forward and connector; every phase started on all together); ${r.direction === 'save' ? 'D2H' : 'H2D'} ceilings read while every GPU copied, added: ${fixed(ceiling)} GB/s`]
  const table = makeTable(['design', 'GPU', `${r.direction} GB/s`, '% ceiling', 'slowdown (GPU step)', 'blocked/step p99', 'loads checked', 'outputs'])
  for (const row of t.designs) {
    if (row.role === 'baseline') continue
    for (const device of row.gpus) {
      const d = r.workers.find((w) => w.device === device)?.results?.designs.find((x) => x.name === row.name)
      if (!d) continue
      table.push([row.name, String(device), fixed(d[r.direction].gbps), pct(d[r.direction].pctOfCeiling), pct(d.slowdownPct), us(d.blockedPerStepUs?.p99), loadsChecked(d), d.outputs.correct ? 'ok' : 'WRONG'])
    }
    table.push([row.name, 'together', row.gbps === null ? '-' : fixed(row.gbps), pct(row.pctOfCeiling), row.slowestSlowdownPct === null ? '-' : `slowest ${fixed(row.slowestSlowdownPct)}% (GPU ${row.slowestGpu})`, '-', row.verified === null ? 'none' : row.verified ? 'yes' : 'NO', row.outputsCorrect ? 'ok' : 'WRONG'])
  }
  if (table.length > 0) out.push(table.toString())
  for (const w of r.workers) if (!w.results) out.push(`GPU ${w.device}: FAILED: ${w.error ?? 'no result'}`)
  out.push(`GPU ${r.workload.device}'s run in detail (every GPU's is in --json's results.workers):`, '')
  return out
}

export function renderConnector(r: ConnectorResults): string {
  const out: string[] = renderTogether(r)
  const p = r.profile
  const c = r.ceilings
  out.push(
    `${r.direction} · ${p.name} · connector ${r.connector.spec} · stream accessor ${r.connector.streamAccessor} · ` +
      (r.python.torch ? `torch ${r.python.torch} on ${r.python.gpu}` : `Python ${r.python.version ?? '?'}`) + (c ? ` · ceilings D2H ${fixed(c.d2hGBps)} / H2D ${fixed(c.h2dGBps)} GB/s (this run)` : ''),
  )
  const w = r.workload
  if (w.offeredRequestsPerStep !== null && w.requestBytes !== null) {
    out.push(`workload: ${w.steps} measured steps, ${fixed(w.offeredRequestsPerStep, 2)} requests of ${formatBytes(w.requestBytes)} arriving per step (${w.offeredFactor} x the ceiling at the connector-off step); ${r.direction === 'load' ? 'each returning prefix loaded and checked' : 'a quarter of a request per step comes back, loaded and checked'}`)
  }
  const t = makeTable(['design', 'step ms p50 (GPU / wall)', 'slowdown GPU / wall', 'save GB/s', 'load GB/s', `% ceiling (${r.direction})`, 'blocked/step p50 / p99', 'ready p50 ms', 'loads checked', 'outputs'])
  for (const d of r.designs) {
    if (d.error) {
      t.push([d.name, {colSpan: 9, content: `FAILED: ${d.error.hook} raised ${d.error.message}`}] as never)
      continue
    }
    const base = d.role === 'baseline'
    const outputs = d.outputs.correct ? 'ok' : `WRONG ${d.outputs.wrong + d.outputs.nonFinite}/${d.outputs.steps}` + (d.outputs.nonFinite ? ` (${d.outputs.nonFinite} NaN)` : '')
    t.push([
      base ? `${d.name} (connector off)` : d.role === 'user' ? `${d.name} (yours)` : d.name,
      d.stepGpuMs && d.stepWallMs ? `${fixed(d.stepGpuMs.p50, 2)} / ${fixed(d.stepWallMs.p50, 2)}` : '-',
      d.slowdownPct === null || d.wallSlowdownPct === null ? '-' : `${fixed(d.slowdownPct)}% / ${fixed(d.wallSlowdownPct)}%`,
      base ? '-' : fixed(d.save.gbps),
      base ? '-' : fixed(d.load.gbps),
      base ? '-' : `${fixed(d[r.direction].pctOfCeiling)}%`,
      d.blockedPerStepUs ? `${us(d.blockedPerStepUs.p50)} / ${us(d.blockedPerStepUs.p99)}` : '-',
      d.timeToReadyMs ? fixed(d.timeToReadyMs.p50, 2) : '-',
      loadsChecked(d),
      outputs,
    ])
  }
  if (r.designs.length > 0) out.push('', t.toString())
  const withHooks = r.designs.filter((d) => Object.keys(d.hooks).length > 0)
  if (withHooks.length > 0) {
    const h = makeTable(['hook (host µs)', ...withHooks.map((d) => `${d.name} p50 / p99 / max`)], undefined, {compact: true})
    const names = [...new Set(withHooks.flatMap((d) => Object.keys(d.hooks)))]
    for (const n of names) h.push([n, ...withHooks.map((d) => (d.hooks[n] ? `${us(d.hooks[n].us.p50)} / ${us(d.hooks[n].us.p99)} / ${us(d.hooks[n].us.max)}` : '-'))])
    out.push('', h.toString())
  }
  const leaks = r.designs.filter((d) => d.outputs.streams.some((s) => !s.compute))
  for (const d of leaks) {
    const s = d.outputs.streams.filter((x) => !x.compute).map((x) => `${x.stream}@cuda:${x.device} (${x.calls} calls)`).join(', ')
    out.push(`${d.name}: the all-reduce stand-in ran on ${s}, not the compute stream: the --stream-accessor returned another thread's stream`)
  }
  for (const g of r.gates) out.push(gateLine(g))
  return out.join('\n')
}
