// A decimal flag given as a string (oclif's integer flags take no fractions): parsed once here,
// every refusal naming the flag. undefined when the flag was not given.
import {badInput} from '../core/errors.js'

export function numberFlag(flag: string, raw: string, bound: {min: number; exclusive?: boolean}): number
export function numberFlag(flag: string, raw: string | undefined, bound: {min: number; exclusive?: boolean}): number | undefined
export function numberFlag(flag: string, raw: string | undefined, {min, exclusive = false}: {min: number; exclusive?: boolean}): number | undefined {
  if (raw === undefined) return undefined
  const v = Number(raw)
  const ok = raw.trim() !== '' && Number.isFinite(v) && (exclusive ? v > min : v >= min)
  if (!ok) throw badInput(exclusive && min === 0 ? `--${flag} must be a positive number, got ${raw}` : `--${flag} must be a number of ${exclusive ? 'more than' : 'at least'} ${min}, got ${raw}`)
  return v
}

/** A gate's threshold: any number from 0 up. */
export function gateThreshold(flag: string, raw: string | undefined): number | undefined {
  return numberFlag(flag, raw, {min: 0})
}
