// What a store bench's figures mean for its outcome: the notes that explain them, and the exit
// code they add up to (records that failed or did not verify, then a signal, then a failed gate).
import {failedGates} from '../gates.js'
import {exitCodeForSignal, type StopSignal} from '../interrupt.js'
import {storeKind} from '../store-spec.js'
import type {BackendBenchResults} from './bench.js'

export interface BackendVerdict {
  notes: string[]
  exitCode: number
}

/** `given`: the flags the user typed, so a flag that does nothing for this store is said to. */
export function backendVerdict(r: BackendBenchResults, signal: StopSignal | null, given: ReadonlySet<string>): BackendVerdict {
  const notes: string[] = []
  if (signal) notes.push(`interrupted (${signal}): stopped at the next store call, the run's records removed; ${r.sizes.length} of 2 record sizes measured whole`)
  if (r.backend.note) notes.push(r.backend.note)
  const kind = storeKind(r.backend.spec)
  if (kind === 'redis') notes.push('redis puts write fresh keys (each record a new key): put GB/s includes creating them')
  notes.push("GB/s: bytes over the busiest I/O thread's time inside store calls; kvbench's own record generation and verification run outside it")
  for (const f of ['fsync', 'direct']) {
    if (kind !== 'file' && given.has(f)) notes.push(`--${f} does nothing with a ${kind} store (it sets the file store)`)
  }
  if (!r.verify) notes.push('verification skipped: --no-verify (records were checksummed, data not compared)')
  const bad = r.sizes.filter((s) => s.verified === false || s.get.corrupt > 0 || s.put.failed > 0)
  let exitCode = 0
  if (bad.length > 0) {
    notes.push(`FAILED: ${bad.map((s) => `${s.label}: ${s.put.failed} puts failed, ${s.get.missing} missing, ${s.get.corrupt} corrupt, ${s.mismatches} words differ${s.firstError ? ` (${s.firstError})` : ''}`).join('; ')}`)
    exitCode = 1
  } else if (signal) {
    exitCode = exitCodeForSignal(signal)
  } else if (failedGates(r.gates).length > 0) {
    exitCode = 1
  }
  return {notes, exitCode}
}
