/**
 * A simulated DHT behind the DhtPort seam, for the seeded IPNS simulation
 * (test/sim/ipns-simulation.test.ts) and the IPNS actor's compliance run
 * among real actors: a handful of peers, each with a behaviour drawn
 * from the seed, answering GET_VALUE and PUT_VALUE on the SimulatedClock.
 * No network: every answer is a timer on the simulated clock, and every
 * operation honours its AbortSignal (timers cleared, AbortError thrown).
 *
 * Peers:
 * - honest:  answers after 5–100 ms with the best record it holds; stores a
 *            put unless it is lower than what it holds (the lower-sequence guard);
 * - slow:    like honest, but answers after 300–900 ms;
 * - silent:  never answers (the request times out after PEER_TIMEOUT_MS);
 * - bad-sig / wrong-key / garbage: answer with a forged record (a higher
 *            sequence, a broken signature), a record signed by another key, or
 *            random bytes; acknowledge puts and keep nothing;
 * - lower:   keeps the first record it ever got for a name and serves it for
 *            ever (acknowledging later puts);
 * - expired: answers with a genuine record of a high sequence whose EOL has passed.
 * Any peer may also be partitioned (unreachable, requests fail fast) for a
 * window, or stop for good at some moment (requests in flight then never answered).
 *
 * The lookup (get): this node's own copy first, then every peer, in a
 * seeded order, `want` requests at a time; it ends when every peer has
 * answered, failed or timed out. Values are not validated here: the IPNS
 * actor must not trust what the port yields.
 */
import { decodeEntry } from '../../src/records/codec.js'
import { nameFromRoutingKey } from '../../src/records/name.js'
import { abortError } from './fake-dht-port.js'
import type { SimulatedClock } from '../../src/actors/runtime/clock.js'
import type { Rng } from '../../src/actors/runtime/rng.js'
import type { DhtConnection, DhtGetValue, DhtOpOptions, DhtPeerInfo, DhtPort, DhtPortStatus } from '../../src/actors/swarm/dht-port.js'

export type PeerKind = 'honest' | 'slow' | 'silent' | 'bad-sig' | 'wrong-key' | 'garbage' | 'lower' | 'expired'

/** a request to a silent or stopped peer is given up after this long */
export const PEER_TIMEOUT_MS = 1_000
/** the longest an honest peer takes to answer */
export const HONEST_MAX_MS = 100
/** a partitioned peer's request fails after this long */
const UNREACHABLE_MS = 20

/** What a lying or stuck peer serves for a name. */
export interface Lies {
  forged: (name: string) => Uint8Array
  wrongKey: (name: string) => Uint8Array
  expired: (name: string) => Uint8Array | undefined
  garbage: () => Uint8Array
}

export interface Held { record: Uint8Array, sequence: bigint, since: number }

/** what one store holds per name, with the history of sequences (for the oracle; a few entries per name) */
export class RecordHolder {
  private readonly now = new Map<string, Held>()
  private readonly past = new Map<string, Array<{ sequence: bigint, since: number }>>()

  get (name: string): Held | undefined {
    return this.now.get(name)
  }

  set (name: string, held: Held): void {
    this.now.set(name, held)
    const h = this.past.get(name) ?? []
    h.push({ sequence: held.sequence, since: held.since })
    this.past.set(name, h)
  }

  /** the sequence held for a name at `at`, if any */
  heldAt (name: string, at: number): bigint | undefined {
    let out: bigint | undefined
    for (const e of this.past.get(name) ?? []) if (e.since <= at) out = e.sequence
    return out
  }

  /** store a record unless it is lower than the one held (the lower-sequence guard) */
  guardedSet (name: string, record: Uint8Array, at: number): boolean {
    const sequence = sequenceOf(record)
    if (sequence === undefined) return false
    const held = this.now.get(name)
    if (held !== undefined && held.sequence > sequence) return false
    if (held === undefined || held.sequence < sequence) this.set(name, { record, sequence, since: at })
    return true
  }
}

export class SimPeer {
  /** name (base36) → the record this peer holds */
  readonly store = new RecordHolder()
  /** unreachable during [from, to) */
  partition: { from: number, to: number } | undefined
  /** stops answering for good at this time */
  stopAt: number | undefined

  constructor (readonly id: string, readonly kind: PeerKind, private readonly latency: () => number) {}

  reachable (at: number): boolean {
    return this.partition === undefined || at < this.partition.from || at >= this.partition.to
  }

  stoppedBy (at: number): boolean {
    return this.stopAt !== undefined && at >= this.stopAt
  }

  /** honest for the oracle: it answers, in time, with what it holds */
  get honest (): boolean {
    return this.kind === 'honest' || this.kind === 'slow'
  }

  delay (): number {
    return this.latency()
  }

  /** a put reaching this peer at `at`: did it acknowledge? */
  accept (name: string, record: Uint8Array, at: number): boolean {
    if (this.kind === 'lower') {
      const sequence = sequenceOf(record)
      if (this.store.get(name) === undefined && sequence !== undefined) this.store.set(name, { record, sequence, since: at })
      return true
    }
    if (!this.honest) return true // liars acknowledge and keep nothing
    return this.store.guardedSet(name, record, at) // false: LowerSequenceError
  }

  /** its answer to GET_VALUE for a name */
  answer (name: string, lies: Lies): Uint8Array | undefined {
    switch (this.kind) {
      case 'bad-sig': return lies.forged(name)
      case 'wrong-key': return lies.wrongKey(name)
      case 'garbage': return lies.garbage()
      case 'expired': return lies.expired(name) ?? this.store.get(name)?.record
      default: return this.store.get(name)?.record
    }
  }
}

/** the sequence of a record's bytes, if it parses */
export function sequenceOf (record: Uint8Array): bigint | undefined {
  try {
    return decodeEntry(record).sequence
  } catch {
    return undefined // garbage: not an IPNS record
  }
}

const nameOf = (key: Uint8Array): string => nameFromRoutingKey(key).format('base36')

/** One request to one peer: when it ends and with what. */
interface Outcome { at: number, value: Uint8Array | undefined, ok: boolean }

export interface SimDhtLog {
  gets: Array<{ name: string, at: number, want: number }>
  puts: Array<{ name: string, record: Uint8Array, at: number }>
  putTos: Array<{ name: string, record: Uint8Array, peers: string[], at: number }>
}

export class SimDhtPort implements DhtPort {
  /** this node's own DHT record store */
  readonly local = new RecordHolder()
  readonly log: SimDhtLog = { gets: [], puts: [], putTos: [] }
  /** timers this port has set and not yet fired or cleared */
  private readonly timers = new Set<number>()

  constructor (
    readonly peerId: string,
    readonly peers: SimPeer[],
    private readonly clock: SimulatedClock,
    private readonly rng: Rng,
    private readonly lies: Lies
  ) {}

  get openTimers (): number {
    return this.timers.size
  }

  multiaddrs (): string[] {
    return [`/ip4/127.0.0.1/tcp/4001/p2p/${this.peerId}`]
  }

  /** how one request to a peer sent now ends */
  private request (peer: SimPeer, respond: (p: SimPeer, at: number) => Uint8Array | undefined | boolean): { at: number, run: () => Outcome } {
    const now = this.clock.now()
    if (!peer.reachable(now) || peer.stoppedBy(now)) return { at: now + UNREACHABLE_MS, run: () => ({ at: now + UNREACHABLE_MS, value: undefined, ok: false }) }
    const at = now + peer.delay()
    if (peer.kind === 'silent' || peer.stoppedBy(at)) {
      return { at: now + PEER_TIMEOUT_MS, run: () => ({ at: now + PEER_TIMEOUT_MS, value: undefined, ok: false }) }
    }
    return {
      at,
      run: () => {
        const r = respond(peer, at)
        return typeof r === 'boolean' ? { at, value: undefined, ok: r } : { at, value: r, ok: true }
      }
    }
  }

  private later (at: number, fn: () => void): number {
    const id = this.clock.setTimer(at, () => { this.timers.delete(id); fn() })
    this.timers.add(id)
    return id
  }

  private cancel (ids: Iterable<number>): void {
    for (const id of ids) {
      this.clock.clearTimer(id)
      this.timers.delete(id)
    }
  }

  /** the order peers are asked in for one operation (a seeded shuffle) */
  private order (): SimPeer[] {
    const out = [...this.peers]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1)
      const t = out[i] as SimPeer
      out[i] = out[j] as SimPeer
      out[j] = t
    }
    return out
  }

  private storeLocal (name: string, record: Uint8Array): boolean {
    return this.local.guardedSet(name, record, this.clock.now())
  }

  /** send a PUT_VALUE to each of these peers; resolves with how many acknowledged */
  private async putMany (name: string, record: Uint8Array, targets: SimPeer[], o: DhtOpOptions, already: number): Promise<{ peers: number }> {
    if (o.signal.aborted) throw abortError(o.signal)
    return await new Promise((resolve, reject) => {
      let left = targets.length
      let acked = already
      const mine = new Set<number>()
      const onAbort = (): void => { this.cancel(mine); reject(abortError(o.signal)) }
      o.signal.addEventListener('abort', onAbort, { once: true })
      const done = (): void => {
        if (--left > 0) return
        o.signal.removeEventListener('abort', onAbort)
        resolve({ peers: acked })
      }
      if (left === 0) {
        left = 1
        done()
        return
      }
      for (const peer of targets) {
        const r = this.request(peer, (p, at) => p.accept(name, record, at))
        const id = this.later(r.at, () => {
          mine.delete(id)
          if (r.run().ok) acked++
          done()
        })
        mine.add(id)
      }
    })
  }

  async put (key: Uint8Array, value: Uint8Array, o: DhtOpOptions): Promise<{ peers: number }> {
    const name = nameOf(key)
    this.log.puts.push({ name, record: value, at: this.clock.now() })
    this.storeLocal(name, value)
    return await this.putMany(name, value, this.order(), o, 0)
  }

  async putTo (key: Uint8Array, value: Uint8Array, peers: string[], _now: number, o: DhtOpOptions): Promise<{ peers: number }> {
    const name = nameOf(key)
    this.log.putTos.push({ name, record: value, peers, at: this.clock.now() })
    const own = peers.includes(this.peerId) && this.storeLocal(name, value) ? 1 : 0
    return await this.putMany(name, value, this.peers.filter(p => peers.includes(p.id)), o, own)
  }

  get (key: Uint8Array, o: DhtOpOptions): AsyncIterable<DhtGetValue> {
    const name = nameOf(key)
    const want = Math.max(1, o.want ?? 16)
    this.log.gets.push({ name, at: this.clock.now(), want })
    return this.lookup(name, want, o.signal)
  }

  private async * lookup (name: string, want: number, signal: AbortSignal): AsyncGenerator<DhtGetValue> {
    const order = this.order()
    const answers: DhtGetValue[] = []
    const mine = new Set<number>()
    let next = 0
    let open = 0
    let wake: (() => void) | undefined
    const onAbort = (): void => { wake?.() }
    signal.addEventListener('abort', onAbort, { once: true })
    const ask = (): void => {
      while (open < want && next < order.length) {
        const peer = order[next++] as SimPeer
        open++
        const r = this.request(peer, p => p.answer(name, this.lies))
        const id = this.later(r.at, () => {
          mine.delete(id)
          open--
          const out = r.run()
          if (out.value !== undefined) answers.push({ value: out.value, from: peer.id })
          ask()
          wake?.()
        })
        mine.add(id)
      }
    }
    try {
      const own = this.local.get(name)
      if (own !== undefined) yield { value: own.record, from: this.peerId }
      ask()
      for (;;) {
        if (signal.aborted) throw abortError(signal)
        const a = answers.shift()
        if (a !== undefined) {
          yield a
          continue
        }
        if (open === 0 && next >= order.length) return
        await new Promise<void>(resolve => { wake = resolve })
        wake = undefined
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
      this.cancel(mine)
    }
  }

  async provide (_cid: string, o: DhtOpOptions): Promise<{ peers: number }> {
    if (o.signal.aborted) throw abortError(o.signal)
    return { peers: this.peers.length }
  }

  async * findProviders (_cid: string, o: DhtOpOptions): AsyncGenerator<DhtPeerInfo> {
    if (o.signal.aborted) throw abortError(o.signal)
    yield * [] // nobody provides anything in this DHT
  }

  async findPeer (peerId: string, o: DhtOpOptions): Promise<DhtPeerInfo> {
    if (o.signal.aborted) throw abortError(o.signal)
    if (!this.peers.some(p => p.id === peerId)) {
      const err = new Error(`peer ${peerId} not found`)
      err.name = 'NotFoundError'
      throw err
    }
    return { peerId, multiaddrs: [] }
  }

  async * closestPeers (_key: Uint8Array, o: DhtOpOptions): AsyncGenerator<DhtPeerInfo> {
    for (const p of this.peers) {
      if (o.signal.aborted) throw abortError(o.signal)
      yield { peerId: p.id, multiaddrs: [] }
    }
  }

  async dial (multiaddr: string, o: DhtOpOptions): Promise<{ peerId: string }> {
    if (o.signal.aborted) throw abortError(o.signal)
    return { peerId: multiaddr.split('/p2p/')[1] ?? '' }
  }

  connections (): DhtConnection[] {
    return this.peers.map(p => ({ peerId: p.id, remoteAddr: '/ip4/127.0.0.1/tcp/4002', direction: 'outbound' as const }))
  }

  async bootstrap (o: DhtOpOptions): Promise<{ connected: number, routingTableSize: number }> {
    if (o.signal.aborted) throw abortError(o.signal)
    return { connected: this.peers.length, routingTableSize: this.peers.length }
  }

  status (): DhtPortStatus {
    return { peerId: this.peerId, multiaddrs: this.multiaddrs(), connections: this.peers.length, routingTableSize: this.peers.length, mode: 'server' }
  }

  async stop (): Promise<void> {
    this.cancel([...this.timers])
  }
}
