// Flags of `kvbench backend bench`, and the request they make: shared by the command and by
// `kvbench sweep backend bench`, so both parse and refuse them the same way.
import {Flags, type Interfaces} from '@oclif/core'

import {gateThreshold} from './number-flag.js'
import type {BackendBenchRequest} from '../core/backend/bench.js'

export const backendBenchFlags = {
  backend: Flags.string({description: 'host, file:DIR, redis://[user:pass@]host:port[/db], rediss://...[?cacert=PATH] (TLS) or plugin:PATH.so[?config]', default: 'host'}),
  profile: Flags.string({description: 'profile whose chunk and block sizes are used', default: 'llama-3.1-8b'}),
  mib: Flags.integer({description: 'MiB written per record size (one record at least)', default: 256}),
  threads: Flags.integer({description: 'I/O threads, 1-256 (Redis: one connection each)', default: 4}),
  pipeline: Flags.integer({description: 'records per store call of one I/O thread, 1-1024 (Redis: commands written before the first reply is read)', default: 1}),
  fsync: Flags.option({description: 'fsync each record (file backend)', options: ['never', 'always'] as const, default: 'never' as const})(),
  direct: Flags.boolean({description: 'O_DIRECT where the filesystem allows it (--no-direct: page cache)', default: true, allowNo: true}),
  verify: Flags.boolean({description: 'compare every byte read back (--no-verify skips it)', default: true, allowNo: true}),
  runs: Flags.integer({description: 'measured repetitions of the whole bench, 1-100: GB/s is their median, their range the spread', default: 1}),
  trace: Flags.string({description: 'also write the measured runs as a Chrome trace-event timeline (ui.perfetto.dev, chrome://tracing): the passes, and every store call on its I/O thread', helpValue: 'FILE'}),
  'warmup-runs': Flags.integer({description: 'unmeasured repetitions first, 0-10 (page cache, connections, the store\'s own warm-up)', default: 0}),
  'min-put-gbps': Flags.string({description: 'fail (exit 1) if a record size puts slower than N GB/s', helpGroup: 'GATE'}),
  'min-get-gbps': Flags.string({description: 'fail (exit 1) if a record size gets slower than N GB/s', helpGroup: 'GATE'}),
  'max-p99-us': Flags.string({description: 'fail (exit 1) if a put or get p99 latency exceeds N µs', helpGroup: 'GATE'}),
  inject: Flags.option({description: 'testing: corrupt one stored record to prove the checksum catches it', options: ['none', 'corrupt-record'] as const, default: 'none' as const, hidden: true})(),
}

export type BackendBenchFlagValues = Interfaces.InferredFlags<typeof backendBenchFlags>

export function backendBenchRequest(f: BackendBenchFlagValues): BackendBenchRequest {
  return {
    backend: f.backend,
    profile: f.profile,
    mibPerSize: f.mib,
    threads: f.threads,
    pipeline: f.pipeline,
    fsync: f.fsync,
    direct: f.direct,
    verify: f.verify,
    runs: f.runs,
    warmupRuns: f['warmup-runs'],
    injectCorrupt: f.inject === 'corrupt-record',
    trace: f.trace !== undefined,
    gates: {
      minPutGBps: gateThreshold('min-put-gbps', f['min-put-gbps']),
      minGetGBps: gateThreshold('min-get-gbps', f['min-get-gbps']),
      maxP99Us: gateThreshold('max-p99-us', f['max-p99-us']),
    },
  }
}
