// `npm run bundle`: one .tar.xz that runs kvbench on a Linux x86-64 GPU host with no
// Node or npm: the Node runtime that runs this script, kvbench bundled into one ES
// module, the native addon, schemas and the GPU test suite.
//
//   kvbench/bin/kvbench            launcher (sh)
//   kvbench/bin/kvbench-test-gpu   runs the GPU suite against this bundle
//   kvbench/lib/                   kvbench.mjs, run.mjs, package.json, kvbench.node
//   kvbench/node/node              Node runtime
//   kvbench/schemas/, kvbench/test/gpu/
import {execFileSync} from 'node:child_process'
import {chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {build} from 'esbuild'

const MAX_BYTES = 40 * 1000 * 1000
const out = 'bundle'
const root = join(out, 'kvbench')
const addon = 'build/Release/kvbench.node'
if (!existsSync(addon)) throw new Error(`${addon} is missing: run npm install (or npm rebuild) first`)
if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the bundle targets linux-x64; this is ${process.platform}-${process.arch}`)

rmSync(out, {recursive: true, force: true})
for (const d of ['bin', 'lib', 'node', 'test/gpu']) mkdirSync(join(root, d), {recursive: true})

// CJS dependencies inside an ES module need a `require`.
const banner = {js: "import {createRequire as __kvCreateRequire} from 'node:module'; const require = __kvCreateRequire(import.meta.url);"}
const common = {bundle: true, platform: 'node', format: 'esm', target: 'node20', banner, logLevel: 'warning', legalComments: 'none'}
// oclif's TypeScript-source support is never used by a bundled CLI.
// resvg (PNG plots) is a prebuilt native package: it travels as itself, beside kvbench.mjs in lib/node_modules.
await build({...common, entryPoints: ['dist/bundle.js'], outfile: join(root, 'lib/kvbench.mjs'), minify: true, external: ['typescript', 'ts-node', '@resvg/resvg-js']})
for (const p of ['@resvg/resvg-js', '@resvg/resvg-js-linux-x64-gnu']) cpSync(join('node_modules', p), join(root, 'lib/node_modules', p), {recursive: true})
writeFileSync(join(root, 'lib/run.mjs'), "import {main} from './kvbench.mjs'\n\nawait main(process.argv.slice(2), import.meta.url)\n")

// GPU tests are bundled one file each, so their helpers and ajv travel with them.
const gpuTests = readdirSync('test/gpu').filter((f) => f.endsWith('.test.mjs'))
for (const f of gpuTests) {
  await build({...common, entryPoints: [join('test/gpu', f)], outfile: join(root, 'test/gpu', f), external: ['node:*']})
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const {gitSha} = JSON.parse(readFileSync('dist/build-info.json', 'utf8'))
writeFileSync(
  join(root, 'lib/package.json'),
  JSON.stringify({name: pkg.name, version: pkg.version, description: pkg.description, gitSha, type: 'module', oclif: {...pkg.oclif, commands: {strategy: 'explicit', target: './kvbench.mjs', identifier: 'COMMANDS'}}}, null, 2) + '\n',
)
cpSync(addon, join(root, 'lib/kvbench.node'))
cpSync('schemas', join(root, 'schemas'), {recursive: true})
for (const d of ['profiles', 'probes', 'python', 'examples', 'test/fixtures']) if (existsSync(d)) cpSync(d, join(root, d), {recursive: true})
cpSync(process.execPath, join(root, 'node/node'))

const launcher = (body) => `#!/bin/sh\n# kvbench portable bundle: no Node or npm needed on this host.\nhere="$(cd "$(dirname "$0")/.." && pwd)"\n${body}\n`
writeFileSync(join(root, 'bin/kvbench'), launcher('exec "$here/node/node" "$here/lib/run.mjs" "$@"'))
writeFileSync(
  join(root, 'bin/kvbench-test-gpu'),
  launcher('export KVBENCH_CMD="$here/bin/kvbench" KVBENCH_REQUIRE_GPU=1\ncd "$here" && exec "$here/node/node" --test --test-concurrency=1 test/gpu/*.test.mjs "$@"'),
)
chmodSync(join(root, 'bin/kvbench'), 0o755)
chmodSync(join(root, 'bin/kvbench-test-gpu'), 0o755)

const archive = `kvbench-${pkg.version}-linux-x64.tar.xz`
execFileSync('tar', ['-C', out, '-I', 'xz -T0 -6', '-cf', archive, 'kvbench'], {stdio: 'inherit'})
const size = statSync(archive).size
console.log(`${archive}: ${(size / 1e6).toFixed(1)} MB`)
if (size > MAX_BYTES) {
  rmSync(archive)
  throw new Error(`${archive} is ${(size / 1e6).toFixed(1)} MB, over the ${MAX_BYTES / 1e6} MB limit`)
}
