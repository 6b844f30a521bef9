// A TCP port nothing listens on right now (the kernel's pick), for a store a test starts later.
import {createServer} from 'node:net'

export async function freePort() {
  const s = createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const {port} = s.address()
  await new Promise((r) => s.close(r))
  return port
}
