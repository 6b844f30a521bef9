// A fresh directory under the system's temp folder, removed when the test file's process exits
// (pass or fail), so a test run leaves nothing behind in /tmp.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const made = []
process.on('exit', () => {
  for (const dir of made) {
    try {
      rmSync(dir, {recursive: true, force: true})
    } catch (e) {
      // Leaves the test's result alone; .ci/run names what stayed behind.
      process.stderr.write(`could not remove ${dir}: ${e.message}\n`)
    }
  }
})

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
