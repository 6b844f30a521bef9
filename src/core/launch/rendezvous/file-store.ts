// A KeyStore in a directory every rank shares (a shared filesystem): a file per key, named for
// the launcher's run id so that another run's files are never read.
import {readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {KeyStore} from './key-store.js'

export function fileKeyStore(dir: string, runId: string): KeyStore {
  const prefix = `kvbench-${runId.replace(/[^A-Za-z0-9._-]+/g, '_')}-`
  const file = (key: string) => join(dir, `${prefix}${key}.json`)
  return {
    where: dir,
    async set(key, value) {
      const tmp = `${file(key)}.${process.pid}.tmp`
      writeFileSync(tmp, value)
      renameSync(tmp, file(key))  // whole or absent: a waiting rank never reads half of it
    },
    async get(key) {
      try {
        return readFileSync(file(key), 'utf8')
      } catch {
        return null
      }
    },
    async delete(key) {
      rmSync(file(key), {force: true})
    },
    async close() {},
  }
}
