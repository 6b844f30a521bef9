// Prints the native sources of the named groups (native/sources.txt), as paths from the
// repository root, for binding.gyp: `<!@(node scripts/native-sources.cjs addon host)`.
const {readFileSync} = require('node:fs')
const {join} = require('node:path')

const groups = process.argv.slice(2)
const listed = readFileSync(join(__dirname, '..', 'native', 'sources.txt'), 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
  .filter((f) => f.length === 2)
const unknown = groups.filter((g) => !listed.some(([group]) => group === g))
if (unknown.length > 0) throw new Error(`native/sources.txt has no group ${unknown.join(', ')}`)
process.stdout.write(listed.filter(([group]) => groups.includes(group)).map(([, path]) => `native/${path}`).join(' ') + '\n')
