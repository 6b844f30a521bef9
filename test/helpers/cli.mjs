// Runs the kvbench CLI as a user would: bin/run.js from this checkout, or the
// command in KVBENCH_CMD (the portable bundle's launcher on a GPU host).
import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export function kvbench(args, {env = {}, input, timeout = 120_000, shellPrefix} = {}) {
  const base = process.env.KVBENCH_CMD ? [process.env.KVBENCH_CMD] : [process.execPath, join(ROOT, 'bin', 'run.js')]
  let cmd = base[0]
  let argv = [...base.slice(1), ...args]
  if (shellPrefix) {
    // e.g. 'ulimit -l 1024': run through sh so the limit applies to kvbench only.
    argv = ['-c', `${shellPrefix} && exec "$@"`, 'sh', ...base, ...args]
    cmd = '/bin/sh'
  }
  // The runner's own colour settings must not leak into what the tests observe.
  const childEnv = {...process.env}
  delete childEnv.NO_COLOR
  delete childEnv.FORCE_COLOR
  const r = spawnSync(cmd, argv, {
    env: {...childEnv, ...env},
    input,
    timeout,
    encoding: 'utf8',
  })
  if (r.error) throw r.error
  return {code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr}
}

export function kvbenchJson(args, opts) {
  const r = kvbench([...args, '--json'], opts)
  let json
  try {
    json = JSON.parse(r.stdout)
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout.slice(0, 400)} ${r.stderr.slice(0, 400)}`)
  }
  return {...r, json}
}

/** Why GPU tests cannot run here, or null when a GPU is usable. */
export function gpuSkipReason() {
  const r = kvbenchJson(['env'])
  if (r.code !== 0) return `kvbench env failed: ${r.stderr.trim()}`
  const env = r.json.environment
  if (env.gpus.length > 0) return null
  return `no GPU: ${env.gpusReason}`
}

/**
 * GPU suites: skip with the reason on CI, fail when KVBENCH_REQUIRE_GPU=1 (npm run test:gpu). A
 * skipped suite also registers one skipped test, so the runner's summary counts it as skipped.
 */
export function gpuGate(suite = 'GPU suite') {
  const reason = gpuSkipReason()
  if (reason && process.env.KVBENCH_REQUIRE_GPU === '1') throw new Error(`KVBENCH_REQUIRE_GPU=1 but ${reason}`)
  if (reason) test(`${suite} (needs a GPU)`, {skip: reason}, () => {})
  return reason ? {skip: reason} : {}
}

/** The native addon of this checkout, or of the bundle the tests run from. */
export function addonPath() {
  if (process.env.KVBENCH_ADDON) return process.env.KVBENCH_ADDON
  const candidates = [join(ROOT, 'build', 'Release', 'kvbench.node'), join(ROOT, 'lib', 'kvbench.node')]
  return candidates.find((p) => existsSync(p)) ?? candidates[0]
}

/**
 * Starts kvbench without waiting (under the command `wrap` names, when given); resolves with its
 * exit and output. `detached`: in a process group of its own, so that one signal reaches all of it.
 */
export function kvbenchAsync(args, {env = {}, wrap = [], detached = false} = {}) {
  const base = process.env.KVBENCH_CMD ? [process.env.KVBENCH_CMD] : [process.execPath, join(ROOT, 'bin', 'run.js')]
  const [cmd, ...argv] = [...wrap, ...base, ...args]
  const child = spawn(cmd, argv, {env: {...process.env, ...env}, detached})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({code, signal, stdout, stderr})))
  return {child, done}
}
