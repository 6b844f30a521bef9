// Gates in the run, as nccl-tests' NCCL_TESTS_MIN_BW: a threshold on named metrics, checked
// when the run ends. A failed gate fails the run (exit 1); the result stays complete.
import type {Metric} from './metrics/index.js'
import type {TransferMode} from './plan.js'

export interface Gate {
  /** The flag that asked for it, e.g. --max-slowdown */
  flag: string
  /** The metric checked; null when the run measured nothing the gate applies to (it then fails). */
  metric: string | null
  op: '>=' | '<='
  threshold: number
  value: number | null
  passed: boolean
}

export interface GateSpec {
  flag: string
  op: '>=' | '<='
  threshold: number
  /** The metrics the gate applies to. */
  applies: (m: Metric) => boolean
}

export function evaluateGates(metrics: readonly Metric[], specs: readonly GateSpec[]): Gate[] {
  const out: Gate[] = []
  for (const s of specs) {
    const hit = metrics.filter(s.applies)
    // A gate that found nothing to check must not pass: the run measured less than asked.
    if (hit.length === 0) out.push({flag: `--${s.flag}`, metric: null, op: s.op, threshold: s.threshold, value: null, passed: false})
    for (const m of hit) {
      const passed = s.op === '>=' ? m.value >= s.threshold : m.value <= s.threshold
      out.push({flag: `--${s.flag}`, metric: m.name, op: s.op, threshold: s.threshold, value: m.value, passed})
    }
  }
  return out
}

export function failedGates(gates: readonly Gate[]): Gate[] {
  return gates.filter((g) => !g.passed)
}

/** One line per gate, for every command's human view. */
export function gateLine(g: Gate): string {
  const v = g.value === null ? 'nothing measured' : String(Number(g.value.toPrecision(4)))
  return `gate ${g.passed ? 'passed' : 'FAILED'}: ${g.metric ?? `${g.flag} found no figure`} = ${v} (${g.flag} ${g.op} ${g.threshold})`
}

/** save/load: `--min-pct-of-ceiling`, `--max-slowdown`, `--max-blocked-p99-us`, as given (undefined: not asked). */
export interface TransferGateFlags {
  minPctOfCeiling?: number
  maxSlowdown?: number
  maxBlockedP99Us?: number
}

/**
 * The best strategy alone and every design beside the forward move at least P% of the ceiling;
 * every design slows the forward by at most PCT; the async design blocks a step at most N µs (p99).
 */
export function transferGateSpecs(mode: TransferMode, g: TransferGateFlags): GateSpec[] {
  const specs: GateSpec[] = []
  const inDesign = (m: Metric) => m.row.section === 'design'
  // The best strategy alone in the run's direction (mix: the best each way).
  const bestFigures = mode === 'mix' ? ['save_pct_of_ceiling', 'load_pct_of_ceiling'] : [`${mode}_pct_of_ceiling`]
  if (g.minPctOfCeiling !== undefined) {
    specs.push({
      flag: 'min-pct-of-ceiling',
      op: '>=',
      threshold: g.minPctOfCeiling,
      applies: (m) => (m.row.section === 'alone' && m.row.best === true && bestFigures.includes(m.figure)) || (inDesign(m) && m.figure === 'moved_pct_of_ceiling'),
    })
  }
  if (g.maxSlowdown !== undefined) specs.push({flag: 'max-slowdown', op: '<=', threshold: g.maxSlowdown, applies: (m) => inDesign(m) && m.figure === 'slowdown_pct'})
  if (g.maxBlockedP99Us !== undefined) {
    specs.push({flag: 'max-blocked-p99-us', op: '<=', threshold: g.maxBlockedP99Us, applies: (m) => inDesign(m) && m.row.design === 'async' && m.figure === 'blocked_p99_us'})
  }
  return specs
}

/** save/load --connector py:...: the same three flags, on the user's connector (the references are context). */
export function connectorGateSpecs(g: TransferGateFlags): GateSpec[] {
  const user = (m: Metric) => m.row.section === 'design' && m.row.role === 'user'
  const specs: GateSpec[] = []
  if (g.minPctOfCeiling !== undefined) specs.push({flag: 'min-pct-of-ceiling', op: '>=', threshold: g.minPctOfCeiling, applies: (m) => user(m) && m.figure === 'moved_pct_of_ceiling'})
  if (g.maxSlowdown !== undefined) specs.push({flag: 'max-slowdown', op: '<=', threshold: g.maxSlowdown, applies: (m) => user(m) && m.figure === 'slowdown_pct'})
  if (g.maxBlockedP99Us !== undefined) specs.push({flag: 'max-blocked-p99-us', op: '<=', threshold: g.maxBlockedP99Us, applies: (m) => user(m) && m.figure === 'blocked_p99_us'})
  return specs
}

/** backend bench: `--min-put-gbps`, `--min-get-gbps`, `--max-p99-us` (put and get), per record size. */
export interface BackendGateFlags {
  minPutGBps?: number
  minGetGBps?: number
  maxP99Us?: number
}

export function backendGateSpecs(g: BackendGateFlags): GateSpec[] {
  const specs: GateSpec[] = []
  const size = (m: Metric) => m.row.section === 'size'
  if (g.minPutGBps !== undefined) specs.push({flag: 'min-put-gbps', op: '>=', threshold: g.minPutGBps, applies: (m) => size(m) && m.figure === 'put_gbps'})
  if (g.minGetGBps !== undefined) specs.push({flag: 'min-get-gbps', op: '>=', threshold: g.minGetGBps, applies: (m) => size(m) && m.figure === 'get_gbps'})
  if (g.maxP99Us !== undefined) specs.push({flag: 'max-p99-us', op: '<=', threshold: g.maxP99Us, applies: (m) => size(m) && (m.figure === 'put_p99_us' || m.figure === 'get_p99_us')})
  return specs
}
