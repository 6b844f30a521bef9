import {prose} from '../cli/prose.js'
import {Flags} from '@oclif/core'

import {KvCommand} from '../cli/kv-command.js'
import {runAudit, type AuditResults} from '../core/audit.js'
import {gpuPreflight} from '../core/gpu-preflight.js'
import {Footnotes, makeChalk, makeTable} from '../cli/render/table.js'

export default class AuditStreams extends KvCommand {
  static summary = 'Find current-stream leaks between threads, natively and in your Python stack'
  static description = prose`Native probes (threads in the addon): a fresh thread's device, the legacy default stream,
a stream used from another device, and a race canary that proves the harness sees races. Python
probes (run with --python): torch's own current stream across threads, each --accessor module:attr
across threads, patched torch.cuda.set_stream, accessors that fall out of step with torch after a
stream switch, a fresh thread's device, and two threads sharing one stream. Verdicts: PASS, LEAK,
HAZARD, SKIP, ERROR, each with one line of evidence and a fix. Exit 0 when nothing leaks (HAZARD fails
too with --strict), 1 on LEAK or ERROR, 2 on bad input.`
  static examples = [
    '<%= config.bin %> audit-streams',
    '<%= config.bin %> audit-streams --accessor vllm.utils:current_stream --import vllm.utils',
    '<%= config.bin %> audit-streams --reproduce nan --json',
  ]
  static flags = {
    python: Flags.string({description: 'Python with torch to probe (default: python3 on PATH)'}),
    accessor: Flags.string({description: 'engine accessor to audit, module:attr (repeatable)', multiple: true, default: []}),
    import: Flags.string({description: 'module to import first, e.g. one whose import patches torch (repeatable)', multiple: true, default: []}),
    reproduce: Flags.string({description: 'demonstrate the failure a leak causes, and its fix', options: ['nan', 'invalid-handle']}),
    strict: Flags.boolean({description: 'HAZARD fails the audit too', default: false}),
    device: Flags.integer({description: 'GPU index', default: 0}),
    trials: Flags.integer({description: 'repetitions of each cross-thread probe, 1-1000', default: 10}),
    timeout: Flags.integer({description: 'seconds allowed for each probe', default: 10}),
  }
  protected readonly kind = 'audit-streams'

  async run() {
    const {flags} = await this.parse(AuditStreams)
    const gpu = gpuPreflight(flags.device)
    this.environment = gpu.environment
    const results = await runAudit({
      python: flags.python,
      accessors: flags.accessor,
      imports: flags.import,
      reproduce: flags.reproduce as 'nan' | 'invalid-handle' | undefined,
      device: flags.device,
      gpuProblem: gpu.problem,
      strict: flags.strict,
      trials: flags.trials,
      timeoutS: flags.timeout,
    })
    const notes: string[] = []
    const unrun = results.probes.filter((p) => p.kind === 'reproduction' && p.verdict === 'SKIP')
    if (unrun.length > 0) notes.push(`${unrun.map((p) => p.probe).join(', ')} asked for but not run${results.strict ? ': --strict fails on it' : ''}`)
    const context = results.probes.filter((p) => p.kind === 'context' && p.verdict === 'HAZARD')
    if (context.length > 0) notes.push(`${context.map((p) => p.probe).join(', ')}: a fact about kvbench's own build on this machine, not a verdict on your stack (--strict ignores it)`)
    if (this.humanView()) {
      this.render(results)
      for (const n of notes) this.log(`note: ${n}`)
    }
    process.exitCode = results.exitCode
    return this.envelope(results, {notes})
  }

  private render(r: AuditResults) {
    const c = makeChalk()
    const paint: Record<string, (s: string) => string> = {PASS: c.green, LEAK: c.red.bold, HAZARD: c.yellow, SKIP: c.gray, ERROR: c.magenta}
    const withFix = r.probes.some((p) => p.fix)  // an always-empty column is dropped
    const t = makeTable(['layer', 'probe', 'target', 'verdict', 'evidence', ...(withFix ? ['fix'] : [])])
    const long = new Footnotes()  // long evidence and fixes under the table
    for (const p of r.probes) t.push([p.layer, p.probe, p.target, paint[p.verdict](p.verdict), long.cell(p.evidence), ...(withFix ? [long.cell(p.fix ?? '')] : [])])
    this.log(t.toString())
    for (const line of long.lines()) this.log(line)
    const py = r.python
    this.log(`python: ${py.executable}${py.version ? ` ${py.version}` : ''}${py.torch ? `, torch ${py.torch}` : ''}${py.skipped ? ` (skipped: ${py.skipped})` : ''}`)
    this.log(Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(', ') + (r.strict ? ' (strict)' : ''))
  }
}
