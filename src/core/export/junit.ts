// JUnit XML of what a result checked, so CI shows it as tests: per result file a test suite
// with the run itself (complete, partial, error), each gate, each verification and each audit verdict.
import type {AuditResults} from '../audit.js'
import type {Gate} from '../gates.js'
import type {ResultFile} from '../results/read-result.js'

interface Case {
  name: string
  failure?: string
  skipped?: string
}

function xml(s: string): string {
  // Characters XML 1.0 cannot carry are dropped; the five specials escaped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

function cases(f: ResultFile): Case[] {
  const e = f.envelope
  const out: Case[] = []
  if (e.status === 'error') out.push({name: 'run', failure: `error ${e.error?.code}: ${e.error?.message}`})
  else out.push(e.status === 'partial' ? {name: 'run', failure: 'the run was partial: figures cover what was measured'} : {name: 'run'})
  const gates = ((e.results as {gates?: Gate[]} | null)?.gates ?? []) as Gate[]
  for (const g of gates) {
    const name = `gate ${g.flag} ${g.metric ?? '(no figure)'} ${g.op} ${g.threshold}`
    out.push(g.passed ? {name} : {name, failure: g.value === null ? 'nothing measured' : `value ${g.value}`})
  }
  const strict = f.kind === 'audit-streams' && (e.results as AuditResults).strict
  for (const m of f.metrics) {
    if (m.unit === 'check') out.push(m.value === 1 ? {name: m.name} : {name: m.name, failure: 'verification FAILED'})
    if (m.unit === 'verdict') {
      const v = m.text ?? ''
      if (v === 'SKIP') out.push({name: m.name, skipped: 'SKIP'})
      else if (v === 'LEAK' || v === 'ERROR' || (v === 'HAZARD' && strict)) out.push({name: m.name, failure: v})
      else out.push({name: m.name})
    }
  }
  return out
}

/** The XML, and how many test cases it holds. */
export function junit(files: readonly ResultFile[]): {document: string; cases: number} {
  const suites = files.map((f) => ({f, cs: cases(f)}))
  const count = (cs: Case[], k: 'failure' | 'skipped') => cs.filter((c) => c[k] !== undefined).length
  const all = suites.flatMap((s) => s.cs)
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="kvbench" tests="${all.length}" failures="${count(all, 'failure')}" skipped="${count(all, 'skipped')}">`]
  for (const {f, cs} of suites) {
    const e = f.envelope
    lines.push(`  <testsuite name="${xml(`${f.kind} ${f.file}`)}" tests="${cs.length}" failures="${count(cs, 'failure')}" errors="0" skipped="${count(cs, 'skipped')}" timestamp="${xml(e.run.startedAt)}" time="${(e.run.durationMs / 1000).toFixed(3)}">`)
    for (const c of cs) {
      const open = `    <testcase classname="kvbench.${xml(f.kind)}" name="${xml(c.name)}"`
      if (c.failure !== undefined) lines.push(`${open}><failure message="${xml(c.failure)}"/></testcase>`)
      else if (c.skipped !== undefined) lines.push(`${open}><skipped message="${xml(c.skipped)}"/></testcase>`)
      else lines.push(`${open}/>`)
    }
    lines.push('  </testsuite>')
  }
  lines.push('</testsuites>')
  return {document: `${lines.join('\n')}\n`, cases: all.length}
}
