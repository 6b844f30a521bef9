// What `--connector py:MODULE:CLASS` and its flags ask for, checked before anything runs.
// The Python side checks the same forms again where it imports them (python/kvbench_connector/spec.py).
import {existsSync, readFileSync, statSync} from 'node:fs'

import {badInput} from '../errors.js'

const DOTTED = '[A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*)*'
export const CONNECTOR_SPEC = new RegExp(`^py:(${DOTTED}):(${DOTTED})$`)
export const ACCESSOR_SPEC = new RegExp(`^(${DOTTED}):(${DOTTED})$`)
export const DEFAULT_ACCESSOR = 'torch.cuda:current_stream'

/** kvbench's reference connectors (examples/connectors/), by their --compare-with names. */
export const REFERENCE_CONNECTORS = {
  naive: 'py:connectors.naive:NaiveConnector',
  async: 'py:connectors.async_pinned:AsyncPinnedConnector',
} as const
export type ReferenceName = keyof typeof REFERENCE_CONNECTORS

export interface ConnectorDesign {
  /** The design's name in tables and JSON: the user's class name, or naive / async. */
  name: string
  role: 'user' | 'reference'
  spec: string
}

export function isPythonConnector(value: string): boolean {
  return value.startsWith('py:')
}

export function userDesign(value: string): ConnectorDesign {
  const m = CONNECTOR_SPEC.exec(value)
  if (!m) throw badInput(`--connector ${value}: expected on, off or py:MODULE:CLASS (for example py:our_kv.backend:GlobalStoreConnector)`)
  const name = m[2].split('.').at(-1) as string
  if (name in REFERENCE_CONNECTORS) throw badInput(`--connector ${value}: the class name ${name} is taken by a reference connector; rename it`)
  return {name, role: 'user', spec: value}
}

export function compareWith(value: string): ConnectorDesign[] {
  if (value === 'none') return []
  const names = value.split(',').map((s) => s.trim())
  const out: ConnectorDesign[] = []
  for (const n of names) {
    if (!(n in REFERENCE_CONNECTORS)) throw badInput(`--compare-with ${value}: "${n}" is not a reference connector (naive, async, or none)`)
    if (out.some((d) => d.name === n)) throw badInput(`--compare-with ${value}: "${n}" is named twice`)
    out.push({name: n, role: 'reference', spec: REFERENCE_CONNECTORS[n as ReferenceName]})
  }
  return out
}

/** --connector-config JSON or @FILE: a JSON object handed to the connector's constructor. */
export function connectorConfig(value: string | undefined): Record<string, unknown> {
  if (value === undefined) return {}
  let text = value
  let where = '--connector-config'
  if (value.startsWith('@')) {
    const path = value.slice(1)
    if (!existsSync(path)) throw badInput(`--connector-config ${value}: no such file`)
    if (statSync(path).isDirectory()) throw badInput(`--connector-config ${value}: is a directory`)
    text = readFileSync(path, 'utf8')
    where = `--connector-config ${path}`
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw badInput(`${where}: not JSON (${(error as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badInput(`${where}: must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`)
  return parsed as Record<string, unknown>
}

export function streamAccessor(value: string): string {
  if (!ACCESSOR_SPEC.test(value)) throw badInput(`--stream-accessor ${value}: expected MODULE:ATTR (for example vllm.utils:current_stream)`)
  return value
}

export function hookTimeout(seconds: number): number {
  if (!(seconds > 0 && seconds <= 3600)) throw badInput(`--hook-timeout must be more than 0 and at most 3600 seconds, got ${seconds}`)
  return seconds
}
