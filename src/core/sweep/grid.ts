// The grid of a sweep: `--vary FLAG=V1,V2,...` axes and their cross product, in the order given
// (the last axis changes fastest, as nested loops would).
import {closest} from 'fastest-levenshtein'

import {badInput} from '../errors.js'

export interface VaryAxis {
  flag: string
  values: string[]
}

/** Values of each axis's flag at one point, in axis order. */
export type PointValues = Record<string, string>

/** Above this many points a sweep asks for --yes: each point is a whole run. */
export const MAX_POINTS_WITHOUT_YES = 256

/** `FLAG=V1,V2`, the flag without dashes and known to the target; one line naming the spec when not. */
export function parseVary(specs: readonly string[], known: readonly string[], target: string): VaryAxis[] {
  if (specs.length === 0) throw badInput('--vary is required: --vary FLAG=V1,V2,... (for example --vary threads=1,2,4)')
  const axes: VaryAxis[] = []
  for (const spec of specs) {
    const eq = spec.indexOf('=')
    const flag = (eq < 0 ? spec : spec.slice(0, eq)).replace(/^--?/, '')
    if (eq < 0 || flag === '') throw badInput(`--vary ${spec}: expected FLAG=V1,V2,... (for example --vary threads=1,2,4)`)
    if (!known.includes(flag)) {
      const near = closest(flag, [...known])
      throw badInput(`--vary ${spec}: ${target} has no flag --${flag}${near ? ` (did you mean --${near}?)` : ''}`)
    }
    const values = spec.slice(eq + 1).split(',').map((v) => v.trim())
    if (values.length === 0 || values.some((v) => v === '')) throw badInput(`--vary ${spec}: an empty value; give a comma-separated list such as ${flag}=1,2,4`)
    const twice = values.find((v, i) => values.indexOf(v) !== i)
    if (twice !== undefined) throw badInput(`--vary ${spec}: ${twice} is listed twice`)
    if (axes.some((a) => a.flag === flag)) throw badInput(`--vary ${spec}: --${flag} is varied twice; list its values once`)
    axes.push({flag, values})
  }
  return axes
}

export function gridSize(axes: readonly VaryAxis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1)
}

export function expandGrid(axes: readonly VaryAxis[]): PointValues[] {
  let points: PointValues[] = [{}]
  for (const a of axes) points = points.flatMap((p) => a.values.map((v) => ({...p, [a.flag]: v})))
  return points
}

/** `threads=4 pipeline=8`: a point as a person reads it. */
export function pointLabel(values: PointValues): string {
  return Object.entries(values).map(([k, v]) => `${k}=${v}`).join(' ')
}
