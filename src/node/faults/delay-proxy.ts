/**
 * A delaying TCP proxy on 127.0.0.1 in front of one node's listener: the
 * user-space stand-in for netem (this machine's kernel has none). The node
 * announces the proxy's address instead of its own, so every connection
 * another node opens to it crosses this proxy, once.
 *
 * Each chunk read from either side leaves for the other side `latencyMs ±
 * jitterMs` (uniform, seeded) after it arrived, never before the chunk ahead
 * of it on the same connection and direction (order is kept, as TCP's is).
 * The faults:
 *
 * - latency / jitter: set at any time; chunks already waiting keep theirs;
 * - stall(ms): nothing moves for ms, both ways, then everything waiting
 *   leaves (a packet-level stall: the sockets stay open, no error);
 * - freeze(): nothing moves until thaw() — frozen is not closed: the peer
 *   looks alive (connections accept, handshakes hang), like a hung process;
 * - sever(ports): destroys the connections whose upstream socket has one of
 *   these local ports (how a partition cuts existing connections: the node
 *   behind sees them as coming from that port);
 * - close(): destroys everything (the node behind is unreachable).
 *
 * Bounds: at most MAX_CONNECTIONS connections (more are refused: closed at
 * once); each direction of a connection holds at most MAX_LANE_BYTES waiting
 * (then it stops reading from its source until half of that has left, so
 * TCP's own flow control pushes back on the sender; nothing is dropped);
 * connections arriving before the node's port is known wait paused, at most
 * MAX_CONNECTIONS of them too.
 */
import net from 'node:net'
import { createRng } from '../../actors/runtime/rng.js'
import type { Rng } from '../../actors/runtime/rng.js'

export const MAX_CONNECTIONS = 1_024
export const MAX_LANE_BYTES = 1 << 20

export interface LinkDelay {
  /** one-way delay of each chunk, ms (default 0) */
  latencyMs?: number
  /** ± this much, uniform (default 0; at most latencyMs) */
  jitterMs?: number
}

export function checkDelay (d: LinkDelay): Required<LinkDelay> {
  const latencyMs = d.latencyMs ?? 0
  const jitterMs = d.jitterMs ?? 0
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60_000) throw new RangeError('latencyMs must be from 0 to 60,000 ms')
  if (!Number.isFinite(jitterMs) || jitterMs < 0 || jitterMs > latencyMs) throw new RangeError('jitterMs must be from 0 to latencyMs')
  return { latencyMs, jitterMs }
}

type Item = { at: number, chunk: Buffer } | { at: number, end: 'end' | 'destroy' }

/** one direction of one connection */
class Lane {
  private readonly queue: Item[] = []
  private head = 0
  private bytes = 0
  private lastAt = 0
  private timer: NodeJS.Timeout | undefined
  private blocked = false
  private paused = false

  constructor (private readonly proxy: DelayProxy, private readonly from: net.Socket, private readonly to: net.Socket) {
    from.on('data', chunk => { this.push({ at: this.when(), chunk }) })
    from.on('end', () => { this.push({ at: this.when(), end: 'end' }) })
    from.on('close', hadError => { if (hadError) this.push({ at: this.when(), end: 'destroy' }) })
    to.on('drain', () => { this.blocked = false; this.pump() })
  }

  private when (): number {
    const at = Math.max(this.lastAt, performance.now() + this.proxy.delayOfNext())
    this.lastAt = at
    return at
  }

  private push (item: Item): void {
    this.queue.push(item)
    if ('chunk' in item) {
      this.proxy.bytes += item.chunk.length
      this.bytes += item.chunk.length
      if (this.bytes >= MAX_LANE_BYTES && !this.paused) {
        this.paused = true
        this.from.pause()
      }
    }
    // a timer armed for an earlier chunk wakes for this one too (order is kept: it is never due sooner)
    if (this.timer === undefined) this.pump()
  }

  /** delivers what is due, and sets a timer for the next */
  pump (): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    const now = performance.now()
    while (this.head < this.queue.length && !this.blocked) {
      if (this.proxy.holding(now)) break
      const item = this.queue[this.head] as Item
      if (item.at > now) break
      this.head++
      if ('chunk' in item) {
        this.bytes -= item.chunk.length
        if (!this.to.destroyed && !this.to.write(item.chunk)) this.blocked = true
      } else if (item.end === 'end') {
        this.to.end()
      } else {
        this.to.destroy()
      }
    }
    if (this.head > 1_024 && this.head * 2 > this.queue.length) { this.queue.splice(0, this.head); this.head = 0 }
    if (this.paused && this.bytes < MAX_LANE_BYTES / 2) {
      this.paused = false
      if (!this.proxy.frozen) this.from.resume()
    }
    const next = this.queue[this.head]
    if (next === undefined || this.blocked) return
    const wakeAt = Math.max(next.at, this.proxy.stalledUntil)
    if (this.proxy.frozen) return // thaw() pumps
    this.timer = setTimeout(() => { this.timer = undefined; this.pump() }, Math.max(1, wakeAt - now))
  }

  /** reading stops (freeze) or starts again (thaw) */
  reading (on: boolean): void {
    if (on && !this.paused) this.from.resume()
    else if (!on) this.from.pause()
  }

  stop (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}

interface Pair { client: net.Socket, upstream: net.Socket, lanes: Lane[] }

export class DelayProxy {
  private readonly server: net.Server
  private readonly pairs = new Set<Pair>()
  private readonly waiting: net.Socket[] = []
  private readonly rng: Rng
  private targetPort: number | undefined
  private latencyMs = 0
  private jitterMs = 0
  /** bytes carried, both ways, counted as they arrive */
  bytes = 0
  /** connections refused because MAX_CONNECTIONS were open */
  refused = 0
  port = 0
  frozen = false
  stalledUntil = 0
  private stallTimer: NodeJS.Timeout | undefined

  constructor (options: LinkDelay & { seed?: number } = {}) {
    this.rng = createRng(options.seed ?? 1)
    this.setDelay(options)
    this.server = net.createServer({ noDelay: true }, client => { this.accept(client) })
  }

  /** listens on a free port of 127.0.0.1 */
  async listen (): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => { this.server.off('error', reject); resolve() })
    })
    this.port = (this.server.address() as net.AddressInfo).port
    return this.port
  }

  /** where to forward (the node's own TCP port); connections that came before it go on now */
  setTarget (port: number): void {
    this.targetPort = port
    for (const client of this.waiting.splice(0)) this.connect(client)
  }

  setDelay (d: LinkDelay): void {
    const { latencyMs, jitterMs } = checkDelay(d)
    this.latencyMs = latencyMs
    this.jitterMs = jitterMs
  }

  get delay (): Required<LinkDelay> { return { latencyMs: this.latencyMs, jitterMs: this.jitterMs } }

  delayOfNext (): number {
    if (this.latencyMs === 0) return 0
    return this.latencyMs + (this.rng.next() * 2 - 1) * this.jitterMs
  }

  /** whether nothing may move now (frozen, or inside a stall) */
  holding (now: number): boolean {
    return this.frozen || now < this.stalledUntil
  }

  get connections (): number { return this.pairs.size }

  /** the local ports of the upstream sockets (what the node behind sees as each connection's remote port) */
  upstreamPorts (): number[] {
    return [...this.pairs].map(p => p.upstream.localPort).filter((p): p is number => p !== undefined)
  }

  private accept (client: net.Socket): void {
    client.on('error', () => { /* the other side is closed by its lane */ })
    if (this.pairs.size + this.waiting.length >= MAX_CONNECTIONS) {
      this.refused++
      client.destroy()
      return
    }
    if (this.targetPort === undefined) {
      client.pause()
      this.waiting.push(client)
      client.once('close', () => { const i = this.waiting.indexOf(client); if (i >= 0) this.waiting.splice(i, 1) })
      return
    }
    this.connect(client)
  }

  private connect (client: net.Socket): void {
    if (client.destroyed) return
    const upstream = net.connect({ port: this.targetPort as number, host: '127.0.0.1', noDelay: true })
    upstream.on('error', () => { /* the other side is closed by its lane */ })
    const pair: Pair = { client, upstream, lanes: [] }
    pair.lanes.push(new Lane(this, client, upstream), new Lane(this, upstream, client))
    this.pairs.add(pair)
    let open = 2
    const closed = (): void => {
      if (--open > 0) return
      for (const lane of pair.lanes) lane.stop()
      this.pairs.delete(pair)
    }
    client.once('close', closed)
    upstream.once('close', closed)
    if (this.frozen) for (const lane of pair.lanes) lane.reading(false)
    else client.resume()
  }

  /** nothing moves, both ways, for ms; then what waited leaves */
  stall (ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) throw new RangeError('a stall is from 0 to 600,000 ms')
    this.stalledUntil = Math.max(this.stalledUntil, performance.now() + ms)
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer)
    this.stallTimer = setTimeout(() => { this.stallTimer = undefined; this.pumpAll() }, ms + 1)
  }

  /** nothing moves until thaw(); the sockets stay open and new connections are accepted (and hang) */
  freeze (): void {
    this.frozen = true
    for (const p of this.pairs) for (const lane of p.lanes) lane.reading(false)
  }

  thaw (): void {
    if (!this.frozen) return
    this.frozen = false
    for (const p of this.pairs) for (const lane of p.lanes) lane.reading(true)
    this.pumpAll()
  }

  private pumpAll (): void {
    for (const p of this.pairs) for (const lane of p.lanes) lane.pump()
  }

  /** destroys the connections whose upstream local port is one of these; how many */
  sever (ports: ReadonlySet<number>): number {
    let n = 0
    for (const p of [...this.pairs]) {
      if (p.upstream.localPort === undefined || !ports.has(p.upstream.localPort)) continue
      p.client.destroy()
      p.upstream.destroy()
      n++
    }
    return n
  }

  async close (): Promise<void> {
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer)
    for (const client of this.waiting.splice(0)) client.destroy()
    for (const p of this.pairs) {
      for (const lane of p.lanes) lane.stop()
      p.client.destroy()
      p.upstream.destroy()
    }
    this.pairs.clear()
    if (!this.server.listening) return
    await new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
  }
}
