/**
 * Contract: routing-table.ts reads kad-dht's routing table, which the public
 * `KadDHT` type does not expose: `dht.routingTable` with a `size` getter,
 * `closestPeers(kadId, { count })` returning PeerIds, and 'peer:add' /
 * 'peer:remove' events. Written against @libp2p/kad-dht 16.4.5.
 */
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { routingTableOf } from '../../src/actors/swarm/libp2p/routing-table.js'
import { startNode, stopNodes, until, writtenAgainst } from './support.js'

afterEach(stopNodes)

describe('contract: kad-dht routing table (routing-table.ts)', () => {
  it('@libp2p/kad-dht is 16.4.5', () => { writtenAgainst('@libp2p/kad-dht', '16.4.5') })

  it('is dht.routingTable, counts and finds the peers kad-dht adds, and announces them', async () => {
    const a = await startNode('rt', 0)
    const b = await startNode('rt', 1)
    const c = await startNode('rt', 2)
    const table = routingTableOf(a.services.dht)
    expect(table.size).toBe(0)
    let added = 0
    const onAdd = (): void => { added++ }
    table.addEventListener('peer:add', onAdd)
    for (const peer of [b, c]) await a.dial(peer.getMultiaddrs())
    expect(await until(() => table.size === 2), 'kad-dht added both connected DHT servers to dht.routingTable').toBe(true)
    expect(added).toBe(2)
    const kadId = new Uint8Array(createHash('sha256').update('any key').digest())
    const closest = table.closestPeers(kadId, { count: 5 })
    expect(closest.map(p => p.toString()).sort()).toEqual([b.peerId.toString(), c.peerId.toString()].sort())
    expect(table.closestPeers(kadId, { count: 1 })).toHaveLength(1)
    // the listener can be taken off again
    table.removeEventListener('peer:add', onAdd)
    const d = await startNode('rt', 3)
    await a.dial(d.getMultiaddrs())
    expect(await until(() => table.size === 3)).toBe(true)
    expect(added).toBe(2)
  }, 60_000)
})
