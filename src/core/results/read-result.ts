// Reads a kvbench result file for `compare` and `export`, and explains every way it is not one:
// missing, unreadable, not JSON, not an envelope, another schema major, an error envelope.
import {readFileSync, statSync} from 'node:fs'

import {SCHEMA_BASE, SCHEMA_VERSION, type Envelope} from '../envelope.js'
import {badInput} from '../errors.js'
import {isMetricKind, metricsOf, type Metric, type MetricKind} from '../metrics/index.js'

export interface ResultFile {
  file: string
  kind: MetricKind
  envelope: Envelope<unknown>
  metrics: Metric[]
}

const MAJOR = SCHEMA_VERSION.split('.')[0]

/** A kvbench envelope of this schema major, or one line naming the file (and role) for why it is not. */
export function readEnvelope(file: string, role: string): Envelope<unknown> {
  const named = `${role} ${file}`
  let text: string
  try {
    if (statSync(file).isDirectory()) throw badInput(`${named} is a directory, not a result file`)
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as {exit?: number}).exit) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw badInput(code === 'ENOENT' ? `${named} does not exist` : `${named} cannot be read (${code ?? (error as Error).message})`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw badInput(`${named} is not JSON (${(error as Error).message})`)
  }
  const e = doc as Partial<Envelope<unknown>>
  if (typeof e !== 'object' || e === null || Array.isArray(e) || typeof e.kind !== 'string' || typeof e.schemaVersion !== 'string' || typeof e.$schema !== 'string' || !e.$schema.startsWith(SCHEMA_BASE.replace(/\/\d+$/, '/'))) {
    throw badInput(`${named} is not a kvbench result envelope (no kind, schemaVersion and kvbench $schema)`)
  }
  const major = e.schemaVersion.split('.')[0]
  if (major !== MAJOR) throw badInput(`${named} is schema ${major}.x; this kvbench reads ${MAJOR}.x`)
  return e as Envelope<unknown>
}

/** One line naming the file (and the role: BASE, NEW, RESULT) for every way the file is unusable. */
export function readResult(file: string, role: string, {allowError = false} = {}): ResultFile {
  const named = `${role} ${file}`
  const e = readEnvelope(file, role)
  if (!isMetricKind(e.kind)) throw badInput(`${named} is a ${e.kind} result, which has no figures to compare or export (save, load, connector, backend-bench, env, audit-streams, merge)`)
  if (e.status === 'error' || e.results === null || e.results === undefined) {
    if (!allowError) throw badInput(`${named} is an error envelope (${e.error?.message ?? 'no results'}): nothing to compare`)
    return {file, kind: e.kind, envelope: e, metrics: []}
  }
  let metrics: Metric[]
  try {
    metrics = metricsOf(e.kind, e.results)
  } catch (error) {
    throw badInput(`${named}: results do not match the ${e.kind} schema (${(error as Error).message})`)
  }
  return {file, kind: e.kind, envelope: e, metrics}
}
