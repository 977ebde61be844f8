/**
 * peer-info-cache: kad-dht's peer reads served from a bounded, short-lived
 * cache, dropped on peer:update and on writes. A fake store counts the reads
 * that reach it; the last test runs real kad-dht servers through the port.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { SimulatedClock } from '../../../../src/actors/runtime/clock.js'
import { cachedPeerStore } from '../../../../src/actors/swarm/tweaks/peer-info-cache.js'
import { startPort, stopAll } from '../../../helpers/port-testnet.js'
import type { CachedPeerStore } from '../../../../src/actors/swarm/tweaks/peer-info-cache.js'
import type { DhtPort } from '../../../../src/actors/swarm/dht-port.js'
import type { Libp2pEvents, Peer, PeerId, PeerStore, TypedEventTarget } from '@libp2p/interface'

const A = peerIdFromString('12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9pP2EQhsHBPWX')
const B = peerIdFromString('12D3KooWGdhGxXKxXR5UkbE4H8hF1x4QYnnnpXdC9sRRMiBeAoJe')

function fakeStore (): { store: PeerStore, reads: () => number, setAddr: (id: PeerId, addr: string) => void } {
  const addrs = new Map<string, string>()
  let reads = 0
  const get = async (id: PeerId): Promise<Peer> => {
    reads++
    const addr = addrs.get(id.toString())
    if (addr === undefined) {
      const err = new Error('not found')
      err.name = 'NotFoundError'
      throw err
    }
    return { id, addresses: [{ multiaddr: multiaddr(addr), isCertified: false }], protocols: [], metadata: new Map(), tags: new Map() }
  }
  const store = {
    get,
    getInfo: async () => { throw new Error('the cache must not call the store\'s getInfo') },
    merge: async (id: PeerId, data: { multiaddrs?: Array<{ toString: () => string }> }) => {
      const first = data.multiaddrs?.[0]
      if (first !== undefined) addrs.set(id.toString(), first.toString())
      return await get(id)
    },
    delete: async (id: PeerId) => { addrs.delete(id.toString()) },
    all: async () => []
  } as unknown as PeerStore
  return { store, reads: () => reads, setAddr: (id, addr) => { addrs.set(id.toString(), addr) } }
}

const events = (): TypedEventTarget<Libp2pEvents> => new EventTarget() as unknown as TypedEventTarget<Libp2pEvents>
const updated = (target: TypedEventTarget<Libp2pEvents>, id: PeerId): void => {
  (target as unknown as EventTarget).dispatchEvent(new CustomEvent('peer:update', { detail: { peer: { id } } }))
}

describe('cachedPeerStore', () => {
  it('serves repeated reads of a peer from the cache, get and getInfo alike', async () => {
    const f = fakeStore()
    f.setAddr(A, '/ip4/127.0.0.1/tcp/1')
    const cached = cachedPeerStore(f.store, events(), new SimulatedClock(0))
    for (let i = 0; i < 10; i++) {
      const info = await cached.getInfo(A)
      expect(info.multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/1'])
      expect((await cached.get(A)).id.equals(A)).toBe(true)
    }
    expect(f.reads()).toBe(1)
    expect(cached.cacheStats()).toMatchObject({ hits: 19, misses: 1, size: 1 })
  })

  it('reads the store again once an entry is older than ttlMs (simulated clock)', async () => {
    const f = fakeStore()
    f.setAddr(A, '/ip4/127.0.0.1/tcp/1')
    const clock = new SimulatedClock(1_000)
    const cached = cachedPeerStore(f.store, events(), clock, { ttlMs: 500 })
    await cached.get(A)
    clock.advance(499)
    await cached.get(A)
    expect(f.reads()).toBe(1)
    f.setAddr(A, '/ip4/127.0.0.1/tcp/2')
    clock.advance(2)
    expect((await cached.getInfo(A)).multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/2'])
    expect(f.reads()).toBe(2)
  })

  it('drops a peer on peer:update, and after a write made through it (merge, delete)', async () => {
    const f = fakeStore()
    f.setAddr(A, '/ip4/127.0.0.1/tcp/1')
    f.setAddr(B, '/ip4/127.0.0.1/tcp/9')
    const bus = events()
    const cached = cachedPeerStore(f.store, bus, new SimulatedClock(0))
    await cached.get(A)
    await cached.get(B)
    // someone else (identify, the connection manager) changes A in the store
    f.setAddr(A, '/ip4/127.0.0.1/tcp/3')
    updated(bus, A)
    expect((await cached.getInfo(A)).multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/3'])
    await cached.getInfo(B)
    expect(f.reads()).toBe(3) // A twice, B once
    await cached.merge(A, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4')] })
    expect((await cached.getInfo(A)).multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/4'])
    await cached.delete(B)
    await expect(cached.get(B)).rejects.toMatchObject({ name: 'NotFoundError' })
  })

  it('does not cache a read that an invalidation overtook', async () => {
    const f = fakeStore()
    f.setAddr(A, '/ip4/127.0.0.1/tcp/1')
    const bus = events()
    const cached = cachedPeerStore(f.store, bus, new SimulatedClock(0))
    const slow = cached.get(A) // reads the old address …
    f.setAddr(A, '/ip4/127.0.0.1/tcp/5')
    updated(bus, A) // … while the store changes
    await slow
    expect((await cached.getInfo(A)).multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/5'])
  })

  it('never caches a miss, and holds at most maxPeers', async () => {
    const f = fakeStore()
    const cached = cachedPeerStore(f.store, events(), new SimulatedClock(0), { maxPeers: 1 })
    await expect(cached.get(A)).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(cached.get(A)).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(f.reads()).toBe(2)
    f.setAddr(A, '/ip4/127.0.0.1/tcp/1')
    f.setAddr(B, '/ip4/127.0.0.1/tcp/2')
    await cached.get(A)
    await cached.get(B)
    expect(cached.cacheStats().size).toBe(1)
    expect(() => cachedPeerStore(f.store, events(), new SimulatedClock(0), { maxPeers: 0 })).toThrow(RangeError)
  })
})

describe('kad-dht through the port reads closer peers from the cache', () => {
  const ports: DhtPort[] = []
  afterEach(async () => { await stopAll(ports.splice(0)) })

  const NS = 'cachetest'
  const net = { nodes: 5, label: 'peer-info-cache', validators: { [NS]: () => {} }, selectors: { [NS]: () => 0 } }

  it('a server answering GET_VALUE again and again reads each peer it names from the store about once', async () => {
    const stores: CachedPeerStore[] = []
    const server = await startPort(net, 0, { onPeerInfoCache: (s) => { stores.push(s) } })
    ports.push(server)
    const addr = server.multiaddrs()[0] ?? ''
    for (let i = 1; i < 5; i++) ports.push(await startPort(net, i, { bootstrap: [addr] }))
    for (const p of ports.slice(1)) await p.bootstrap({ signal: AbortSignal.timeout(15_000) })
    const store = stores[0]
    if (store === undefined) throw new Error('the port did not hand over its cached peer store')
    const client = ports[1] as DhtPort
    const before = store.cacheStats()
    for (let i = 0; i < 10; i++) {
      // nobody holds the key: every peer asked answers with the peers it knows
      for await (const _ of client.get(new TextEncoder().encode(`/${NS}/absent-${i}`), { signal: AbortSignal.timeout(15_000), want: 1 })) { /* none */ }
    }
    const after = store.cacheStats()
    // 10 gets, each answered by the server with its ≥ 3 other peers: ≥ 30 reads
    expect(after.hits + after.misses - before.hits - before.misses).toBeGreaterThanOrEqual(30)
    expect(after.hits - before.hits).toBeGreaterThan(3 * (after.misses - before.misses))
  }, 60_000)
})
