// --rendezvous: where a launcher's ranks meet to hand each other rank 0's NCCL id, in torch's own
// words for it: env:// (the TCPStore at MASTER_ADDR:MASTER_PORT: torchrun's agent serves it, else
// rank 0 does, as torch's env:// init), tcp://HOST:PORT (rank 0 serves it there), or a directory
// every rank shares (DIR or file://DIR). Read before anything runs, so bad input is one line, exit 2.
import {statSync} from 'node:fs'

import {badInput} from '../../errors.js'
import type {World} from '../world.js'
import {fileKeyStore} from './file-store.js'
import type {KeyStore} from './key-store.js'
import {serveTcpStore, TcpStoreClient} from './tcp-store.js'

export type RendezvousTarget =
  | {kind: 'dir'; dir: string; runId: string; label: string}
  | {kind: 'tcp'; host: string; port: number; serve: boolean; prefix: string; label: string}

function port(text: string, what: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN
  if (!(n >= 1 && n <= 65_535)) throw badInput(`--rendezvous: ${what} must be a port, 1-65535, got ${JSON.stringify(text)}`)
  return n
}

export function rendezvousTarget(spec: string, world: World, env: NodeJS.ProcessEnv = process.env): RendezvousTarget {
  // A restarted torchrun job (--max-restarts) meets again under the same run id: its restart count keeps the rounds apart.
  const round = `${world.runId ?? 'run'}/${env.TORCHELASTIC_RESTART_COUNT ?? '0'}`
  if (spec === 'env://') {
    const host = env.MASTER_ADDR
    if (!host) throw badInput('--rendezvous env://: MASTER_ADDR is not set (the host of rank 0, or of the launcher\'s store)')
    if (!env.MASTER_PORT) throw badInput('--rendezvous env://: MASTER_PORT is not set')
    const p = port(env.MASTER_PORT, 'MASTER_PORT')
    const agent = env.TORCHELASTIC_USE_AGENT_STORE === 'True'  // torchrun's agent already serves a TCPStore there
    return {kind: 'tcp', host, port: p, serve: world.rank === 0 && !agent, prefix: `kvbench/${round}/`, label: `the TCPStore at ${host}:${p}${agent ? " (torchrun's)" : ''}`}
  }
  if (spec.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):([^/]*)$/.exec(spec)
    if (!m) throw badInput(`--rendezvous ${spec}: write tcp://HOST:PORT`)
    const host = m[1].replace(/^\[|\]$/g, '')
    const p = port(m[2], 'the PORT of tcp://HOST:PORT')
    return {kind: 'tcp', host, port: p, serve: world.rank === 0, prefix: `kvbench/${round}/`, label: `the TCPStore at ${host}:${p}`}
  }
  if (/^[a-z]+:\/\//.test(spec) && !spec.startsWith('file://')) throw badInput(`--rendezvous ${spec}: env://, tcp://HOST:PORT or a directory (DIR, file://DIR)`)
  const dir = spec.replace(/^file:\/\//, '')
  if (!world.runId) {
    throw badInput(`--rendezvous ${spec}: this ${world.launcher} run has no run id to name its files (torchrun --rdzv-id, an MPI job, a Slurm job step), so an earlier run's could be read; give env:// or tcp://HOST:PORT`)
  }
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    isDir = false
  }
  if (!isDir) throw badInput(`--rendezvous ${spec}: not a directory (name one every rank of the run can read, on a shared filesystem)`)
  return {kind: 'dir', dir, runId: round.replace('/', '.'), label: dir}
}

/** This rank's way into the target: rank 0 serves a TCPStore where it should; the others connect, retrying until `deadline`. */
export async function openKeyStore(target: RendezvousTarget, deadline: number, stopped: () => boolean): Promise<KeyStore> {
  if (target.kind === 'dir') return fileKeyStore(target.dir, target.runId)
  const server = target.serve ? await serveTcpStore(target.port) : null
  let client: TcpStoreClient
  try {
    client = await TcpStoreClient.connect(server ? '127.0.0.1' : target.host, target.port, deadline, stopped)
  } catch (e) {
    await server?.close()
    throw e
  }
  const key = (k: string) => target.prefix + k
  return {
    where: target.label,
    set: (k, v) => client.set(key(k), v),
    get: (k) => client.get(key(k)),
    delete: (k) => client.delete(key(k)),
    async close() {
      client.close()
      await server?.close()
    },
  }
}
