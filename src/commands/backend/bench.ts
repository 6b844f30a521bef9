import {prose} from '../../cli/prose.js'

import {flagsGiven} from '../../cli/flags-given.js'
import {KvCommand} from '../../cli/kv-command.js'
import {progressBar} from '../../cli/progress.js'
import {checkOutputPath, writeFileAtomic} from '../../cli/output-file.js'
import {backendBenchFlags, backendBenchRequest} from '../../cli/backend-flags.js'
import {benchBackend, planBackendBench, type BackendBenchResults} from '../../core/backend/bench.js'
import {backendVerdict} from '../../core/backend/verdicts.js'
import {buildEnvironment} from '../../core/environment.js'
import {gateLine} from '../../core/gates.js'
import {fixed, makeTable} from '../../cli/render/table.js'
import {formatBytes} from '../../core/bytes.js'

export default class BackendBench extends KvCommand {
  static summary = 'Benchmark a KV store alone: put/get throughput and latency, no GPU needed'
  static description = prose`Also times the scheduler's lookup (get_num_new_matched_tokens) with tinybench: the
synchronous call, and a non-blocking call that answers "ask again later" until the store has answered.
Writes and reads back records the size of a profile's chunk and block through the store, from
host memory on several I/O threads, every record checksummed and its data verified. For store
authors, and runnable in CI. Backends: host (memory), file:DIR (one checksummed file per record,
O_DIRECT where the filesystem allows it), redis:// or rediss:// (RESP to Redis or Valkey, TLS verified), plugin:PATH.so (your
store through the C ABI in native/include/kvbench_store.h). Keys and files are namespaced per run
and removed at the end.`
  static examples = ['<%= config.bin %> backend bench --backend file:/mnt/nvme', '<%= config.bin %> backend bench --backend host --profile llama-3.1-70b --json']
  static flags = backendBenchFlags
  protected readonly kind = 'backend-bench'

  async run() {
    const {flags} = await this.parse(BackendBench)
    this.environment = buildEnvironment(null, 'backend bench does not use the GPU')
    const tracePath = flags.trace === undefined ? null : checkOutputPath(flags.trace, '--trace')  // before the run, not after it
    const setup = planBackendBench(backendBenchRequest(flags))
    const bar = progressBar('backend bench', this.humanView())
    setup.request.onProgress = bar ? (done, total) => bar.update(done, total) : undefined
    const outcome = await benchBackend(setup).finally(() => bar?.stop())
    const r = outcome.results
    const {notes, exitCode} = backendVerdict(r, outcome.signal, flagsGiven(this.argv))
    if (tracePath && outcome.trace) {
      writeFileAtomic(tracePath, JSON.stringify(outcome.trace))
      const calls = outcome.trace.traceEvents.filter((e) => e.cat === 'store').length
      notes.push(`trace: ${calls} store calls of ${r.runs} measured run(s) in ${flags.trace} (open it in ui.perfetto.dev)`)
    }
    if (exitCode !== 0) process.exitCode = exitCode
    if (this.humanView()) this.render(r, notes)
    return this.envelope(r, {notes, status: r.partial ? 'partial' : 'complete'})
  }

  private render(r: BackendBenchResults, notes: string[]) {
    const runs = r.runs > 1 || r.warmupRuns > 0 ? ` · ${r.runs} measured runs${r.warmupRuns ? ` after ${r.warmupRuns} warm-up` : ''}` : ''
    this.log(`${r.backend.store} · profile ${r.profile} · ${r.threads} I/O threads${r.pipeline > 1 ? `, ${r.pipeline} records per pipelined call` : ''}${runs}`)
    const t = makeTable(['record', 'size', 'ops', 'put GB/s', 'put µs p50/p99', 'get GB/s', 'get µs p50/p99', 'verified'])
    for (const s of r.sizes) {
      const lat = (x: {latencyUs: {p50: number; p99: number} | null}) => (x.latencyUs ? `${fixed(x.latencyUs.p50)} / ${fixed(x.latencyUs.p99)}` : '-')
      // Several runs: the median, and in brackets the range of the runs.
      const gbps = (x: {gbps: number; runsGBps: number[]}) => (x.runsGBps.length > 1 ? `${fixed(x.gbps, 2)} (${fixed(Math.min(...x.runsGBps), 2)}-${fixed(Math.max(...x.runsGBps), 2)})` : fixed(x.gbps, 2))
      t.push([s.label, formatBytes(s.bytes), String(s.ops), gbps(s.put), lat(s.put), gbps(s.get), lat(s.get), s.verified === null ? 'skipped' : s.verified ? 'yes' : 'NO'])
    }
    this.log(t.toString())
    const l = r.lookup
    if (l) {
      const c = (x: {p50: number; p99: number}) => `${fixed(x.p50, 2)} / ${fixed(x.p99, 2)} µs`
      this.log(`lookup (p50 / p99, tinybench): sync hit ${c(l.sync.hit)}, sync miss ${c(l.sync.miss)}; non-blocking call ${c(l.nonBlocking.call)}, answer ready after ${c(l.nonBlocking.answerUs)}`)
    }
    for (const g of r.gates) this.log(gateLine(g))
    for (const n of notes) this.log(`note: ${n}`)
  }
}
