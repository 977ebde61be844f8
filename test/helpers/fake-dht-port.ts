/**
 * A scriptable DhtPort for swarm-actor unit tests: no network. Every call is
 * logged with its arguments and the AbortSignal the actor handed over; each
 * operation's behaviour can be replaced per test (hang until aborted, hang
 * for ever, throw, yield scripted items). Defaults answer at once.
 */
import { abortError as portAbortError } from '../../src/actors/swarm/port-errors.js'
import type { Failure } from '../../src/messages/failure.js'
import type {
  DhtConnection, DhtGetValue, DhtOpOptions, DhtPeerInfo, DhtPort, DhtPortStatus, DhtProgress
} from '../../src/actors/swarm/dht-port.js'

/** Valid Ed25519 peer ids (derived from fixed seeds) and a valid CID, for commands that are validated. */
export const PEER_A = '12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5'
export const PEER_B = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
export const PEER_C = '12D3KooWRndVhVZPCiQwHBBBdg769GyrPUW13zxwqQyf9r3ANaba'
export const PEER_D = '12D3KooWPT98FXMfDQYavZm66EeVjTqP9Nnehn1gyaydqV8L8BQw'
export const CID_1 = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

export type FakeMethod = 'put' | 'putTo' | 'get' | 'provide' | 'findProviders' | 'findPeer' | 'closestPeers' | 'dial' | 'bootstrap'

export interface FakeCall {
  method: FakeMethod
  args: unknown[]
  signal: AbortSignal
  onProgress: ((e: DhtProgress) => void) | undefined
}

export interface FakeImpl {
  put?: (key: Uint8Array, value: Uint8Array, o: DhtOpOptions) => Promise<{ peers: number }>
  putTo?: (key: Uint8Array, value: Uint8Array, peers: string[], now: number, o: DhtOpOptions) => Promise<{ peers: number }>
  get?: (key: Uint8Array, o: DhtOpOptions) => AsyncIterable<DhtGetValue>
  provide?: (cid: string, o: DhtOpOptions) => Promise<{ peers: number }>
  findProviders?: (cid: string, o: DhtOpOptions) => AsyncIterable<DhtPeerInfo>
  findPeer?: (peerId: string, o: DhtOpOptions) => Promise<DhtPeerInfo>
  closestPeers?: (key: Uint8Array, o: DhtOpOptions) => AsyncIterable<DhtPeerInfo>
  dial?: (multiaddr: string, o: DhtOpOptions) => Promise<{ peerId: string }>
  bootstrap?: (o: DhtOpOptions) => Promise<{ connected: number, routingTableSize: number, failed?: Array<{ addr: string, error: string }> }>
  connections?: () => DhtConnection[]
  status?: () => DhtPortStatus
}

/** The real port's AbortError (port-errors.ts): what every DhtPort rejects with once its signal fired. */
export function abortError (signal: AbortSignal): Error {
  return portAbortError(signal)
}

/** A promise that never settles, whatever happens (a port that ignores its signal). */
export function never<T> (): Promise<T> {
  return new Promise<T>(() => {})
}

/** A promise that settles only when the signal fires, rejecting with an AbortError (a well-behaved port call that cannot complete). */
export function untilAborted<T> (signal: AbortSignal): Promise<T> {
  return new Promise<T>((_resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal))
      return
    }
    signal.addEventListener('abort', () => { reject(abortError(signal)) }, { once: true })
  })
}

/**
 * Yields the items, then (hang) waits until the signal fires, or ends.
 * Stops with an AbortError as soon as the signal has fired.
 */
export async function * itemsThen<T> (items: T[], signal: AbortSignal, then: 'end' | 'hang' = 'end'): AsyncGenerator<T> {
  for (const item of items) {
    if (signal.aborted) throw abortError(signal)
    await Promise.resolve()
    yield item
  }
  if (then === 'hang') await untilAborted<void>(signal)
}

export class FakeDhtPort implements DhtPort {
  readonly calls: FakeCall[] = []
  /** how often stop() was called */
  stops = 0
  /** how often status() / connections() were read */
  reads = 0
  impl: FakeImpl
  routingTableSize = 3

  constructor (readonly peerId: string = PEER_A, impl: FakeImpl = {}, private readonly addrs: string[] = ['/ip4/127.0.0.1/tcp/4001']) {
    this.impl = impl
  }

  /** Calls to one method, in order. */
  callsTo (method: FakeMethod): FakeCall[] {
    return this.calls.filter(c => c.method === method)
  }

  get lastCall (): FakeCall | undefined {
    return this.calls.at(-1)
  }

  private log (method: FakeMethod, args: unknown[], o: DhtOpOptions): void {
    this.calls.push({ method, args, signal: o.signal, onProgress: o.onProgress })
  }

  multiaddrs (): string[] {
    return this.addrs.map(a => `${a}/p2p/${this.peerId}`)
  }

  put (key: Uint8Array, value: Uint8Array, o: DhtOpOptions): Promise<{ peers: number }> {
    this.log('put', [key, value], o)
    return this.impl.put?.(key, value, o) ?? Promise.resolve({ peers: 3 })
  }

  putTo (key: Uint8Array, value: Uint8Array, peers: string[], now: number, o: DhtOpOptions): Promise<{ peers: number }> {
    this.log('putTo', [key, value, peers], o)
    return this.impl.putTo?.(key, value, peers, now, o) ?? Promise.resolve({ peers: peers.length })
  }

  get (key: Uint8Array, o: DhtOpOptions): AsyncIterable<DhtGetValue> {
    this.log('get', [key], o)
    return this.impl.get?.(key, o) ?? itemsThen([{ value: new Uint8Array([1]), from: PEER_B }], o.signal)
  }

  provide (cid: string, o: DhtOpOptions): Promise<{ peers: number }> {
    this.log('provide', [cid], o)
    return this.impl.provide?.(cid, o) ?? Promise.resolve({ peers: 3 })
  }

  findProviders (cid: string, o: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    this.log('findProviders', [cid], o)
    return this.impl.findProviders?.(cid, o) ?? itemsThen([{ peerId: PEER_B, multiaddrs: [] }], o.signal)
  }

  findPeer (peerId: string, o: DhtOpOptions): Promise<DhtPeerInfo> {
    this.log('findPeer', [peerId], o)
    return this.impl.findPeer?.(peerId, o) ?? Promise.resolve({ peerId, multiaddrs: ['/ip4/127.0.0.1/tcp/4002'] })
  }

  closestPeers (key: Uint8Array, o: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    this.log('closestPeers', [key], o)
    return this.impl.closestPeers?.(key, o) ?? itemsThen([{ peerId: PEER_B, multiaddrs: [] }, { peerId: PEER_C, multiaddrs: [] }], o.signal)
  }

  dial (multiaddr: string, o: DhtOpOptions): Promise<{ peerId: string }> {
    this.log('dial', [multiaddr], o)
    return this.impl.dial?.(multiaddr, o) ?? Promise.resolve({ peerId: multiaddr.split('/p2p/')[1] ?? '' })
  }

  connections (): DhtConnection[] {
    this.reads++
    return this.impl.connections?.() ?? [{ peerId: PEER_B, remoteAddr: '/ip4/127.0.0.1/tcp/4002', direction: 'outbound' }]
  }

  bootstrap (o: DhtOpOptions): Promise<{ connected: number, routingTableSize: number, failed?: Array<{ addr: string, error: string }> }> {
    this.log('bootstrap', [], o)
    return this.impl.bootstrap?.(o) ?? Promise.resolve({ connected: 1, routingTableSize: this.routingTableSize })
  }

  status (): DhtPortStatus {
    this.reads++
    return this.impl.status?.() ?? {
      peerId: this.peerId,
      multiaddrs: this.multiaddrs(),
      connections: 1,
      routingTableSize: this.routingTableSize,
      mode: 'server'
    }
  }

  /** the onFailure listeners of the port (the swarm actor subscribes one) */
  readonly failureListeners = new Set<(f: Failure) => void>()

  onFailure (fn: (f: Failure) => void): () => void {
    this.failureListeners.add(fn)
    return () => { this.failureListeners.delete(fn) }
  }

  /** the port fails for good, as a network thread that exited does: every listener is told */
  die (f: Failure): void {
    const listeners = [...this.failureListeners]
    this.failureListeners.clear()
    for (const fn of listeners) fn(f)
  }

  async stop (): Promise<void> {
    this.stops++
  }
}
