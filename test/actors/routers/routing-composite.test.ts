/**
 * routing.findProviders and routing.findPeer: the DHT and the HTTP routers
 * at once, on a 3-node TCP testnet whose third node has a Routing V1 server
 * (real HTTP, the Helia client) that knows some of the same peers and some
 * others: each provider once, each address of a peer once, a peer nobody
 * knows a NotFoundError, and the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRoutedTestnet, stranger } from '../../helpers/routed-testnet.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { RoutedTestnet } from '../../helpers/routed-testnet.js'
import type { PeerJson, RoutingV1Server } from '../../helpers/routing-v1-server.js'
import type { RoutedPeer } from '../../../src/messages/routers.js'

const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

async function collect<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

describe('routing.*: providers and peers from the DHT and every router, de-duplicated', () => {
  let t: RoutedTestnet
  let srv: RoutingV1Server
  let n: SwarmNode[]
  let other: PeerJson

  beforeAll(async () => {
    t = await startRoutedTestnet({ seed: 79_000, cid: CID_A, port: 4100 })
    ;({ srv, n, other } = t)
  }, 40_000)

  afterAll(async () => {
    await t?.stop()
  }, 20_000)

  it('findProviders: each provider once, from whichever source named it first', async () => {
    const resolver = n[2] as SwarmNode
    const found = await collect(resolver.stream({ type: 'routing.findProviders', cid: CID_A }, { timeoutMs: 10_000 }))
    expect(found.map(p => p.peerId).sort()).toEqual([(n[0] as SwarmNode).peerId, other.ID].sort())
    expect(found.find(p => p.peerId === other.ID)).toMatchObject({ from: srv.url, multiaddrs: ['/ip4/127.0.0.1/tcp/4100'], protocols: ['transport-bitswap'] })
    expect(['dht', srv.url]).toContain(found.find(p => p.peerId === (n[0] as SwarmNode).peerId)?.from)
    // both sources were asked
    expect(srv.requests.some(r => r.path.startsWith('/routing/v1/providers/'))).toBe(true)
    expect(await collect(resolver.stream({ type: 'routing.findProviders', cid: CID_A, limit: 1 }, { timeoutMs: 10_000 }))).toHaveLength(1)
  })

  it('findPeer: every address once across the DHT and the router; a peer nobody knows is not found', async () => {
    const resolver = n[2] as SwarmNode
    const n1 = n[1] as SwarmNode
    const items: RoutedPeer[] = await collect(resolver.stream({ type: 'routing.findPeer', peerId: n1.peerId }, { timeoutMs: 10_000 }))
    const addrs = items.flatMap(i => i.multiaddrs)
    expect(new Set(addrs).size).toBe(addrs.length)
    expect(addrs).toContain('/ip4/127.0.0.1/tcp/4102')
    expect(addrs).toContain(n1.multiaddrs[0]?.split('/p2p/')[0])
    expect(items.every(i => i.peerId === n1.peerId)).toBe(true)
    expect(items.map(i => i.from).sort()).toEqual(['dht', srv.url].sort())

    const nobody = (await stranger('/ip4/127.0.0.1/tcp/4103')).ID
    await expect(collect(resolver.stream({ type: 'routing.findPeer', peerId: nobody }, { timeoutMs: 10_000 }))).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(collect(resolver.stream({ type: 'routing.findPeer', peerId: 'not-a-peer' }, { timeoutMs: 10_000 }))).rejects.toMatchObject({ name: 'InvalidCommandError' })
  })
})
