// The strategy crossover of a card: over a sweep of chunk sizes with every strategy alone
// (save or load --strategy all), which strategy is the fastest at each chunk size, per direction,
// and the chunk size from which each one wins. A connector reads the document at start-up
// (schemas/crossover.schema.json) to choose its copy path per chunk size on this card.
import type {Environment} from '../environment.js'
import type {TransferResults} from '../saveload/results.js'
import type {ToolInfo} from '../tool-info.js'
import type {PointKind} from './figures.js'
import type {VaryAxis} from './grid.js'

export interface CrossoverPoint {
  chunkBytes: number
  /** Each verified strategy's GB/s alone: the median of its timed groups. */
  gbps: Record<string, number>
  fastest: string
  /** How far the fastest is ahead of the next, in percent: below ~1% it is within the noise. */
  marginPct: number | null
}

export interface CrossoverRange {
  strategy: string
  fromChunkBytes: number
  toChunkBytes: number
}

export interface CrossoverDirection {
  points: CrossoverPoint[]
  /** Chunk sizes grouped by their fastest strategy, smallest first. */
  ranges: CrossoverRange[]
}

export interface Crossover {
  save: CrossoverDirection
  load: CrossoverDirection
}

/** The flags that change a profile's chunk size (with --profile itself). */
export const CHUNK_FLAGS = ['block-size', 'kv-heads', 'head-dim', 'latent-dim', 'layout', 'profile']

interface PointLike {
  status: string
  results: unknown
}

function direction(runs: readonly TransferResults[], dir: 'save' | 'load'): CrossoverDirection {
  const points: CrossoverPoint[] = []
  for (const r of [...runs].sort((a, b) => a.sizes.chunkBytes - b.sizes.chunkBytes)) {
    const gbps: Record<string, number> = {}
    for (const s of r.strategies) {
      const d = s[dir]
      if (d.verified === false) continue
      gbps[s.strategy] = d.samplesGBps?.p50 ?? d.gbps
    }
    const ranked = Object.entries(gbps).sort((a, b) => b[1] - a[1])
    if (ranked.length === 0) continue
    const marginPct = ranked.length > 1 && ranked[1][1] > 0 ? (100 * (ranked[0][1] - ranked[1][1])) / ranked[1][1] : null
    points.push({chunkBytes: r.sizes.chunkBytes, gbps, fastest: ranked[0][0], marginPct})
  }
  const ranges: CrossoverRange[] = []
  for (const p of points) {
    const last = ranges.at(-1)
    if (last && last.strategy === p.fastest) last.toChunkBytes = p.chunkBytes
    else ranges.push({strategy: p.fastest, fromChunkBytes: p.chunkBytes, toChunkBytes: p.chunkBytes})
  }
  return {points, ranges}
}

/** The crossover where the sweep can give one, else null and (where the user may have wanted one) why not. */
export function crossoverOf(kind: PointKind, vary: readonly VaryAxis[], points: readonly PointLike[]): {value: Crossover | null; note: string | null} {
  if (kind === 'backend-bench') return {value: null, note: null}
  const chunkAxis = vary.some((a) => CHUNK_FLAGS.includes(a.flag))
  const runs = points.filter((p) => p.status === 'complete' && p.results).map((p) => p.results as TransferResults)
  const why = (s: string) => ({value: null, note: chunkAxis ? `no crossover: ${s}` : null})
  if (runs.length < 2) return why('it needs two finished points or more')
  if (runs.some((r) => r.strategies.length < 2)) return why('each point ran one strategy; add --strategy all')
  const chunks = runs.map((r) => r.sizes.chunkBytes)
  if (new Set(chunks).size !== chunks.length) return why(`points share a chunk size; vary only what sets the chunk (${CHUNK_FLAGS.map((f) => `--${f}`).join(', ')})`)
  return {value: {save: direction(runs, 'save'), load: direction(runs, 'load')}, note: null}
}

export interface CrossoverDocument {
  $schema: string
  tool: ToolInfo
  measuredAt: string
  gpu: {name: string; computeCapability: string; driverRelease: string | null; pcie: string | null} | null
  /** Per direction, the chunk sizes each strategy won, smallest first. */
  save: CrossoverRange[]
  load: CrossoverRange[]
  /** The measurements behind the ranges. */
  points: {save: CrossoverPoint[]; load: CrossoverPoint[]}
}

export function crossoverDocument(c: Crossover, environment: Environment | null, tool: ToolInfo, schemaBase: string, measuredAt: string): CrossoverDocument {
  const g = environment?.gpus[0]
  const link = g?.pcie && g.pcie.currentGen ? `Gen${g.pcie.currentGen} x${g.pcie.currentWidth}` : null
  return {
    $schema: `${schemaBase}/crossover.schema.json`,
    tool,
    measuredAt,
    gpu: g ? {name: g.name, computeCapability: g.computeCapability, driverRelease: environment?.cuda?.driverRelease ?? null, pcie: link} : null,
    save: c.save.ranges,
    load: c.load.ranges,
    points: {save: c.save.points, load: c.load.points},
  }
}
