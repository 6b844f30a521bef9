// `npm install` hook: builds the native addon with node-gyp. With no CUDA toolkit
// the addon is still built (without CUDA) so the CLI works and says what is missing.
import {spawnSync} from 'node:child_process'
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)
const cudaHome = spawnSync(process.execPath, ['scripts/cuda-home.cjs'], {encoding: 'utf8'}).stdout.trim()
console.error(cudaHome ? `kvbench: building the native addon with CUDA from ${cudaHome}` : 'kvbench: no CUDA toolkit found (nvcc and libcudart_static.a): building the addon without CUDA')

// npm hands lifecycle scripts its own node-gyp; a local devDependency or PATH serve otherwise.
let gyp = process.env.npm_config_node_gyp
if (!gyp) {
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js')
  } catch {
    gyp = null
  }
}
// A distribution Node (/usr/bin/node) ships its headers in /usr/include/node: build
// against them offline instead of downloading headers.
import {existsSync} from 'node:fs'
const extra = []
if (!process.env.npm_config_nodedir && process.execPath === '/usr/bin/node' && existsSync('/usr/include/node/node_api.h')) {
  extra.push('--nodedir=/usr')
}
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild', '-j', 'max', ...extra]] : ['node-gyp', ['rebuild', '-j', 'max', ...extra]]
const r = spawnSync(cmd, args, {stdio: 'inherit'})
if (r.error) {
  console.error(`kvbench: could not run node-gyp: ${r.error.message}`)
  process.exit(1)
}
process.exit(r.status ?? 1)
