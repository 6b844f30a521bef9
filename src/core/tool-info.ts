// Name, version and git sha of this kvbench, read from the nearest package.json
// (the repo's, or the portable bundle's, which carries `gitSha`) and build-info.json.
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export interface ToolInfo {
  name: string
  version: string
  gitSha: string | null
}

let cached: ToolInfo | undefined

export function toolInfo(): ToolInfo {
  if (cached) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const pj = join(dir, 'package.json')
    if (existsSync(pj)) {
      const pkg = JSON.parse(readFileSync(pj, 'utf8')) as {name: string; version: string; gitSha?: string}
      let gitSha = pkg.gitSha ?? null
      const info = join(dir, 'dist', 'build-info.json')
      if (!gitSha && existsSync(info)) gitSha = (JSON.parse(readFileSync(info, 'utf8')) as {gitSha?: string}).gitSha ?? null
      cached = {name: pkg.name, version: pkg.version, gitSha}
      return cached
    }
    dir = dirname(dir)
  }
  cached = {name: 'kvbench', version: 'unknown', gitSha: null}
  return cached
}
