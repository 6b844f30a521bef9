// Flags shared by `kvbench save` and `kvbench load`: the profile, one override
// flag per profile field, and the run's choices.
import {Flags} from '@oclif/core'

import type {DesignChoice, StrategyChoice} from '../core/plan.js'
import type {Layout} from '../core/profile.js'
import {flagsGiven} from './flags-given.js'
import {gateThreshold} from './number-flag.js'
import type {ConnectorRequest} from '../core/connector/run.js'
import {DEFAULT_ACCESSOR, isPythonConnector, REFERENCE_CONNECTORS} from '../core/connector/spec.js'
import {badInput} from '../core/errors.js'
import type {TransferRequest} from '../core/saveload-run.js'
import {FAULT_NAMES, type FaultName, type StagingL2} from '../native.js'

const profileGroup = 'PROFILE OVERRIDE'
const gateGroup = 'GATE'
const pyGroup = 'PYTHON CONNECTOR'

export const transferFlags = {
  profile: Flags.string({description: 'profile name (see `kvbench profiles`) or path to a profile .json', default: 'llama-3.1-8b'}),
  device: Flags.integer({description: 'GPU index', default: 0}),
  strategy: Flags.string({
    description: 'copy strategy: auto picks the fastest measured; all runs each side by side',
    options: ['auto', 'all', 'per-chunk', 'batch', 'mapped-kernel', 'staged'],
    default: 'auto',
  }),
  design: Flags.string({description: 'connector design(s) beside the connector-off baseline', options: ['all', 'async', 'blocking'], default: 'all'}),
  connector: Flags.string({
    description: 'on: kvbench\'s native connectors; off: only the forward (baseline); py:MODULE:CLASS: your Python connector (vLLM\'s KV connector hooks, docs/connector-api.md) beside a torch forward, with the reference connectors',
    helpValue: 'on|off|py:MODULE:CLASS',
    default: 'on',
  }),
  'connector-config': Flags.string({description: 'py: connectors: a JSON object (or @FILE) handed to your connector\'s constructor', helpValue: 'JSON|@FILE', helpGroup: pyGroup}),
  'stream-accessor': Flags.string({description: 'py: connectors: the engine\'s current-stream accessor the forward\'s all-reduce stand-in is enqueued on, as pynccl does (vllm.utils:current_stream)', helpValue: 'MODULE:ATTR', default: DEFAULT_ACCESSOR, helpGroup: pyGroup}),
  'compare-with': Flags.string({description: `py: connectors: reference connectors run in the same process and forward (${Object.keys(REFERENCE_CONNECTORS).join(', ')}, or none)`, default: Object.keys(REFERENCE_CONNECTORS).join(','), helpGroup: pyGroup}),
  'hook-timeout': Flags.integer({description: 'py: connectors: stop the run when one hook call blocks longer than this, seconds (more than 0, at most 3600)', default: 30, helpGroup: pyGroup}),
  python: Flags.string({description: 'py: connectors: the Python that runs your connector (torch with CUDA)', default: 'python3', helpGroup: pyGroup}),
  verify: Flags.boolean({description: 'check every saved and loaded byte (--no-verify skips it)', default: true, allowNo: true}),
  warmup: Flags.integer({description: 'warm-up steps before measuring', default: 3}),
  'staging-mib': Flags.integer({description: 'device staging ring of the staged strategy, MiB (slots of about 8 MiB, 2 to 8)', default: 16}),
  'copy-ctas': Flags.integer({
    description: 'CTAs of each gather/scatter launch; 0 (default): one per chunk, short CTAs that hand SMs back to the forward at once',
    default: 0,
  }),
  'mapped-ctas': Flags.integer({description: 'CTAs of the mapped-memory copy kernel, 1-65535', default: 264}),
  'copy-cache': Flags.string({description: 'cache policy of the copy kernels on the paged cache: stream (evict-first, spares the forward L2) or default', options: ['stream', 'default'], default: 'stream'}),
  backend: Flags.string({
    description: 'where saves go: host (pinned pool), file:DIR, redis://[user:pass@]host:port[/db], rediss://...[?cacert=PATH] (TLS) or plugin:PATH.so[?config]',
    default: 'host',
  }),
  'io-threads': Flags.integer({description: 'store I/O threads, 1-256 (Redis: one connection each)', default: 4}),
  'store-queue': Flags.integer({description: 'store requests queued or running, 1-65536; beyond it saves are dropped (counted)', default: 32}),
  pipeline: Flags.integer({description: 'records per pipelined store call, 1-1024', default: 4}),
  fsync: Flags.string({description: 'fsync each record (file backend)', options: ['never', 'always'], default: 'never'}),
  direct: Flags.boolean({description: 'O_DIRECT where the filesystem allows it (file backend; --no-direct: page cache)', default: true, allowNo: true}),
  'staging-l2': Flags.string({
    description:
      'staged: persist keeps the staging ring in an L2 set-aside, so the copy engine reads it from L2 (fewer HBM bytes under the forward); auto: persist where the GPU can set aside the whole ring, else HBM; normal: HBM',
    options: ['auto', 'persist', 'normal'],
    default: 'auto',
  }),
  'batch-share': Flags.integer({
    description: 'staged: move this % of each job\'s blocks as cudaMemcpyBatchAsync copies straight from the cache, beside the ring (fewer SM and HBM cycles taken from the forward; the rest goes through the ring)',
    default: 0,
  }),
  'reference-steps': Flags.integer({
    description: 'measured steps of the link reference: a plain contiguous copy stream beside the forward instead of a connector, the most a connector can move here and the least it can cost (default: the decode steps, at most 64; 0 skips it)',
  }),
  inject: Flags.string({description: 'testing: break something on purpose to prove verification catches it', options: [...FAULT_NAMES], default: 'none', hidden: true}),
  'min-pct-of-ceiling': Flags.string({description: 'fail (exit 1) unless the best strategy alone and each design beside the forward move at least P% of the ceiling', helpGroup: gateGroup}),
  'max-slowdown': Flags.string({description: 'fail (exit 1) if a design slows the forward by more than PCT% (median GPU step against the connector-off baseline)', helpGroup: gateGroup}),
  'max-blocked-p99-us': Flags.string({description: 'fail (exit 1) if the async design blocks a step for more than N µs at p99', helpGroup: gateGroup}),
  layers: Flags.integer({description: 'transformer layers, 1-1024', helpGroup: profileGroup}),
  'query-heads': Flags.integer({description: 'query heads', helpGroup: profileGroup}),
  'kv-heads': Flags.integer({description: 'KV heads (GQA)', helpGroup: profileGroup}),
  'head-dim': Flags.integer({description: 'values per head (GQA)', helpGroup: profileGroup}),
  'latent-dim': Flags.integer({description: 'latent width (MLA)', helpGroup: profileGroup}),
  'block-size': Flags.integer({description: 'tokens per KV block, 1-4096', helpGroup: profileGroup}),
  layout: Flags.string({description: 'KV layout', options: ['layer-major', 'block-contiguous'], helpGroup: profileGroup}),
  'hidden-size': Flags.integer({description: 'model width', helpGroup: profileGroup}),
  'mlp-size': Flags.integer({description: 'MLP width', helpGroup: profileGroup}),
  batch: Flags.integer({description: 'sequences per step, 1-4096', helpGroup: profileGroup}),
  'prompt-tokens': Flags.integer({description: 'prompt tokens per sequence', helpGroup: profileGroup}),
  'decode-steps': Flags.integer({description: 'measured steps per phase, 1-100000 (p99s need a few hundred)', helpGroup: profileGroup}),
  'prefix-hit-rate': Flags.string({description: 'share of a prompt found in the store (0..1)', helpGroup: profileGroup}),
}

type Parsed = {
  [K in keyof typeof transferFlags]: unknown
}

/** Flags of kvbench's native connectors, which a py: connector run has no use for. */
const NATIVE_ONLY = ['strategy', 'design', 'staging-mib', 'copy-ctas', 'mapped-ctas', 'copy-cache', 'backend', 'io-threads', 'store-queue', 'pipeline', 'fsync', 'direct', 'staging-l2', 'batch-share', 'reference-steps', 'inject', 'layout']
const PYTHON_ONLY = ['connector-config', 'stream-accessor', 'compare-with', 'hook-timeout', 'python']

/** Native-only flags with a py: connector, and py:-only flags without one, are bad input. */
export function checkConnectorFlags(connector: string, argv: readonly string[]): void {
  const set = flagsGiven(argv)
  if (isPythonConnector(connector)) {
    const wrong = NATIVE_ONLY.filter((f) => set.has(f))
    if (wrong.length > 0) throw badInput(`--${wrong[0]} sets kvbench's native connectors; it does nothing with --connector ${connector}`)
    return
  }
  if (connector !== 'on' && connector !== 'off') throw badInput(`--connector ${connector}: expected on, off or py:MODULE:CLASS (for example py:our_kv.backend:GlobalStoreConnector)`)
  const wrong = PYTHON_ONLY.filter((f) => set.has(f))
  if (wrong.length > 0) throw badInput(`--${wrong[0]} needs --connector py:MODULE:CLASS`)
}

export function connectorRequest(mode: 'save' | 'load', f: Parsed): ConnectorRequest {
  const t = transferRequest(mode, f)
  return {
    mode,
    profile: t.profile,
    overrides: t.overrides,
    device: t.device,
    connector: f.connector as string,
    connectorConfig: f['connector-config'] as string | undefined,
    streamAccessor: f['stream-accessor'] as string,
    compareWith: f['compare-with'] as string,
    hookTimeoutS: f['hook-timeout'] as number,
    python: f.python as string,
    verify: t.verify,
    warmupSteps: t.warmupSteps,
    gates: t.gates,
  }
}

export function transferRequest(mode: 'save' | 'load', f: Parsed): TransferRequest {
  const n = (v: unknown) => (v === undefined ? undefined : (v as number))
  let hit: number | undefined
  if (f['prefix-hit-rate'] !== undefined) {
    hit = Number(f['prefix-hit-rate'])
    if (!Number.isFinite(hit)) hit = Number.NaN
  }
  return {
    mode,
    profile: f.profile as string,
    device: f.device as number,
    strategy: f.strategy as StrategyChoice,
    design: f.design as DesignChoice,
    connector: f.connector !== 'off',
    verify: f.verify as boolean,
    warmupSteps: f.warmup as number,
    stagingMiB: f['staging-mib'] as number,
    copyCtas: f['copy-ctas'] as number,
    mappedCtas: f['mapped-ctas'] as number,
    streamingCopies: f['copy-cache'] === 'stream',
    stagingL2: f['staging-l2'] as StagingL2,
    batchSharePct: f['batch-share'] as number,
    referenceSteps: f['reference-steps'] as number | undefined,
    fault: f.inject as FaultName,
    backend: f.backend as string,
    ioThreads: f['io-threads'] as number,
    storeQueue: f['store-queue'] as number,
    pipeline: f.pipeline as number,
    fsync: f.fsync as 'never' | 'always',
    direct: f.direct as boolean,
    gates: {
      minPctOfCeiling: gateThreshold('min-pct-of-ceiling', f['min-pct-of-ceiling'] as string | undefined),
      maxSlowdown: gateThreshold('max-slowdown', f['max-slowdown'] as string | undefined),
      maxBlockedP99Us: gateThreshold('max-blocked-p99-us', f['max-blocked-p99-us'] as string | undefined),
    },
    overrides: {
      layers: n(f.layers),
      queryHeads: n(f['query-heads']),
      kvHeads: n(f['kv-heads']),
      headDim: n(f['head-dim']),
      latentDim: n(f['latent-dim']),
      blockSize: n(f['block-size']),
      layout: f.layout as Layout | undefined,
      hiddenSize: n(f['hidden-size']),
      mlpSize: n(f['mlp-size']),
      batch: n(f.batch),
      promptTokens: n(f['prompt-tokens']),
      decodeSteps: n(f['decode-steps']),
      prefixHitRate: hit,
    },
  }
}
