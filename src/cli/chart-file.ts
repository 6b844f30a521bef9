// A chart written to disk: the picture (.svg, or .png through resvg) and, beside it, the Vega-Lite
// spec it was drawn from (FILE.vl.json), so a user restyles it. Both paths are checked before any
// work, and each file is written whole or not at all.
import {extname} from 'node:path'

import {checkOutputPath, writeFileAtomic} from './output-file.js'
import {badInput} from '../core/errors.js'
import type {Chart} from '../core/plot/charts.js'
import {renderPng, renderSvg} from '../core/plot/render.js'

export interface ChartPaths {
  picture: string
  spec: string
  format: 'svg' | 'png'
}

export function chartPaths(path: string, flag: string): ChartPaths {
  const ext = extname(path).toLowerCase()
  if (ext !== '.svg' && ext !== '.png') throw badInput(`${flag} ${path}: give a .svg or .png file name`)
  const picture = checkOutputPath(path, flag)
  const spec = checkOutputPath(`${path.slice(0, -ext.length)}.vl.json`, flag)
  return {picture, spec, format: ext === '.svg' ? 'svg' : 'png'}
}

/** Draws the chart and writes both files; returns the picture's size in bytes. */
export async function writeChart(chart: Chart, paths: ChartPaths): Promise<number> {
  const svg = await renderSvg(chart.spec)
  const picture = paths.format === 'png' ? await renderPng(svg) : svg
  writeFileAtomic(paths.spec, `${JSON.stringify(chart.spec, null, 2)}\n`)
  writeFileAtomic(paths.picture, picture)
  return typeof picture === 'string' ? Buffer.byteLength(picture) : picture.length
}
