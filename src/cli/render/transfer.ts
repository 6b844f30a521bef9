// Human view of a save, load or mix run: the same columns for every strategy and design.
import {gateLine} from '../../core/gates.js'
import {fixed, fixedUs as us, makeTable} from './table.js'
import {formatBytes} from '../../core/bytes.js'
import {renderTogether} from './together.js'
import type {AllReduceFigures, DesignFigures, TransferResults} from '../../core/saveload/results.js'

const yesNo = (v: boolean | null) => (v === null ? 'skipped' : v ? 'yes' : 'NO')
// A mix's rows name their direction: async · both, async · save, async · load.
const designLabel = (d: DesignFigures) => (d.direction && d.design !== 'off' ? `${d.design} · ${d.direction}` : d.design)

export function renderTransfer(r: TransferResults): string {
  const out: string[] = renderTogether(r)
  const p = r.profile
  out.push(
    `${r.mode === 'mix' ? 'mix (saves and loads in the same steps)' : r.mode} · ${p.name} · ${p.layers} layers · chunk ${formatBytes(r.sizes.chunkBytes)} · block ${formatBytes(r.sizes.kvBytesPerBlock)} (all layers) · ` +
      `${r.workload.transferBlocks} blocks moved per strategy · ceilings H2D ${fixed(r.ceilings.h2dGBps)} / D2H ${fixed(r.ceilings.d2hGBps)}` +
      (r.mode === 'mix' && r.ceilings.bothGBps ? ` / both ways ${fixed(r.ceilings.bothGBps)}` : '') +
      ` GB/s (this run)`,
  )
  const f = r.forward
  if (f.stepMs) {
    out.push(`forward alone: ${fixed(f.stepMs.p50, 2)} ms/step, ${fixed(f.tflops ?? 0, 1)} TFLOP/s, ${fixed(f.hbmGBps ?? 0, 0)} GB/s HBM (matrix work: ${f.gemmEngine})`)
  }
  if (r.strategies.length > 0) {
    out.push('', 'Copy strategies alone (whole transfer set, CUDA events; GB/s of the pass, in brackets p10-p90 of its timed groups)')
    const t = makeTable(['strategy', 'save GB/s', 'save % ceiling (pass / median)', 'load GB/s', 'load % ceiling (pass / median)', 'host enqueue (save)', 'verified'])
    const pct = (d: {pctOfCeiling: number; medianPctOfCeiling?: number | null}) =>
      d.medianPctOfCeiling == null ? `${fixed(d.pctOfCeiling)}%` : `${fixed(d.pctOfCeiling)} / ${fixed(d.medianPctOfCeiling)}%`
    const rate = (d: {gbps: number; samplesGBps: {p10: number; p90: number} | null}) =>
      d.samplesGBps ? `${fixed(d.gbps)} (${fixed(d.samplesGBps.p10)}-${fixed(d.samplesGBps.p90)})` : fixed(d.gbps)
    for (const s of r.strategies) {
      const best = (dir: 'save' | 'load') => (r.best[dir] === s.strategy ? ' *' : '')
      t.push([
        s.strategy,
        rate(s.save) + best('save'),
        pct(s.save),
        rate(s.load) + best('load'),
        pct(s.load),
        `${fixed(s.save.enqueueHostMs, 1)} ms`,
        s.save.verified === null ? 'skipped' : s.save.verified && s.load.verified ? 'yes' : `NO (${s.save.mismatches + s.load.mismatches} words)`,
      ])
    }
    out.push(t.toString(), '* what --strategy auto picks: fastest verified by the median group (within 1%, cheapest to enqueue; copy engines before kernels over PCIe)')
  }
  if (r.designs.length > 0) {
    out.push('', `Forward with the connector beside it (${r.workload.steps} steps; slowdown vs connector off)`)
    if (r.mode === 'mix') out.push("each design's 'both' row: the two directions together against the both-ways ceiling; its save and load rows: each against half of it, over the same steps")
    const t = makeTable(['design', 'strategy', 'step ms p50 (GPU / wall)', 'slowdown GPU / wall', `${r.mode === 'mix' ? 'moved' : r.mode} GB/s`, '% ceiling', 'latency p50/p99 ms', 'host blocked/step p50/p99', 'skipped', 'verified'])
    for (const d of r.designs) {
      t.push([
        designLabel(d),
        d.strategy ?? (d.design === 'off' ? '-' : 'save/load differ'),
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
    for (const d of r.designs) {
      if (d.direction === 'both') continue  // a mix's connector threads are its direction rows'
      if (d.connectorBusyPct !== null && d.connectorBusyPct !== undefined) out.push(`${designLabel(d)}/${d.strategy} connector thread: busy ${fixed(d.connectorBusyPct)}% of its life (expanding tasks, enqueuing copies, taking completions; the rest it slept)`)
    }
    const ar = allReduceLine(r)
    if (ar) out.push(ar)
    const hooks = makeTable(['design', 'strategy', 'hook', 'calls', 'p50', 'p99', 'max'])
    for (const d of r.designs) {
      for (const [name, h] of Object.entries(d.hooks)) hooks.push([designLabel(d), d.strategy ?? '-', name, String(h.calls), us(h.us.p50), us(h.us.p99), us(h.us.max)])
    }
    if (hooks.length > 0) out.push('', 'Host time blocked in each connector hook', hooks.toString())
  }
  const ref = r.reference
  if (ref) {
    const slow = ref.slowdownPct === null ? '' : ` at ${fixed(ref.slowdownPct)}% slowdown (GPU step)`
    out.push(
      '',
      `Link reference (${ref.steps} steps): contiguous ${formatBytes(ref.chunkBytes)} copies on a stream of their own ${ref.directions ? 'each way ' : ''}beside the forward moved ` +
        `${fixed(ref.gbps)} GB/s (${fixed(ref.pctOfCeiling)}% of the ceiling` +
        (ref.directions ? `; save ${fixed(ref.directions.save.gbps)}, load ${fixed(ref.directions.load.gbps)} GB/s` : '') +
        `)${slow}: the most a connector can move here while the forward runs, ` +
        `and the least moving that much costs the forward` + (ref.nonFiniteOutputs ? ` (NaN! in ${ref.nonFiniteOutputs} forward outputs)` : ''),
    )
    // Each connector row against it: the share of the reachable rate, the slowdown above the floor.
    // A mix's direction rows read against the reference's stream that way.
    const refGBps = (d: DesignFigures) => (d.direction === 'save' || d.direction === 'load' ? (ref.directions?.[d.direction].gbps ?? 0) : ref.gbps)
    const against = r.designs
      .filter((d) => d.transfer && refGBps(d) > 0)
      .map((d) => {
        const extra = d.slowdownPct === null || ref.slowdownPct === null || d.direction === 'save' || d.direction === 'load' ? '' : `, ${d.slowdownPct >= ref.slowdownPct ? '+' : ''}${fixed(d.slowdownPct - ref.slowdownPct)} points of slowdown`
        return `${designLabel(d)}/${d.strategy ?? 'save/load'} ${fixed((100 * d.transfer!.gbps) / refGBps(d))}% of its rate${extra}`
      })
    if (against.length > 0) out.push(`Against it: ${against.join('; ')}`)
  }
  const n = r.hostNoise
  if (n) {
    const rate = (v: number) => fixed(v, v >= 100 ? 0 : 1)
    out.push(
      '',
      `Host noise (a probe thread of its own, ${fixed(n.probeSeconds, 1)} s while the forward ran alone): it lost the CPU for ` +
        `>10 µs ${rate(n.stallsPerSecond.over10us)}/s, >20 µs ${rate(n.stallsPerSecond.over20us)}/s, >50 µs ${rate(n.stallsPerSecond.over50us)}/s; ` +
        `longest ${us(n.longestUs)}` +
        (n.slowRepsPct == null ? '' : `; ${fixed(n.slowRepsPct, 2)}% of its ${fixed(n.repUs, 2)} µs repetitions ran at under half speed`) +
        `. A hook's blocked time includes such stalls and slow spells when they land in it.`,
    )
  }
  if (r.backend) out.push('', ...renderBackend(r))
  // Results written before schema 1.6 carry no gates.
  const gates = r.gates ?? []
  if (gates.length > 0) out.push('', ...gates.map(gateLine))
  const gpuFailed = r.workers?.some((w) => w.error)
  if (r.partial) out.push('', r.storeFailed ? 'PARTIAL: store requests failed; figures cover what completed' : gpuFailed ? "PARTIAL: a GPU's worker failed; the others stopped at their next phase or step" : 'PARTIAL: the run was interrupted; figures cover the steps measured')
  return out.join('\n')
}

/** The forward's all-reduce: its GPU ms a step in each phase (connector off, each design, the reference) and the sums checked. */
function allReduceLine(r: TransferResults): string | null {
  const lib = r.forward.allReduce
  if (!lib) return null
  const rows: Array<[string, AllReduceFigures]> = []
  for (const d of r.designs) if (d.allReduce && d.direction !== 'save' && d.direction !== 'load') rows.push([designLabel(d), d.allReduce])  // a mix's is its together row's
  if (r.reference?.allReduce) rows.push(['reference', r.reference.allReduce])
  const calls = rows.reduce((n, [, a]) => n + a.calls, 0)
  const wrong = rows.reduce((n, [, a]) => n + a.mismatches, 0)
  const per = rows.map(([label, a]) => `${label} ${a.stepMs ? fixed(a.stepMs.p50, 3) : '-'}`).join(', ')
  return `all-reduce (${lib.library}, world ${lib.world}, rank ${lib.rank}; two a layer on the compute stream): ms a step p50: ${per}; ${calls} sums checked, ${wrong === 0 ? 'all right' : `${wrong} WRONG`}`
}

function renderBackend(r: TransferResults): string[] {
  const b = r.backend!
  const out = [`Store: ${b.store} (--backend ${b.spec}); the pinned pool's extents are its records`]
  const a = b.alone
  if (a) {
    out.push(
      `store alone (every extent put, then read back; ${a.records} records, ${formatBytes(a.bytes)}): put ${fixed(a.putGBps, 2)} GB/s, get ${fixed(a.getGBps, 2)} GB/s, verified ${yesNo(a.verified)}` +
        (a.putFailed + a.getFailed > 0 ? `, ${a.putFailed} puts / ${a.getFailed} gets failed` : ''),
    )
  }
  const word = r.mode === 'save' ? 'put' : 'get'
  const t = makeTable(['design', 'strategy', `store ${word} GB/s`, `${word} latency p50/p99 ms`, 'queue p50/max (limit)', 'dropped (queue full)', 'skipped (store busy)', 'failed', 'records verified'])
  for (const d of r.designs) {
    const s = d.store
    if (!s) continue
    const failed = s.puts.failed + s.gets.failed + s.lookups.failed + s.requestsFailed
    t.push([
      d.design,
      d.strategy ?? '-',
      fixed(s.gbps, 2),
      s.latencyMs ? `${fixed(s.latencyMs.p50, 2)} / ${fixed(s.latencyMs.p99, 2)}` : '-',
      s.queueDepth ? `${fixed(s.queueDepth.p50, 0)} / ${fixed(s.queueDepth.max, 0)} (${s.queueDepth.limit})` : '-',
      String(s.puts.droppedQueueFull + s.lookups.refusedQueueFull),
      String(s.puts.savesSkippedStoreBusy),
      String(failed),
      r.mode === 'load' ? 'via GPU check' : s.verified === null ? 'skipped' : s.verified ? `yes (${s.recordsChecked})` : `NO (${s.mismatches} words, ${s.recordsUnreadable} unreadable)`,
    ])
  }
  if (t.length > 0) out.push(t.toString())
  return out
}
