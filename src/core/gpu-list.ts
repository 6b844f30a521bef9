// --gpus LIST|all: which of this host's GPUs a command uses at once, checked against the GPUs
// the CUDA runtime lists, each refusal one line naming the flag.
import {badInput} from './errors.js'

/** The GPU indexes `text` names ("all", or "0,1,3"), in the order given; `present`: this host's. */
export function parseGpuList(text: string, present: readonly number[], flag = '--gpus'): number[] {
  const have = present.length > 0 ? `this host has ${present.length === 1 ? 'GPU' : 'GPUs'} ${present.join(', ')}` : 'this host has no GPU'
  if (text.trim() === 'all') {
    if (present.length === 0) throw badInput(`${flag} all: ${have}`)
    return [...present]
  }
  const parts = text.split(',').map((p) => p.trim())
  if (parts.every((p) => p === '')) throw badInput(`${flag}: an empty list; name GPUs (${flag} 0,1) or ${flag} all`)
  const out: number[] = []
  for (const p of parts) {
    if (!/^\d+$/.test(p)) throw badInput(`${flag} ${text}: ${JSON.stringify(p)} is not a GPU index (0, 1, ...) or all`)
    const n = Number(p)
    if (out.includes(n)) throw badInput(`${flag} ${text}: GPU ${n} is named twice`)
    out.push(n)
  }
  const missing = out.filter((n) => !present.includes(n))
  if (missing.length > 0) throw badInput(`${flag} ${text}: no GPU ${missing.join(', ')}: ${have}`)
  return out
}
