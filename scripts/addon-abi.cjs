// Prints the addon's ABI number for binding.gyp. It is written once, in src/native/abi.ts (an
// installed package has only its compiled dist/native/abi.js); the TypeScript side refuses an
// addon whose number differs.
const {existsSync, readFileSync} = require('node:fs')
const {join} = require('node:path')

const root = join(__dirname, '..')
const file = [join(root, 'src', 'native', 'abi.ts'), join(root, 'dist', 'native', 'abi.js')].find((f) => existsSync(f))
if (!file) throw new Error('no src/native/abi.ts or dist/native/abi.js: the addon ABI number is written there')
const m = /ADDON_ABI = (\d+)/.exec(readFileSync(file, 'utf8'))
if (!m) throw new Error(`${file} does not set ADDON_ABI`)
process.stdout.write(m[1] + '\n')
