// `kvbench sweep <command> [sweep flags] [the command's flags]`: the sweep's own flags and the
// command's are mixed on one line, so they are told apart here, by the sweep's own flag names,
// before either is parsed (oclif alone would refuse the command's flags as unknown).
import {closest} from 'fastest-levenshtein'

import {badInput} from '../core/errors.js'

/** The sweep's flags that take a value, and those that do not (short forms included). */
const WITH_VALUE = new Set(['--vary', '--export', '--plot', '--crossover', '--output', '-o'])
const WITHOUT_VALUE = new Set(['--yes', '-y', '--json', '--quiet', '-q'])

export interface SweepArgv {
  target: string
  /** The sweep's own flags, for its oclif parse. */
  own: string[]
  /** Everything else: the flags every point of the target gets. */
  fixed: string[]
}

export function splitSweepArgv(argv: readonly string[], targets: readonly string[]): SweepArgv {
  const words: string[] = []
  let i = 0
  while (i < argv.length && !argv[i].startsWith('-') && words.length < 2) words.push(argv[i++])
  let target = words.join(' ')
  if (!targets.includes(target) && targets.includes(words[0] ?? '')) {
    target = words[0]
    i -= words.length - 1
  }
  if (!targets.includes(target)) {
    const list = targets.join(', ')
    if (target === '') throw badInput(`sweep needs the command to sweep first: ${list} (for example kvbench sweep backend bench --vary threads=1,2,4)`)
    throw badInput(`sweep ${target}: not a command sweep runs (${list}; did you mean ${closest(target, [...targets])}?)`)
  }
  const own: string[] = []
  const fixed: string[] = []
  for (; i < argv.length; i++) {
    const a = argv[i]
    const name = a.startsWith('--') ? a.split('=')[0] : a
    if (WITH_VALUE.has(name)) {
      own.push(a)
      if (!a.includes('=') && i + 1 < argv.length) own.push(argv[++i])
    } else if (WITHOUT_VALUE.has(a)) {
      own.push(a)
    } else {
      fixed.push(a)
    }
  }
  return {target, own, fixed}
}
