// Flags shared by `kvbench save`, `kvbench load` and `kvbench mix`: the profile, one override
// flag per profile field, and the run's choices.
import {Flags, type Interfaces} from '@oclif/core'

import {flagsGiven} from './flags-given.js'
import {gateThreshold} from './number-flag.js'
import type {ConnectorRequest} from '../core/connector/run.js'
import {DEFAULT_ACCESSOR, isPythonConnector, REFERENCE_CONNECTORS} from '../core/connector/spec.js'
import {badInput} from '../core/errors.js'
import {defaultDevice, launcherWorld} from '../core/launch/world.js'
import {rendezvousTarget, type RendezvousTarget} from '../core/launch/rendezvous/target.js'
import {ALL_REDUCE_CHOICES, DEFAULT_STAGING, type AllReduceChoice, type TransferMode} from '../core/plan.js'
import type {TransferRequest} from '../core/saveload/run.js'
import {FAULT_NAMES, STAGING_L2_MODES, STRATEGY_NAMES} from '../native/index.js'

const profileGroup = 'PROFILE OVERRIDE'
const gateGroup = 'GATE'
const pyGroup = 'PYTHON CONNECTOR'

export const transferFlags = {
  profile: Flags.string({description: 'profile name (see `kvbench profiles`) or path to a profile .json', default: 'llama-3.1-8b'}),
  device: Flags.integer({description: "GPU index (default: the launcher's local rank under torchrun, mpirun or srun, else 0)"}),
  gpus: Flags.string({
    description: 'run on these GPUs at once, a worker each (its own forward, connector thread and host pool; with a py: connector, a Python harness each; every phase started on all of them together): each GPU\'s figures, their sum against the ceilings they read together, the slowest GPU',
    helpValue: 'LIST|all',
  }),
  strategy: Flags.option({
    description: 'copy strategy: auto picks the fastest measured; all runs each side by side',
    options: ['auto', 'all', ...STRATEGY_NAMES] as const,
    default: 'auto' as const,
  })(),
  design: Flags.option({description: 'connector design(s) beside the connector-off baseline', options: ['all', 'async', 'blocking'] as const, default: 'all' as const})(),
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
  'staging-mib': Flags.integer({description: `device staging ring of the staged strategy, MiB (slots of about 8 MiB, 2 to 8); default: the profile's staging.mib, else ${DEFAULT_STAGING.mib}`}),
  'copy-ctas': Flags.integer({
    description: 'CTAs of each gather/scatter launch; 0 (default): one per chunk, short CTAs that hand SMs back to the forward at once',
    default: 0,
  }),
  'mapped-ctas': Flags.integer({description: 'CTAs of the mapped-memory copy kernel, 1-65535', default: 264}),
  'copy-cache': Flags.option({description: 'cache policy of the copy kernels on the paged cache: stream (evict-first, spares the forward L2) or default', options: ['stream', 'default'] as const, default: 'stream' as const})(),
  backend: Flags.string({
    description: 'where saves go: host (pinned pool), file:DIR, redis://[user:pass@]host:port[/db], rediss://...[?cacert=PATH] (TLS) or plugin:PATH.so[?config]',
    default: 'host',
  }),
  'io-threads': Flags.integer({description: 'store I/O threads, 1-256 (Redis: one connection each)', default: 4}),
  'store-queue': Flags.integer({description: 'store requests queued or running, 1-65536; beyond it saves are dropped (counted)', default: 32}),
  pipeline: Flags.integer({description: 'records per pipelined store call, 1-1024', default: 4}),
  fsync: Flags.option({description: 'fsync each record (file backend)', options: ['never', 'always'] as const, default: 'never' as const})(),
  direct: Flags.boolean({description: 'O_DIRECT where the filesystem allows it (file backend; --no-direct: page cache)', default: true, allowNo: true}),
  'staging-l2': Flags.option({
    description:
      `staged: persist keeps the staging ring in an L2 set-aside, so the copy engine reads it from L2 (fewer HBM bytes under the forward); auto: persist where the GPU can set aside the whole ring, else HBM; normal: HBM; default: the profile's staging.l2, else ${DEFAULT_STAGING.l2}`,
    options: STAGING_L2_MODES,
  })(),
  'batch-share': Flags.integer({
    description: 'staged: move this % of each job\'s blocks as cudaMemcpyBatchAsync copies straight from the cache, beside the ring (fewer SM and HBM cycles taken from the forward; the rest goes through the ring)',
    default: 0,
  }),
  'all-reduce': Flags.option({
    description: "the forward's tensor-parallel all-reduce: nccl runs NCCL's (loaded at run time) after each row-parallel product, two a layer, on the compute stream, each sum checked; across the GPUs of --gpus, or a launcher's ranks (with --rendezvous), else a world of one",
    options: ALL_REDUCE_CHOICES,
    default: 'off' as const,
  })(),
  rendezvous: Flags.string({
    description: "--all-reduce nccl under a launcher's ranks: where they meet for rank 0's NCCL id, as torch's init does: env:// (the TCPStore at MASTER_ADDR:MASTER_PORT; torchrun's own, else rank 0 serves it), tcp://HOST:PORT (rank 0 serves it there), or a directory every rank shares (DIR, file://DIR); two ranks on one GPU are refused there",
    helpValue: 'env://|tcp://HOST:PORT|DIR',
  }),
  'rank-timeout': Flags.integer({
    description: "--rendezvous: seconds a rank waits for the others to meet, and for the next forward step before it takes a peer rank to have died (the run then fails, exit 1), 1-86400",
    default: 300,
  }),
  'reference-steps': Flags.integer({
    description: 'measured steps of the link reference: a plain contiguous copy stream beside the forward instead of a connector, the most a connector can move here and the least it can cost (default: the decode steps, at most 64; 0 skips it)',
  }),
  trace: Flags.string({description: 'also write a Chrome trace-event timeline (ui.perfetto.dev, chrome://tracing) of each design\'s first measured steps: hooks, forward steps and layers, the connector\'s copies and thread', helpValue: 'FILE'}),
  'trace-steps': Flags.integer({description: 'measured steps of each design in --trace, 1-4096', default: 32}),
  inject: Flags.option({description: 'testing: break something on purpose to prove verification catches it', options: FAULT_NAMES, default: 'none' as const, hidden: true})(),
  'min-pct-of-ceiling': Flags.string({description: 'fail (exit 1) unless the best strategy alone and each design beside the forward move at least P% of the ceiling', helpGroup: gateGroup}),
  'max-slowdown': Flags.string({description: 'fail (exit 1) if a design slows the forward by more than PCT% (median GPU step against the connector-off baseline)', helpGroup: gateGroup}),
  'max-blocked-p99-us': Flags.string({description: 'fail (exit 1) if the async design blocks a step for more than N µs at p99', helpGroup: gateGroup}),
  layers: Flags.integer({description: 'transformer layers, 1-1024', helpGroup: profileGroup}),
  'query-heads': Flags.integer({description: 'query heads', helpGroup: profileGroup}),
  'kv-heads': Flags.integer({description: 'KV heads (GQA)', helpGroup: profileGroup}),
  'head-dim': Flags.integer({description: 'values per head (GQA)', helpGroup: profileGroup}),
  'latent-dim': Flags.integer({description: 'latent width (MLA)', helpGroup: profileGroup}),
  'block-size': Flags.integer({description: 'tokens per KV block, 1-4096', helpGroup: profileGroup}),
  layout: Flags.option({description: 'KV layout', options: ['layer-major', 'block-contiguous'] as const, helpGroup: profileGroup})(),
  'hidden-size': Flags.integer({description: 'model width', helpGroup: profileGroup}),
  'mlp-size': Flags.integer({description: 'MLP width', helpGroup: profileGroup}),
  batch: Flags.integer({description: 'sequences per step, 1-4096', helpGroup: profileGroup}),
  'prompt-tokens': Flags.integer({description: 'prompt tokens per sequence', helpGroup: profileGroup}),
  'decode-steps': Flags.integer({description: 'measured steps per phase, 1-100000 (p99s need a few hundred)', helpGroup: profileGroup}),
  'transfer-sequences': Flags.integer({description: 'sequences whose KV the transfer set holds, 1-65536 (default: the batch); saves rotate over them, so a small set caps what a step offers', helpGroup: profileGroup}),
  'prefix-hit-rate': Flags.string({description: 'share of a prompt found in the store (0..1)', helpGroup: profileGroup}),
}

export type TransferFlagValues = Interfaces.InferredFlags<typeof transferFlags>
type Parsed = TransferFlagValues

/** Flags of kvbench's native connectors, which a py: connector run has no use for. */
const NATIVE_ONLY = ['rendezvous', 'rank-timeout', 'trace', 'trace-steps', 'strategy', 'design', 'staging-mib', 'copy-ctas', 'mapped-ctas', 'copy-cache', 'backend', 'io-threads', 'store-queue', 'pipeline', 'fsync', 'direct', 'staging-l2', 'batch-share', 'all-reduce', 'reference-steps', 'inject', 'layout']
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
    gpus: t.gpus,
    connector: f.connector,
    connectorConfig: f['connector-config'],
    streamAccessor: f['stream-accessor'],
    compareWith: f['compare-with'],
    hookTimeoutS: f['hook-timeout'],
    python: f.python,
    verify: t.verify,
    warmupSteps: t.warmupSteps,
    gates: t.gates,
  }
}

/** --trace-steps, only with --trace: how many measured steps of each design the timeline holds. */
function traceSteps(f: Parsed): number {
  if (f.trace === undefined) return 0
  const n = f['trace-steps']
  if (!Number.isInteger(n) || n < 1 || n > 4096) throw badInput(`--trace-steps must be between 1 and 4096, got ${n}`)
  return n
}

/** --all-reduce nccl under a launcher's ranks needs --rendezvous (where rank 0 leaves the NCCL id); --rendezvous needs both. */
function allReduce(f: Parsed): {allReduce: AllReduceChoice; rendezvous?: RendezvousTarget; rankTimeoutS: number} {
  const world = launcherWorld()
  const ranks = world !== null && world.size > 1
  const timeout = f['rank-timeout']
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86_400) throw badInput(`--rank-timeout must be 1 to 86400 seconds, got ${timeout}`)
  if (f.rendezvous !== undefined && (f['all-reduce'] !== 'nccl' || !ranks)) {
    throw badInput("--rendezvous hands rank 0's NCCL id to the other ranks: it needs --all-reduce nccl under a launcher's world of several ranks")
  }
  if (f['all-reduce'] === 'nccl' && ranks && f.rendezvous === undefined) {
    throw badInput(`--all-reduce nccl: the ${world.size} ranks of this ${world.launcher} run need rank 0's NCCL id: give --rendezvous env:// (torchrun's store, or MASTER_ADDR and MASTER_PORT), tcp://HOST:PORT or a directory every rank shares`)
  }
  const rendezvous = f.rendezvous === undefined ? undefined : rendezvousTarget(f.rendezvous, world!)
  return {allReduce: f['all-reduce'], rendezvous, rankTimeoutS: timeout}
}

/** --gpus: a worker per GPU in this process; not with one GPU named (--device), a timeline (--trace) or a launcher's ranks. */
function gpus(f: Parsed): string | undefined {
  if (f.inject === 'gpu-worker-fails' && f.gpus === undefined) throw badInput('--inject gpu-worker-fails fails one GPU\'s worker of several: add --gpus')
  if (f.gpus === undefined) return undefined
  if (f.device !== undefined) throw badInput('--gpus and --device: name every GPU to run on in --gpus')
  if (f.trace !== undefined) throw badInput('--trace times one GPU\'s steps: run it without --gpus (--device N)')
  const world = launcherWorld()
  if (world && world.size > 1) throw badInput(`--gpus: this is rank ${world.rank} of ${world.size} of a ${world.launcher} run, which gives each rank its GPU (--device, default its local rank); run --gpus without a launcher`)
  return f.gpus
}

export function transferRequest(mode: TransferMode, f: Parsed): TransferRequest {
  let hit: number | undefined
  if (f['prefix-hit-rate'] !== undefined) {
    hit = Number(f['prefix-hit-rate'])
    if (!Number.isFinite(hit)) hit = Number.NaN
  }
  return {
    mode,
    profile: f.profile,
    device: f.device ?? defaultDevice(),
    gpus: gpus(f),
    strategy: f.strategy,
    design: f.design,
    connector: f.connector !== 'off',
    verify: f.verify,
    warmupSteps: f.warmup,
    stagingMiB: f['staging-mib'],
    copyCtas: f['copy-ctas'],
    mappedCtas: f['mapped-ctas'],
    streamingCopies: f['copy-cache'] === 'stream',
    stagingL2: f['staging-l2'],
    batchSharePct: f['batch-share'],
    referenceSteps: f['reference-steps'],
    fault: f.inject,
    ...allReduce(f),
    backend: f.backend,
    ioThreads: f['io-threads'],
    storeQueue: f['store-queue'],
    pipeline: f.pipeline,
    fsync: f.fsync,
    direct: f.direct,
    traceSteps: traceSteps(f),
    gates: {
      minPctOfCeiling: gateThreshold('min-pct-of-ceiling', f['min-pct-of-ceiling']),
      maxSlowdown: gateThreshold('max-slowdown', f['max-slowdown']),
      maxBlockedP99Us: gateThreshold('max-blocked-p99-us', f['max-blocked-p99-us']),
    },
    overrides: {
      layers: f.layers,
      queryHeads: f['query-heads'],
      kvHeads: f['kv-heads'],
      headDim: f['head-dim'],
      latentDim: f['latent-dim'],
      blockSize: f['block-size'],
      layout: f.layout,
      hiddenSize: f['hidden-size'],
      mlpSize: f['mlp-size'],
      batch: f.batch,
      promptTokens: f['prompt-tokens'],
      decodeSteps: f['decode-steps'],
      transferSequences: f['transfer-sequences'],
      prefixHitRate: hit,
    },
  }
}
