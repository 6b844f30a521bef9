import {prose} from '../../cli/prose.js'
import {Flags} from '@oclif/core'

import {flagsGiven} from '../../cli/flags-given.js'
import {KvCommand} from '../../cli/kv-command.js'
import {progressBar} from '../../cli/progress.js'
import {checkOutputPath, writeFileAtomic} from '../../cli/output-file.js'
import {benchBackend, type BackendBenchResults} from '../../core/backend-bench.js'
import {buildEnvironment} from '../../core/environment.js'
import {gateThreshold} from '../../cli/number-flag.js'
import {failedGates, gateLine} from '../../core/gates.js'
import {exitCodeForSignal} from '../../core/interrupt.js'
import {storeKind} from '../../core/store-spec.js'
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
  static flags = {
    backend: Flags.string({description: 'host, file:DIR, redis://[user:pass@]host:port[/db], rediss://...[?cacert=PATH] (TLS) or plugin:PATH.so[?config]', default: 'host'}),
    profile: Flags.string({description: 'profile whose chunk and block sizes are used', default: 'llama-3.1-8b'}),
    mib: Flags.integer({description: 'MiB written per record size (one record at least)', default: 256}),
    threads: Flags.integer({description: 'I/O threads, 1-256 (Redis: one connection each)', default: 4}),
    pipeline: Flags.integer({description: 'records per store call of one I/O thread, 1-1024 (Redis: commands written before the first reply is read)', default: 1}),
    fsync: Flags.string({description: 'fsync each record (file backend)', options: ['never', 'always'], default: 'never'}),
    direct: Flags.boolean({description: 'O_DIRECT where the filesystem allows it (--no-direct: page cache)', default: true, allowNo: true}),
    verify: Flags.boolean({description: 'compare every byte read back (--no-verify skips it)', default: true, allowNo: true}),
    runs: Flags.integer({description: 'measured repetitions of the whole bench, 1-100: GB/s is their median, their range the spread', default: 1}),
    trace: Flags.string({description: 'also write the measured runs as a Chrome trace-event timeline (ui.perfetto.dev, chrome://tracing): the passes, and every store call on its I/O thread', helpValue: 'FILE'}),
    'warmup-runs': Flags.integer({description: 'unmeasured repetitions first, 0-10 (page cache, connections, the store\'s own warm-up)', default: 0}),
    'min-put-gbps': Flags.string({description: 'fail (exit 1) if a record size puts slower than N GB/s', helpGroup: 'GATE'}),
    'min-get-gbps': Flags.string({description: 'fail (exit 1) if a record size gets slower than N GB/s', helpGroup: 'GATE'}),
    'max-p99-us': Flags.string({description: 'fail (exit 1) if a put or get p99 latency exceeds N µs', helpGroup: 'GATE'}),
    inject: Flags.string({description: 'testing: corrupt one stored record to prove the checksum catches it', options: ['none', 'corrupt-record'], default: 'none', hidden: true}),
  }
  protected readonly kind = 'backend-bench'

  async run() {
    const {flags} = await this.parse(BackendBench)
    this.environment = buildEnvironment(null, 'backend bench does not use the GPU')
    const tracePath = flags.trace === undefined ? null : checkOutputPath(flags.trace, '--trace')  // before the run, not after it
    const bar = progressBar('backend bench', this.humanView())
    const outcome = await benchBackend({
      onProgress: bar ? (done, total) => bar.update(done, total) : undefined,
      backend: flags.backend,
      profile: flags.profile,
      mibPerSize: flags.mib,
      threads: flags.threads,
      pipeline: flags.pipeline,
      fsync: flags.fsync as 'never' | 'always',
      direct: flags.direct,
      verify: flags.verify,
      runs: flags.runs,
      warmupRuns: flags['warmup-runs'],
      injectCorrupt: flags.inject === 'corrupt-record',
      trace: tracePath !== null,
      gates: {
        minPutGBps: gateThreshold('min-put-gbps', flags['min-put-gbps']),
        minGetGBps: gateThreshold('min-get-gbps', flags['min-get-gbps']),
        maxP99Us: gateThreshold('max-p99-us', flags['max-p99-us']),
      },
    }).finally(() => bar?.stop())
    const {results: r, signal} = outcome
    const notes: string[] = []
    if (signal) notes.push(`interrupted (${signal}): stopped at the next store call, the run's records removed; ${r.sizes.length} of 2 record sizes measured whole`)
    if (r.backend.note) notes.push(r.backend.note)
    if (tracePath && outcome.trace) {
      writeFileAtomic(tracePath, JSON.stringify(outcome.trace))
      const calls = outcome.trace.traceEvents.filter((e) => e.cat === 'store').length
      notes.push(`trace: ${calls} store calls of ${r.runs} measured run(s) in ${flags.trace} (open it in ui.perfetto.dev)`)
    }
    const kind = storeKind(flags.backend)
    if (kind === 'redis') notes.push('redis puts write fresh keys (each record a new key): put GB/s includes creating them')
    notes.push("GB/s: bytes over the busiest I/O thread's time inside store calls; kvbench's own record generation and verification run outside it")
    for (const f of ['fsync', 'direct']) {
      if (kind !== 'file' && flagsGiven(this.argv).has(f)) notes.push(`--${f} does nothing with a ${kind} store (it sets the file store)`)
    }
    if (!r.verify) notes.push('verification skipped: --no-verify (records were checksummed, data not compared)')
    const bad = r.sizes.filter((s) => s.verified === false || s.get.corrupt > 0 || s.put.failed > 0)
    if (bad.length > 0) {
      notes.push(`FAILED: ${bad.map((s) => `${s.label}: ${s.put.failed} puts failed, ${s.get.missing} missing, ${s.get.corrupt} corrupt, ${s.mismatches} words differ${s.firstError ? ` (${s.firstError})` : ''}`).join('; ')}`)
      process.exitCode = 1
    } else if (signal) {
      process.exitCode = exitCodeForSignal(signal)
    } else if (failedGates(r.gates).length > 0) {
      process.exitCode = 1
    }
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
