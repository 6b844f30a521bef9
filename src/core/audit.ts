// `kvbench audit-streams`: native probes (the addon's threads) and Python probes
// (probes/audit_streams.py in the user's Python), turned into verdicts.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, isAbsolute, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {badInput, KvError} from './errors.js'
import {runStreamProbes, type NativeProbe} from '../native/index.js'

export type Verdict = 'PASS' | 'LEAK' | 'HAZARD' | 'SKIP' | 'ERROR'

export interface ProbeVerdict {
  layer: 'native' | 'python'
  /** context: a fact about this machine or kvbench's own build, not about the user's stack (never fails --strict) */
  kind: 'audit' | 'reproduction' | 'context'
  probe: string
  target: string
  verdict: Verdict
  evidence: string
  fix: string | null
}

export interface AuditRequest {
  /** undefined: python3 from PATH, whose absence is a SKIP rather than an error. */
  python?: string
  accessors: string[]
  imports: string[]
  reproduce?: 'nan' | 'invalid-handle'
  device: number
  /** Why `device` cannot run the native probes (gpuPreflight, which the command already ran for its envelope); null: it can. */
  gpuProblem: KvError | null
  strict: boolean
  trials: number
  timeoutS: number
}

export interface AuditResults {
  python: {executable: string; version: string | null; torch: string | null; skipped: string | null}
  strict: boolean
  probes: ProbeVerdict[]
  counts: Record<Verdict, number>
  /** 0 nothing leaks; 1 a LEAK or ERROR (or HAZARD under --strict). */
  exitCode: number
}

const ACCESSOR = /^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$/
const MODULE = /^[A-Za-z_][\w.]*$/

// default-stream-mode says how the legacy default stream behaves in kvbench's own addon (built
// without per-thread default streams): true of every CUDA machine, a fact about kvbench, not a leak
// in the user's Python. It is shown, and --strict does not fail on it.
const CONTEXT_PROBES = new Set(['default-stream-mode'])

const FIXES: Record<string, string> = {
  'fresh-thread-device': 'call cudaSetDevice (torch.cuda.set_device) first in every connector thread',
  'default-stream-mode': 'create connector streams with cudaStreamNonBlocking; never use stream 0 in a connector',
  'cross-device-stream': 'create a thread\'s streams after setting its device, and never share them across devices',
}

export function checkAuditRequest(r: AuditRequest): void {
  for (const a of r.accessors) {
    if (!ACCESSOR.test(a)) throw badInput(`--accessor ${a}: expected module:attr (for example vllm.utils:current_stream)`)
  }
  for (const m of r.imports) {
    if (!MODULE.test(m)) throw badInput(`--import ${m}: expected a module name (for example vllm.utils)`)
  }
  if (!Number.isInteger(r.trials) || r.trials < 1 || r.trials > 1000) throw badInput(`--trials must be between 1 and 1000, got ${r.trials}`)
  if (!(r.timeoutS > 0 && r.timeoutS <= 600)) throw badInput(`--timeout must be more than 0 and at most 600 seconds, got ${r.timeoutS}`)
  if (!Number.isInteger(r.device) || r.device < 0) throw badInput(`--device must be a GPU index (0, 1, ...), got ${r.device}`)
  if (r.python !== undefined && (r.python.includes('/') || isAbsolute(r.python)) && !existsSync(r.python)) {
    throw badInput(`--python ${r.python}: no such file`)
  }
}

export function probeScript(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const c of [resolve(here, '..', '..', 'probes', 'audit_streams.py'), resolve(here, '..', 'probes', 'audit_streams.py')]) {
    if (existsSync(c)) return c
  }
  throw new KvError('INTERNAL', 'probes/audit_streams.py is missing from this installation', 1)
}

function verdictOf(outcome: string): Verdict {
  const v = outcome.toUpperCase()
  return (['PASS', 'LEAK', 'HAZARD', 'SKIP', 'ERROR'] as const).find((x) => x === v) ?? 'ERROR'
}

export async function nativeVerdicts(device: number, gpuProblem: KvError | null): Promise<ProbeVerdict[]> {
  const ids = ['fresh-thread-device', 'default-stream-mode', 'cross-device-stream', 'race-canary']
  const skipAll = (why: string) => ids.map((probe) => ({layer: 'native' as const, kind: 'audit' as const, probe, target: 'CUDA runtime', verdict: 'SKIP' as const, evidence: why, fix: null}))
  if (gpuProblem) return skipAll(gpuProblem.message)  // the same words as env, save and load
  let probes: NativeProbe[]
  try {
    probes = await runStreamProbes(device)
  } catch (error) {
    return ids.map((probe) => ({layer: 'native', kind: 'audit', probe, target: 'CUDA runtime', verdict: 'ERROR', evidence: (error as Error).message, fix: null}))
  }
  return probes.map((p) => {
    const verdict = verdictOf(p.outcome)
    return {layer: 'native', kind: CONTEXT_PROBES.has(p.id) ? 'context' : 'audit', probe: p.id, target: 'CUDA runtime', verdict, evidence: p.evidence, fix: verdict === 'HAZARD' || verdict === 'LEAK' ? (FIXES[p.id] ?? null) : null}
  })
}

interface PythonReport {
  python?: string
  executable?: string
  torch?: string | null
  skip?: string | null
  fatal?: string
  importErrors?: Array<{module: string; error: string}>
  accessorErrors?: Array<{accessor: string; error: string}>
  probes: Array<{id: string; target: string; outcome: string; evidence: string; fix: string | null; kind: 'audit' | 'reproduction'}>
}

export function pythonVerdicts(r: AuditRequest): {report: AuditResults['python']; probes: ProbeVerdict[]} {
  const exe = r.python ?? 'python3'
  const config = JSON.stringify({accessors: r.accessors, imports: r.imports, reproduce: r.reproduce ?? null, device: r.device, trials: r.trials, timeout: r.timeoutS})
  const skip = (why: string) => ({
    report: {executable: exe, version: null, torch: null, skipped: why},
    probes: [{layer: 'python' as const, kind: 'audit' as const, probe: 'python-probes', target: exe, verdict: 'SKIP' as const, evidence: why, fix: null}],
  })
  // Argument array, never a shell string; the whole Python side runs under one deadline.
  const budgetMs = 1000 * (r.timeoutS * (4 + 4 * r.accessors.length + 2) + 10)  // probes + torch import
  const p = spawnSync(exe, [probeScript(), '--config', config], {encoding: 'utf8', timeout: budgetMs, env: {...process.env, PYTHONUNBUFFERED: '1'}, maxBuffer: 16 << 20})
  if (p.error) {
    const code = (p.error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      if (r.python !== undefined) throw badInput(`--python ${r.python}: not found`)
      return skip(`${exe} not found on PATH (use --python)`)
    }
    if (code === 'EACCES' && r.python !== undefined) throw badInput(`--python ${r.python}: not executable`)
    if (code === 'ETIMEDOUT') return {report: {executable: exe, version: null, torch: null, skipped: null}, probes: [{layer: 'python', kind: 'audit', probe: 'python-probes', target: exe, verdict: 'ERROR', evidence: `timed out after ${budgetMs / 1000} s`, fix: null}]}
    throw new KvError('PYTHON_FAILED', `${exe}: ${p.error.message}`, 1)
  }
  const line = p.stdout.trim().split('\n').filter(Boolean).at(-1)
  let rep: PythonReport
  try {
    rep = JSON.parse(line ?? '') as PythonReport
  } catch {
    const err = p.stderr.trim().split('\n').at(-1) ?? ''
    const why = `${exe} could not run the probes (exit ${p.status ?? p.signal})${err ? `: ${err}` : ''}`
    // A Python the user named that is not one (/bin/false, node, a Python 2) checked nothing: bad input.
    if (r.python !== undefined) throw badInput(`--python ${r.python}: not a Python that runs kvbench's probes (exit ${p.status ?? p.signal})${err ? `: ${err}` : ''}`)
    return skip(why)
  }
  for (const e of rep.importErrors ?? []) throw badInput(`--import ${e.module}: ${e.error}`)
  for (const e of rep.accessorErrors ?? []) throw badInput(`--accessor ${e.accessor}: ${e.error}`)
  const report = {executable: rep.executable ?? exe, version: rep.python ?? null, torch: rep.torch ?? null, skipped: rep.skip ?? null}
  if (rep.skip) return {report, probes: skip(rep.skip).probes}
  const probes: ProbeVerdict[] = rep.probes.map((x) => ({layer: 'python', kind: x.kind, probe: x.id, target: x.target, verdict: verdictOf(x.outcome), evidence: x.evidence, fix: x.fix}))
  if (rep.fatal) probes.push({layer: 'python', kind: 'audit', probe: 'python-probes', target: exe, verdict: 'ERROR', evidence: rep.fatal, fix: null})
  return {report, probes}
}

export function exitCodeFor(probes: ProbeVerdict[], strict: boolean): number {
  // Under --strict a hazard in the user's stack fails, and so does a reproduction asked for that could not run.
  const bad = probes.some((p) => p.verdict === 'LEAK' || p.verdict === 'ERROR' || (strict && p.kind === 'audit' && p.verdict === 'HAZARD') || (strict && p.kind === 'reproduction' && p.verdict === 'SKIP'))
  return bad ? 1 : 0
}

/** --reproduce asked for and not in the Python side's report (no Python, no torch, no GPU): a SKIP saying why. */
export function reproductionOutcome(r: AuditRequest, probes: ProbeVerdict[], why: string): ProbeVerdict[] {
  if (!r.reproduce || probes.some((p) => p.kind === 'reproduction')) return probes
  return [...probes, {layer: 'python', kind: 'reproduction', probe: `reproduce-${r.reproduce}`, target: r.python ?? 'python3', verdict: 'SKIP', evidence: `the reproduction could not run: ${why}`, fix: null}]
}

export function countVerdicts(probes: ProbeVerdict[]): Record<Verdict, number> {
  const c: Record<Verdict, number> = {PASS: 0, LEAK: 0, HAZARD: 0, SKIP: 0, ERROR: 0}
  for (const p of probes) c[p.verdict]++
  return c
}

export async function runAudit(r: AuditRequest): Promise<AuditResults> {
  checkAuditRequest(r)
  const native = await nativeVerdicts(r.device, r.gpuProblem)
  const py = pythonVerdicts(r)
  const why = py.report.skipped ?? py.probes.find((p) => p.verdict === 'SKIP')?.evidence ?? 'the Python side did not report it'
  const probes = reproductionOutcome(r, [...native, ...py.probes], why)
  return {python: py.report, strict: r.strict, probes, counts: countVerdicts(probes), exitCode: exitCodeFor(probes, r.strict)}
}
