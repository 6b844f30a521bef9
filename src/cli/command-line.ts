// What kvbench does with a command line before oclif sees it, and after oclif could not place
// it: `help [COMMAND]`, `-v`/`--version` with the build, and a word that is not a command (a
// suggestion by edit distance, an "unexpected argument" after a command that takes none).
import {closest, distance} from 'fastest-levenshtein'

import {COMMANDS} from '../commands/index.js'

/** The commands a user sees, as typed (`backend bench`): hidden ones (completion's helpers) left out. */
export function commandNames(): string[] {
  return Object.entries(COMMANDS)
    .filter(([, command]) => !(command as {hidden?: boolean}).hidden)
    .map(([id]) => id.replace(/:/g, ' '))
}

/** `kvbench help save` is `kvbench save --help`; `kvbench help` is `kvbench --help`. */
export function rewriteHelp(argv: string[]): string[] {
  if (argv[0] !== 'help') return argv
  const words = argv.slice(1).filter((a) => !a.startsWith('-'))
  return [...words, '--help']
}

export function isVersionRequest(argv: string[]): boolean {
  return argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')
}

/** The line for a command line oclif found no command in: what was meant, or what was extra. */
export function notACommand(argv: string[]): string {
  const words = argv.filter((a) => !a.startsWith('-'))
  const names = commandNames()
  // `profiles extra`: a real command followed by a word it does not take
  for (let n = Math.min(2, words.length - 1); n >= 1; n--) {
    const cmd = words.slice(0, n).join(' ')
    if (names.includes(cmd)) return `kvbench ${cmd}: unexpected argument '${words[n]}' (see kvbench ${cmd} --help)`
  }
  const typed = words.slice(0, 2).join(' ') || argv[0] || ''
  // The nearest command by edit distance, offered when it is within a third of its length (a typo, not a guess).
  const candidates = [typed, words[0] ?? ''].map((w) => ({w, near: closest(w, names)}))
  const hit = candidates.find(({w, near}) => distance(w, near) <= Math.max(1, Math.floor(near.length / 3)))
  const hint = hit ? ` Did you mean \`kvbench ${hit.near}\`?` : ''
  return `'${typed}' is not a kvbench command.${hint} (kvbench --help lists them: ${names.join(', ')})`
}
