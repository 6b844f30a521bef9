// Records the git sha of this build in dist/build-info.json for the result envelope.
import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'

let gitSha = null
try {
  gitSha = execFileSync('git', ['rev-parse', 'HEAD'], {stdio: ['ignore', 'pipe', 'ignore']}).toString().trim() || null
} catch {
  gitSha = null
}
mkdirSync('dist', {recursive: true})
writeFileSync('dist/build-info.json', JSON.stringify({gitSha}) + '\n')
