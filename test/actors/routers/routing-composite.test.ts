/**
 * routing.findProviders and routing.findPeer: the DHT and the HTTP routers
 * at once, on a 3-node TCP testnet whose third node has a Routing V1 server
 * (real HTTP, the Helia client) that knows some of the same peers and some
 * others: each provider once, each address of a peer once, a peer nobody
 * knows a NotFoundError, and the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { startRoutingV1Server } from '../../helpers/routing-v1-server.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { Testnet } from '../../../src/node/create-testnet.js'
import type { PeerJson, RoutingV1Server } from '../../helpers/routing-v1-server.js'
import type { RoutedPeer } from '../../../src/messages/routers.js'

const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

async function collect<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

async function stranger (addr: string): Promise<PeerJson> {
  return { Schema: 'peer', ID: peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString(), Addrs: [addr], Protocols: ['transport-bitswap'] }
}

describe('routing.*: providers and peers from the DHT and every router, de-duplicated', () => {
  let net: Testnet
  let srv: RoutingV1Server
  let n: SwarmNode[]
  let other: PeerJson

  beforeAll(async () => {
    srv = await startRoutingV1Server()
    net = await createTestnet({
      nodes: 3,
      transport: 'tcp',
      seed: 79_000,
      node: { verifier: 'inline', republish: false },
      nodeAt: async i => i === 2 ? { routers: { endpoints: [srv.url], retries: 0 } } : {}
    })
    n = net.nodes
    const provider = n[0] as SwarmNode
    await provider.ask({ type: 'dht.provide', cid: CID_A }, { timeoutMs: 10_000 })
    other = await stranger('/ip4/127.0.0.1/tcp/4100')
    // the router knows the DHT's provider too (under another address), and one more
    srv.providers.set(CID_A, [{ Schema: 'peer', ID: provider.peerId, Addrs: ['/ip4/127.0.0.1/tcp/4101'], Protocols: ['transport-bitswap'] }, other])
    // and node 1 under an address the DHT does not have, with one it does
    const n1 = n[1] as SwarmNode
    srv.peers.set(n1.peerId, [{ Schema: 'peer', ID: n1.peerId, Addrs: ['/ip4/127.0.0.1/tcp/4102', n1.multiaddrs[0]?.split('/p2p/')[0] ?? ''] }])
  }, 40_000)

  afterAll(async () => {
    await net?.stop()
    await srv?.close()
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
