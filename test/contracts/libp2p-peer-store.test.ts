/**
 * Contract: peer-info-cache.ts hands kad-dht a proxy of the components libp2p
 * gives its service factory, with `peerStore` swapped for a cached one, and
 * listens for 'peer:update' on `components.events`. That holds while libp2p
 * passes service factories a components object with `peerStore` and
 * `events`, kad-dht reads the peers it names in answers through
 * `components.peerStore` (get / getInfo) rather than a reference taken
 * elsewhere, and libp2p announces peer changes as 'peer:update' there.
 * Written against libp2p 3.3.11 and @libp2p/kad-dht 16.4.5.
 */
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { startNode, stopNodes, until, writtenAgainst } from './support.js'
import type { CachedPeerStore } from '../../src/actors/swarm/tweaks/peer-info-cache.js'

afterEach(stopNodes)

describe('contract: kad-dht reads peers through the components it is given (peer-info-cache.ts)', () => {
  it('libp2p is 3.3.11, @libp2p/kad-dht 16.4.5', () => {
    writtenAgainst('libp2p', '3.3.11')
    writtenAgainst('@libp2p/kad-dht', '16.4.5')
  })

  it('a server answering FIND_NODE reads the peers it names through the swapped peerStore; peer:update reaches it', async () => {
    const stores: CachedPeerStore[] = []
    const server = await startNode('ps', 0, { onPeerInfoCache: s => { stores.push(s) } })
    const store = stores[0]
    expect(store, 'libp2p called the kad-dht factory with its components').toBeDefined()
    if (store === undefined) return
    const clients = await Promise.all([1, 2, 3, 4].map(async i => await startNode('ps', i, { peerInfoCache: false })))
    for (const c of clients) await c.dial(server.getMultiaddrs())
    const size = (n: typeof server): number => (n.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
    expect(await until(() => size(server) === 4)).toBe(true)
    // identify filled in the clients' addresses: libp2p announced it on components.events
    expect(await until(() => store.cacheStats().invalidations > 0), "libp2p's 'peer:update' reached the cache").toBe(true)

    const before = store.cacheStats()
    const asker = clients[0]
    if (asker === undefined) return
    for (let i = 0; i < 3; i++) {
      const kadKey = new Uint8Array(createHash('sha256').update(`contract ${i}`).digest())
      for await (const _ of asker.services.dht.getClosestPeers(kadKey, { signal: AbortSignal.timeout(15_000) })) { /* events */ }
    }
    const after = store.cacheStats()
    // each answer names the server's other peers, read through the cached store
    expect(after.hits + after.misses - before.hits - before.misses, 'kad-dht read the peers it answered with through components.peerStore').toBeGreaterThanOrEqual(3)
  }, 60_000)
})
