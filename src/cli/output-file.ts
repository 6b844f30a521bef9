// `--output FILE` (-o): the run's JSON envelope, written whole under a temporary name in the
// same directory and renamed into place, so a killed run never leaves half a file behind.
import {accessSync, constants, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {randomBytes} from 'node:crypto'

import {badInput} from '../core/errors.js'

/** The path to write, checked before the run starts: not a directory, in a directory we can write. */
export function checkOutputPath(path: string, flag = '--output'): string {
  if (path.trim() === '') throw badInput(`${flag} needs a file name`)
  const full = resolve(path)
  const dir = dirname(full)
  let st
  try {
    st = statSync(full)
  } catch {
    st = null
  }
  if (st?.isDirectory()) throw badInput(`${flag} ${path} is a directory; give a file name`)
  if (st && !st.isFile()) throw badInput(`${flag} ${path} is not a regular file`)
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory')
  } catch {
    throw badInput(`${flag} ${path}: directory ${dir} does not exist`)
  }
  try {
    accessSync(dir, constants.W_OK)
    if (st) accessSync(full, constants.W_OK)
  } catch {
    throw badInput(`${flag} ${path}: not writable`)
  }
  return full
}

/** The value of -o / --output in raw argv, for an error met before the flags were parsed. */
export function outputFromArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') break
    if ((a === '--output' || a === '-o') && i + 1 < argv.length) return argv[i + 1]
    if (a.startsWith('--output=')) return a.slice('--output='.length)
    if (a.startsWith('-o') && a.length > 2 && !a.startsWith('--')) return a.slice(a[2] === '=' ? 3 : 2)
  }
  return undefined
}

export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    writeFileSync(tmp, text, {mode: 0o644})
    renameSync(tmp, path)
  } catch (error) {
    rmSync(tmp, {force: true})
    throw error
  }
}
