/**
 * A read cache in front of libp2p's peer store, for kad-dht only.
 *
 * Why: a DHT server answers every GET_VALUE, FIND_NODE and GET_PROVIDERS with
 * the k = 20 closest peers it knows, and kad-dht reads each of them from the
 * peer store one after the other. js-libp2p's persistent peer store takes a
 * per-peer mortice lock (created and finalized for every read), reads the
 * datastore and decodes a protobuf on each read: ≈ 170 µs of CPU per read, so
 * ≈ 3.5 ms per answer, most of what answering costs (docs/libp2p-notes.md,
 * "What a DHT answer costs"). The same 20 peers are read again for every
 * request.
 *
 * What: `get` and `getInfo` are served from a bounded LRU of peers read in the
 * last `ttlMs`; everything else goes to the peer store untouched. An entry is
 * dropped when the peer store announces a change to that peer (`peer:update`),
 * when a write goes through this wrapper, and when it is older than `ttlMs`,
 * which bounds how stale an answer can be (addresses and tags that expired in
 * the store, or a delete, which libp2p does not announce). A read that started
 * before an invalidation is not cached.
 *
 * Only kad-dht sees the cache (withPeerInfoCache hands it kad-dht's
 * components with the peer store swapped); the rest of libp2p reads the store
 * itself.
 */
import { LRUCache } from 'lru-cache'
import type { Clock } from '../../runtime/clock.js'
import type { PeerInfoCacheStats } from '../../../messages/swarm.js'
import type { AbortOptions, Libp2pEvents, Peer, PeerId, PeerInfo, PeerStore, TypedEventTarget } from '@libp2p/interface'

export interface PeerInfoCacheLimits {
  /** peers kept; default 2,048 (a routing table holds k = 20 per bucket) */
  maxPeers?: number
  /** how long a read is served from the cache; default 5,000 ms */
  ttlMs?: number
}

export const DEFAULT_PEER_INFO_CACHE: Required<PeerInfoCacheLimits> = { maxPeers: 2_048, ttlMs: 5_000 }

/** A PeerStore whose reads go through the cache, plus counters for tests and status. */
export interface CachedPeerStore extends PeerStore {
  cacheStats: () => PeerInfoCacheStats
}

const WRITES = new Set(['save', 'patch', 'merge', 'delete'])

export function cachedPeerStore (store: PeerStore, events: TypedEventTarget<Libp2pEvents>, clock: Pick<Clock, 'now'>, limits: PeerInfoCacheLimits = {}): CachedPeerStore {
  const { maxPeers, ttlMs } = { ...DEFAULT_PEER_INFO_CACHE, ...limits }
  if (!(maxPeers >= 1) || !(ttlMs > 0)) throw new RangeError('peer info cache: maxPeers must be ≥ 1 and ttlMs > 0')
  const cache = new LRUCache<string, Peer>({ max: maxPeers, ttl: ttlMs, ttlResolution: 0, perf: { now: () => clock.now() } })
  // bumped on every invalidation of a peer, so a read that raced one is not cached
  const generation = new LRUCache<string, number>({ max: maxPeers })
  const stats = { hits: 0, misses: 0, invalidations: 0 }

  const invalidate = (id: PeerId): void => {
    const key = id.toString()
    stats.invalidations++
    cache.delete(key)
    generation.set(key, (generation.get(key) ?? 0) + 1)
  }
  events.addEventListener('peer:update', (evt) => { invalidate(evt.detail.peer.id) })

  const get = async (id: PeerId, options?: AbortOptions): Promise<Peer> => {
    const key = id.toString()
    const hit = cache.get(key)
    if (hit !== undefined) {
      stats.hits++
      return hit
    }
    stats.misses++
    const before = generation.get(key) ?? 0
    const peer = await store.get(id, options)
    if ((generation.get(key) ?? 0) === before) cache.set(key, peer)
    return peer
  }
  const getInfo = async (id: PeerId, options?: AbortOptions): Promise<PeerInfo> => {
    const peer = await get(id, options)
    return { id: peer.id, multiaddrs: peer.addresses.map(({ multiaddr }) => multiaddr) }
  }
  const cacheStats = (): PeerInfoCacheStats => ({ ...stats, size: cache.size })

  return new Proxy(store, {
    get (target, prop, receiver) {
      if (prop === 'get') return get
      if (prop === 'getInfo') return getInfo
      if (prop === 'cacheStats') return cacheStats
      const value: unknown = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      if (typeof prop === 'string' && WRITES.has(prop)) {
        return async (id: PeerId, ...rest: unknown[]): Promise<unknown> => {
          try {
            return await (value as (...args: unknown[]) => Promise<unknown>).call(target, id, ...rest)
          } finally {
            invalidate(id)
          }
        }
      }
      return (value as (...args: unknown[]) => unknown).bind(target)
    }
  }) as CachedPeerStore
}

/**
 * Wraps a libp2p service factory (kad-dht's) so the service reads peers
 * through a cachedPeerStore; `onStore` receives it (for status and tests).
 */
export function withPeerInfoCache<C extends { peerStore: PeerStore, events: TypedEventTarget<Libp2pEvents> }, S> (
  factory: (components: C) => S,
  clock: Pick<Clock, 'now'>,
  limits: PeerInfoCacheLimits = {},
  onStore?: (store: CachedPeerStore) => void
): (components: C) => S {
  return (components) => {
    const peerStore = cachedPeerStore(components.peerStore, components.events, clock, limits)
    onStore?.(peerStore)
    return factory(new Proxy(components, {
      get: (target, prop, receiver) => prop === 'peerStore' ? peerStore : Reflect.get(target, prop, receiver)
    }))
  }
}
