// torch.distributed's TCPStore, spoken over its own wire protocol (torch 2.1 and later, when the
// first query of a connection became a validation), so kvbench's ranks meet where a torch job's
// ranks meet: the store torchrun's agent already runs at MASTER_ADDR:MASTER_PORT, or one rank 0
// serves there itself, as torch's env:// and tcp:// do. Only the queries kvbench needs: a value is
// set, looked for (CHECK, which never blocks, so a rank polls and can give up), read and deleted.
import {createServer, Socket, type Server} from 'node:net'

import {EXIT_RUN_FAILED, KvError} from '../../errors.js'

// torch/csrc/distributed/c10d/TCPStoreBackend.hpp: QueryType, and the validation's magic number.
const Query = {validate: 0, set: 1, get: 3, add: 4, check: 5, wait: 6, deleteKey: 8, cancelWait: 12, ping: 13} as const
const STOP_WAITING = 0
const WAIT_CANCELED = 1
const VALIDATION_MAGIC = 0x3c85f7ce
const READY = 0
const NOT_READY = 1

function lengthPrefixed(b: Buffer): Buffer {
  const n = Buffer.alloc(8)
  n.writeBigUInt64LE(BigInt(b.length))
  return Buffer.concat([n, b])
}

const text = (s: string) => lengthPrefixed(Buffer.from(s, 'utf8'))
const byte = (v: number) => Buffer.from([v])

function storeError(where: string, why: string): KvError {
  return new KvError('RENDEZVOUS_STORE', `TCPStore at ${where}: ${why}`, EXIT_RUN_FAILED)
}

/** One connection to a TCPStore; its queries go one at a time. */
export class TcpStoreClient {
  private pending = Buffer.alloc(0)
  private want: {n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void} | null = null
  private failure: Error | null = null
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(private readonly socket: Socket, readonly where: string) {
    socket.on('data', (chunk) => {
      this.pending = Buffer.concat([this.pending, chunk])
      this.deliver()
    })
    const fail = (why: string) => {
      this.failure ??= storeError(where, why)
      this.want?.reject(this.failure)
      this.want = null
    }
    socket.on('error', (e) => fail(e.message))
    socket.on('close', () => fail('the store closed the connection'))
  }

  /** Connects (again and again while nothing listens yet: the store's rank may start later) until `deadline` (ms since the epoch). */
  static async connect(host: string, port: number, deadline: number, stopped: () => boolean = () => false): Promise<TcpStoreClient> {
    const where = `${host}:${port}`
    for (;;) {
      const socket = await new Promise<Socket | Error>((resolve) => {
        const s = new Socket()
        s.once('connect', () => resolve(s))
        s.once('error', (e) => (s.destroy(), resolve(e)))
        s.connect(port, host)
      })
      if (socket instanceof Socket) {
        socket.setNoDelay(true)
        const client = new TcpStoreClient(socket, where)
        socket.write(Buffer.concat([byte(Query.validate), u32(VALIDATION_MAGIC)]))
        return client
      }
      const code = (socket as NodeJS.ErrnoException).code
      if (code !== 'ECONNREFUSED' && code !== 'ECONNRESET' && code !== 'EHOSTUNREACH' && code !== 'ETIMEDOUT') throw storeError(where, socket.message)
      if (stopped()) throw storeError(where, 'stopped while connecting')
      if (Date.now() >= deadline) throw storeError(where, `nothing listens there (${code}) after waiting: the rank that serves it did not start, or MASTER_ADDR/MASTER_PORT differ between ranks`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  async set(key: string, value: string): Promise<void> {
    await this.query(Buffer.concat([byte(Query.set), text(key), text(value)]), 0)
  }

  /** The value, or null when the key is not (yet) there. */
  async get(key: string): Promise<string | null> {
    const ready = await this.query(Buffer.concat([byte(Query.check), u64(1), text(key)]), 1)
    if (ready[0] === NOT_READY) return null
    if (ready[0] !== READY) throw storeError(this.where, `CHECK answered ${ready[0]}`)
    return this.serial(async () => {
      this.socket.write(Buffer.concat([byte(Query.get), text(key)]))
      const n = (await this.read(8)).readBigUInt64LE()
      return (await this.read(Number(n))).toString('utf8')
    })
  }

  async delete(key: string): Promise<void> {
    await this.query(Buffer.concat([byte(Query.deleteKey), text(key)]), 8)
  }

  close(): void {
    this.socket.destroy()
  }

  private query(request: Buffer, answerBytes: number): Promise<Buffer> {
    return this.serial(async () => {
      this.socket.write(request)
      return answerBytes > 0 ? this.read(answerBytes) : Buffer.alloc(0)
    })
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => {
      if (this.failure) throw this.failure
      return work()
    })
    this.queue = next.catch(() => {})
    return next
  }

  private read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failure && this.pending.length < n) return reject(this.failure)
      this.want = {n, resolve, reject}
      this.deliver()
    })
  }

  private deliver(): void {
    if (!this.want || this.pending.length < this.want.n) return
    const {n, resolve} = this.want
    this.want = null
    const out = this.pending.subarray(0, n)
    this.pending = this.pending.subarray(n)
    resolve(Buffer.from(out))
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v)
  return b
}

function u64(v: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(v))
  return b
}

/** A TCPStore server for the queries above, as rank 0 runs one where no launcher's agent does. */
export interface TcpStoreServer {
  port: number
  close: () => Promise<void>
}

export async function serveTcpStore(port: number, host?: string): Promise<TcpStoreServer> {
  const values = new Map<string, Buffer>()
  const sockets = new Set<Socket>()
  // torch's own clients WAIT for a key before they GET it: answered once every key they name is set.
  const waiting = new Map<Socket, string[]>()
  const wake = () => {
    for (const [socket, keys] of waiting) {
      if (keys.every((k) => values.has(k))) waiting.delete(socket), socket.write(byte(STOP_WAITING))
    }
  }
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => (sockets.delete(socket), waiting.delete(socket)))
    socket.on('error', () => socket.destroy())
    let pending = Buffer.alloc(0)
    let validated = false
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk])
      for (;;) {
        const parsed = parseQuery(pending)
        if (parsed === 'incomplete') return
        // As torch's server does: a connection whose first query is no validation, or that asks what this one does not serve, is dropped.
        if (parsed === 'unknown' || validated !== (parsed.type !== Query.validate)) return void socket.destroy()
        pending = pending.subarray(parsed.length)
        const {type, args} = parsed
        if (type === Query.validate) {
          if (args[0].readUInt32LE() !== VALIDATION_MAGIC) return void socket.destroy()
          validated = true
        } else if (type === Query.set) {
          values.set(args[0].toString('utf8'), Buffer.from(args[1]))
          wake()
        } else if (type === Query.wait) {
          waiting.set(socket, args.map((k) => k.toString('utf8')))
          wake()
        } else if (type === Query.cancelWait) {
          waiting.delete(socket)
          socket.write(byte(WAIT_CANCELED))
        } else if (type === Query.check) {
          socket.write(byte(args.every((k) => values.has(k.toString('utf8'))) ? READY : NOT_READY))
        } else if (type === Query.get) {
          const v = values.get(args[0].toString('utf8'))
          if (!v) return void socket.destroy()
          socket.write(lengthPrefixed(v))
        } else if (type === Query.deleteKey) {
          const n = Buffer.alloc(8)
          n.writeBigInt64LE(values.delete(args[0].toString('utf8')) ? 1n : 0n)
          socket.write(n)
        } else if (type === Query.add) {  // torch's own clients count themselves in with it
          const key = args[0].toString('utf8')
          const sum = BigInt(values.get(key)?.toString('utf8') ?? '0') + args[1].readBigInt64LE()
          values.set(key, Buffer.from(sum.toString()))
          wake()
          const out = Buffer.alloc(8)
          out.writeBigInt64LE(sum)
          socket.write(out)
        } else if (type === Query.ping) {
          socket.write(args[0])
        }
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? `port ${port} is in use on this host (another job's store, or torchrun's own: under torchrun give --rendezvous env:// so the agent's store is used)` : e.message
      reject(new KvError('RENDEZVOUS_STORE', `rank 0 could not serve the TCPStore: ${why}`, EXIT_RUN_FAILED))
    })
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

type Parsed = {type: number; args: Buffer[]; length: number}

/** One whole query at the start of `b`: its type and arguments (strings, or the fixed-size field). */
function parseQuery(b: Buffer): Parsed | 'incomplete' | 'unknown' {
  if (b.length < 1) return 'incomplete'
  const type = b[0]
  let at = 1
  const fixed = (n: number): Buffer | null => {
    if (b.length < at + n) return null
    const out = b.subarray(at, at + n)
    at += n
    return out
  }
  const prefixed = (): Buffer | null => {
    const n = fixed(8)
    return n ? fixed(Number(n.readBigUInt64LE())) : null
  }
  const args: Buffer[] = []
  const take = (v: Buffer | null) => (v ? (args.push(v), true) : false)
  let whole: boolean
  switch (type) {
    case Query.validate:
    case Query.ping:
      whole = take(fixed(4))
      break
    case Query.cancelWait:
      whole = true
      break
    case Query.set:
      whole = take(prefixed()) && take(prefixed())
      break
    case Query.get:
    case Query.deleteKey:
      whole = take(prefixed())
      break
    case Query.add:
      whole = take(prefixed()) && take(fixed(8))
      break
    case Query.check:
    case Query.wait: {
      const n = fixed(8)
      whole = n !== null
      for (let i = 0; whole && i < Number(n!.readBigUInt64LE()); i++) whole = take(prefixed())
      break
    }
    default:
      return 'unknown'
  }
  return whole ? {type, args, length: at} : 'incomplete'
}
