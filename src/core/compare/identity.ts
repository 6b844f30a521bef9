// What makes two results comparable. `must` fields differ: refuse (exit 2), naming each;
// `context` fields differ (GPU, driver, build): a note.
import type {ResultFile} from '../results/read-result.js'
import {storeKind} from '../store-spec.js'

export interface Identity {
  must: Record<string, string>
  context: Record<string, string>
}

/** Nested fields as dotted keys, so a difference names its field. */
function flatten(prefix: string, v: unknown, out: Record<string, string>): Record<string, string> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out)
  } else {
    out[prefix] = JSON.stringify(v)
  }
  return out
}

/* eslint-disable @typescript-eslint/no-explicit-any -- results are read from files, checked field by field */
function mustOf(kind: string, r: any): Record<string, string> {
  switch (kind) {
    case 'save':
    case 'load':
    case 'mix': {
      const {device: _device, stagingInL2: _l2, ...workload} = r.workload ?? {}
      return {
        ...flatten('profile', r.profile, {}),
        ...flatten('workload', workload, {}),
        strategies: (r.strategies ?? []).map((s: any) => s.strategy).join(', ') || 'none',
        designs: (r.designs ?? []).map((d: any) => d.design).join(', ') || 'none',
        backend: storeKind(r.backend?.spec ?? 'host'),
      }
    }
    case 'connector': {
      const {device: _device, ...workload} = r.workload ?? {}
      return {
        ...flatten('profile', r.profile, {}),
        ...flatten('workload', {steps: workload.steps, warmupSteps: workload.warmupSteps, blocksPerRequest: workload.blocksPerRequest, poolBlocks: workload.poolBlocks}, {}),
        direction: String(r.direction),
        connector: String(r.connector?.spec),
        streamAccessor: String(r.connector?.streamAccessor),
        designs: (r.designs ?? []).map((d: any) => d.name).join(', ') || 'none',
      }
    }
    case 'backend-bench':
      return {
        backend: storeKind(r.backend?.spec ?? ''),
        profile: String(r.profile),
        threads: String(r.threads),
        pipeline: String(r.pipeline),
        fsync: String(r.fsync),
        records: (r.sizes ?? []).map((s: any) => `${s.label} ${s.bytes} B x ${s.ops}`).join(', '),
      }
    case 'env':
      return {
        measured: String(r.measured),
        ceilings: (r.ceilings ?? []).map((c: any) => `${c.id} ${c.bytesPerSample} B`).join(', '),
      }
    case 'merge':
      return {ranksOf: String(r.kind), launcher: String(r.launcher), worldSize: String(r.worldSize)}
    default:
      return {}
  }
}

export function identityOf(f: ResultFile): Identity {
  const env = f.envelope.environment as any
  const gpu = env?.gpus?.[0]
  return {
    must: {kind: f.kind, ...mustOf(f.kind, f.envelope.results)},
    context: {
      GPU: gpu ? String(gpu.name) : 'none',
      driver: String(env?.cuda?.driverRelease ?? env?.cuda?.driverVersion ?? 'none'),
      build: String(f.envelope.tool?.gitSha?.slice(0, 7) ?? 'unknown'),
    },
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Fields of `b` that differ from `a`: "workload.steps 200 vs 100". */
export function differences(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
  return keys.filter((k) => a[k] !== b[k]).map((k) => `${k} ${a[k] ?? 'absent'} vs ${b[k] ?? 'absent'}`)
}
