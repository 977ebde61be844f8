/**
 * A TCP proxy on 127.0.0.1 in front of one node, for the tests and the
 * benches that need a misbehaving peer. While it forwards, the node behind it
 * is an ordinary peer; slow() delays every chunk, both ways, by a random
 * 300–800 ms (or what you ask), keeping the order; freeze() stops moving
 * bytes both ways but keeps every socket open, so the peer looks alive and
 * never answers (like a hung process): libp2p sees no error, no reset, no
 * close. Connections made after either call get the same treatment.
 */
import net from 'node:net'

/** The TCP port of a /ip4/…/tcp/<port>/… multiaddr. */
export function tcpPort (multiaddr: string): number {
  const parts = multiaddr.split('/')
  const i = parts.indexOf('tcp')
  const port = Number(parts[i + 1])
  if (i < 0 || !Number.isInteger(port)) throw new Error(`no tcp port in ${multiaddr}`)
  return port
}

type Mode = { kind: 'forward' } | { kind: 'slow', minMs: number, maxMs: number } | { kind: 'frozen' }

/** one direction of one connection: chunks leave in order, each after its delay */
class Lane {
  private lastAt = 0
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor (private readonly proxy: FreezableProxy, from: net.Socket, private readonly to: net.Socket) {
    from.on('data', chunk => { this.carry(chunk) })
    from.on('end', () => { this.after(() => { to.end() }) })
  }

  private carry (chunk: Buffer): void {
    const mode = this.proxy.mode
    if (mode.kind === 'frozen') return // read just before the freeze: never delivered
    this.proxy.bytes += chunk.length
    if (mode.kind === 'forward' && this.timers.size === 0) {
      this.to.write(chunk)
      return
    }
    const delay = mode.kind === 'slow' ? mode.minMs + Math.random() * (mode.maxMs - mode.minMs) : 0
    this.after(() => { this.to.write(chunk) }, delay)
  }

  private after (fn: () => void, delay = 0): void {
    const at = Math.max(this.lastAt, performance.now() + delay)
    this.lastAt = at
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      if (this.proxy.mode.kind !== 'frozen' && !this.to.destroyed) fn()
    }, Math.max(0, at - performance.now()))
    this.timers.add(timer)
  }

  stop (): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}

/** Listen on a free port of 127.0.0.1; resolves with the port. */
export async function listenLoopback (server: net.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { resolve() })
  })
  return (server.address() as net.AddressInfo).port
}

export class FreezableProxy {
  private readonly server: net.Server
  private readonly pairs: Array<[net.Socket, net.Socket]> = []
  private readonly lanes: Lane[] = []
  mode: Mode = { kind: 'forward' }
  /** bytes carried (both ways, counted when they arrive at the proxy) */
  bytes = 0
  port = 0

  constructor (private readonly targetPort: number) {
    this.server = net.createServer(client => {
      const upstream = net.connect(this.targetPort, '127.0.0.1')
      client.on('error', () => {})
      upstream.on('error', () => {})
      this.pairs.push([client, upstream])
      this.lanes.push(new Lane(this, client, upstream), new Lane(this, upstream, client))
      if (this.mode.kind === 'frozen') {
        client.pause()
        upstream.pause()
      }
    })
  }

  async listen (): Promise<this> {
    this.port = await listenLoopback(this.server)
    return this
  }

  /** how many connections came through */
  get connections (): number {
    return this.pairs.length
  }

  /** from now on, every chunk waits a random minMs–maxMs (order kept) */
  slow (minMs = 300, maxMs = 800): void {
    this.mode = { kind: 'slow', minMs, maxMs }
  }

  /** stop reading both ways (the bytes stay in the kernel's buffers), keep every socket open */
  freeze (): void {
    this.mode = { kind: 'frozen' }
    for (const [client, upstream] of this.pairs) {
      client.pause()
      upstream.pause()
    }
  }

  async close (): Promise<void> {
    for (const lane of this.lanes) lane.stop()
    for (const [client, upstream] of this.pairs) {
      client.destroy()
      upstream.destroy()
    }
    await new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
  }
}
