/**
 * A 3-node TCP testnet whose third node has an HTTP router: a Routing V1
 * server on 127.0.0.1 (routing-v1-server.ts) that knows some of the DHT's
 * peers and some others. Node 0 provides `cid` on the DHT; the router names
 * node 0 again (under another address) and a stranger as providers of it,
 * and knows node 1 under one address the DHT does not have and one it does.
 * For the routing.* tests, through the bus and through the kubo RPC face.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createTestnet } from '../../src/node/create-testnet.js'
import { startRoutingV1Server } from './routing-v1-server.js'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { Testnet } from '../../src/node/create-testnet.js'
import type { PeerJson, RoutingV1Server } from './routing-v1-server.js'

export interface RoutedTestnet {
  net: Testnet
  srv: RoutingV1Server
  n: SwarmNode[]
  /** the provider only the router knows */
  other: PeerJson
  /** node 1's address only the router knows */
  routerOnlyAddr: string
  stop: () => Promise<void>
}

/** a peer record of a fresh peer id, at `addr` */
export async function stranger (addr: string): Promise<PeerJson> {
  return { Schema: 'peer', ID: peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString(), Addrs: [addr], Protocols: ['transport-bitswap'] }
}

/** `port` is the first of three made-up ports the router's records use */
export async function startRoutedTestnet (o: { seed: number, cid: string, port: number }): Promise<RoutedTestnet> {
  const srv = await startRoutingV1Server()
  const net = await createTestnet({
    nodes: 3,
    transport: 'tcp',
    seed: o.seed,
    node: { verifier: 'inline', republish: false },
    nodeAt: async i => i === 2 ? { routers: { endpoints: [srv.url], retries: 0 } } : {}
  })
  const n = net.nodes
  const provider = n[0] as SwarmNode
  await provider.ask({ type: 'dht.provide', cid: o.cid }, { timeoutMs: 10_000 })
  const other = await stranger(`/ip4/127.0.0.1/tcp/${o.port}`)
  srv.providers.set(o.cid, [{ Schema: 'peer', ID: provider.peerId, Addrs: [`/ip4/127.0.0.1/tcp/${o.port + 1}`], Protocols: ['transport-bitswap'] }, other])
  const n1 = n[1] as SwarmNode
  const routerOnlyAddr = `/ip4/127.0.0.1/tcp/${o.port + 2}`
  srv.peers.set(n1.peerId, [{ Schema: 'peer', ID: n1.peerId, Addrs: [routerOnlyAddr, n1.multiaddrs[0]?.split('/p2p/')[0] ?? ''] }])
  return { net, srv, n, other, routerOnlyAddr, stop: async () => { await net.stop(); await srv.close() } }
}
