// Rank 0's NCCL id handed to every rank of a launcher's world (--all-reduce nccl with
// --rendezvous). Each rank first says which GPU of which host it runs on; rank 0 waits for all of
// them, refuses two ranks on one GPU (NCCL cannot put them in one communicator, and does not always
// say so), and answers with the id, or the reason there is none, so no rank is left waiting for an
// id that will not come. Every answer names the ranks it is for (a nonce each), so an answer an
// earlier, killed round left behind is never taken. Rank 0 removes every key when its run ends.
import {randomBytes} from 'node:crypto'

import {EXIT_BAD_INPUT, EXIT_RUN_FAILED, KvError} from '../../errors.js'
import type {World} from '../world.js'
import type {KeyStore} from './key-store.js'
import {openKeyStore, type RendezvousTarget} from './target.js'

/** The GPU a rank runs on. */
export interface RankGpu {
  host: string
  busId: string
  device: number
}

interface RankEntry extends RankGpu {
  rank: number
  nonce: string
  pid: number
}

interface Answer {
  nonces: string[]
  idHex?: string
  error?: {message: string; exit: number}
}

export interface NcclIdExchange {
  idHex: string
  where: string
  /** Rank 0: waits (a while) for every rank to have read the answer, then removes the keys; the others: disconnect. Never throws. */
  close: () => Promise<void>
}

const CLOSE_GRACE_MS = 30_000
const POLL_MS = 100

function parse<T>(raw: string | null): T | null {
  if (raw === null) return null
  try {
    return JSON.parse(raw) as T
  } catch {
    return null
  }
}

async function poll<T>(look: () => Promise<T | null>, deadline: number, stopped: () => boolean): Promise<T | null> {
  for (;;) {
    const found = await look()
    if (found !== null) return found
    if (stopped() || Date.now() >= deadline) return null
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`

/** The first two ranks that name one GPU of one host, as a sentence; null when every rank has its own. */
export function sharedGpu(entries: readonly RankEntry[]): string | null {
  const seen = new Map<string, RankEntry>()
  for (const e of entries) {
    const key = `${e.host}\n${e.busId.toLowerCase()}`
    const first = seen.get(key)
    if (first) {
      return `ranks ${first.rank} and ${e.rank} both run on GPU ${e.busId} of host ${e.host} (device ${first.device} and ${e.device} there): one NCCL communicator needs a GPU per rank; give each rank its own (LOCAL_RANK, CUDA_VISIBLE_DEVICES, or --device)`
    }
    seen.set(key, e)
  }
  return null
}

export async function exchangeNcclId(
  world: World,
  target: RendezvousTarget,
  gpu: RankGpu,
  makeId: () => string,
  timeoutMs: number,
  stopped: () => boolean = () => false,
): Promise<NcclIdExchange> {
  const started = Date.now()
  const deadline = started + timeoutMs
  const self: RankEntry = {...gpu, rank: world.rank, nonce: randomBytes(8).toString('hex'), pid: process.pid}
  const store = await openKeyStore(target, deadline, stopped)
  try {
    return world.rank === 0 ? await rankZero(world, store, self, makeId, deadline, stopped, started) : await otherRank(world, store, self, deadline, stopped, started)
  } catch (e) {
    if (world.rank !== 0) await store.close()
    throw e
  }
}

async function rankZero(world: World, store: KeyStore, self: RankEntry, makeId: () => string, deadline: number, stopped: () => boolean, started: number): Promise<NcclIdExchange> {
  const others = Array.from({length: world.size - 1}, (_, i) => i + 1)
  const cleanup = async (graceMs: number) => {
    const until = Date.now() + graceMs
    await poll(async () => ((await Promise.all(others.map((r) => store.get(`read-${r}`)))).every((v) => v !== null) ? true : null), until, () => false).catch(() => null)
    await Promise.all(['answer', ...Array.from({length: world.size}, (_, r) => [`rank-${r}`, `read-${r}`]).flat()].map((k) => store.delete(k))).catch(() => {})
    await store.close()
  }
  try {
    await store.delete('answer')  // a killed earlier round's
    await store.set('rank-0', JSON.stringify(self))
    const entries: RankEntry[] = [self]
    for (const r of others) {
      const entry = await poll(async () => parse<RankEntry>(await store.get(`rank-${r}`)), deadline, stopped)
      if (!entry) {
        const missing = others.filter((o) => o >= r)
        throw new KvError('RENDEZVOUS_TIMEOUT', `rank 0 waited ${seconds(Date.now() - started)} for rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} at ${store.where}${stopped() ? ' (stopped)' : ''}: ${missing.length > 1 ? 'they' : 'it'} did not start, or reach another place (the same --rendezvous, MASTER_ADDR and MASTER_PORT on every rank)`, EXIT_RUN_FAILED)
      }
      entries.push(entry)
    }
    const nonces = entries.map((e) => e.nonce)
    const shared = sharedGpu(entries)
    let answer: Answer
    if (shared) {
      answer = {nonces, error: {message: shared, exit: EXIT_BAD_INPUT}}
    } else {
      try {
        answer = {nonces, idHex: makeId()}
      } catch (e) {
        answer = {nonces, error: {message: `rank 0 could not make the NCCL id: ${(e as Error).message}`, exit: e instanceof KvError ? e.exit : EXIT_RUN_FAILED}}
      }
    }
    await store.set('answer', JSON.stringify(answer))
    if (answer.error) {
      await cleanup(Math.min(CLOSE_GRACE_MS, Math.max(0, deadline - Date.now())))
      throw new KvError('RENDEZVOUS_REFUSED', answer.error.message, answer.error.exit)
    }
    return {idHex: answer.idHex!, where: store.where, close: () => cleanup(CLOSE_GRACE_MS)}
  } catch (e) {
    if (!(e instanceof KvError && e.code === 'RENDEZVOUS_REFUSED')) await cleanup(0)
    throw e
  }
}

async function otherRank(world: World, store: KeyStore, self: RankEntry, deadline: number, stopped: () => boolean, started: number): Promise<NcclIdExchange> {
  await store.set(`rank-${world.rank}`, JSON.stringify(self))
  let foreign = false
  const answer = await poll(
    async () => {
      const a = parse<Answer>(await store.get('answer'))
      if (a && a.nonces?.[world.rank] !== self.nonce) foreign = true
      return a && a.nonces?.[world.rank] === self.nonce ? a : null
    },
    deadline,
    stopped,
  )
  if (!answer) {
    const why = foreign
      ? 'the answer there names another process as this rank (a killed run of the same id left it: remove it, or give the run a new id)'
      : 'rank 0 did not start, failed before it answered, or reached another place (the same --rendezvous, MASTER_ADDR and MASTER_PORT on every rank)'
    throw new KvError('RENDEZVOUS_TIMEOUT', `rank ${world.rank} waited ${seconds(Date.now() - started)} for rank 0's NCCL id at ${store.where}${stopped() ? ' (stopped)' : ''}: ${why}`, EXIT_RUN_FAILED)
  }
  await store.set(`read-${world.rank}`, '1')
  if (answer.error) throw new KvError('RENDEZVOUS_REFUSED', answer.error.message, answer.error.exit)
  if (!/^[0-9a-f]{256}$/.test(answer.idHex ?? '')) throw new KvError('RENDEZVOUS_REFUSED', `rank 0's answer at ${store.where} holds no NCCL id (256 hex digits)`, EXIT_RUN_FAILED)
  return {idHex: answer.idHex!, where: store.where, close: () => store.close()}
}
