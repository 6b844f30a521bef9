// `kvbench export RESULT...`: the results' metrics in a dashboard's format. Metric names are the
// ones compare and gates use; repeated results of one figure are combined by median.
import {badInput} from '../errors.js'
import {combineRuns} from '../metrics/combine.js'
import type {Better} from '../metrics/index.js'
import {identityOf} from '../compare/identity.js'
import type {ResultFile} from '../results/read-result.js'
import {bencherMetricFormat} from './bencher.js'
import {csv} from './csv.js'
import {githubActionBenchmark} from './github-action-benchmark.js'
import {junit} from './junit.js'

export const EXPORT_FORMATS = ['github-action-benchmark', 'bencher', 'csv', 'junit'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export interface ExportResults {
  format: ExportFormat
  /** github-action-benchmark: which custom tool the document is for */
  direction: Better | null
  files: string[]
  /** entries in the document: metrics, or for junit test cases */
  entries: number
  document: string
}

function where(files: readonly ResultFile[]): string {
  const ids = [...new Set(files.map((f) => {
    const c = identityOf(f).context
    return `${c.GPU}, driver ${c.driver}, kvbench ${c.build}`
  }))]
  return ids.join('; ')
}

export function exportResults(files: readonly ResultFile[], format: ExportFormat, direction: Better | undefined): ExportResults {
  if (format === 'github-action-benchmark' && !direction) {
    throw badInput('--direction is required with --format github-action-benchmark: bigger (for customBiggerIsBetter) or smaller (for customSmallerIsBetter)')
  }
  if (format !== 'github-action-benchmark' && direction) throw badInput(`--direction applies to --format github-action-benchmark only, not ${format}`)
  const metrics = [...combineRuns(files.map((f) => f.metrics)).values()]
  const base = {format, direction: direction ?? null, files: files.map((f) => f.file)}
  switch (format) {
    case 'github-action-benchmark': {
      const doc = githubActionBenchmark(metrics, direction!, {line: where(files)})
      return {...base, entries: doc.length, document: `${JSON.stringify(doc, null, 2)}\n`}
    }
    case 'bencher': {
      const doc = bencherMetricFormat(metrics)
      return {...base, entries: Object.values(doc).reduce((a, m) => a + Object.keys(m).length, 0), document: `${JSON.stringify(doc, null, 2)}\n`}
    }
    case 'csv':
      return {...base, entries: metrics.length, document: csv(metrics, where(files))}
    case 'junit': {
      const {document, cases} = junit(files)
      return {...base, entries: cases, document}
    }
  }
}
