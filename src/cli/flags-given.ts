// Which flags the user typed (not defaulted), by name: oclif's parse fills defaults in, so a flag
// that does nothing for this run is told apart from its default only here.
export function flagsGiven(argv: readonly string[]): Set<string> {
  const out = new Set<string>()
  for (const a of argv) {
    const m = /^--(?:no-)?([a-z][a-z0-9-]*)(=|$)/.exec(a)
    if (m) out.add(m[1])
  }
  return out
}
