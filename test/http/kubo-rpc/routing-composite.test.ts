/**
 * kubo RPC routing/findprovs and routing/findpeer on a node with an HTTP
 * router: answered through the composite routing commands (the DHT and the
 * router at once, de-duplicated), streamed as kubo's NDJSON query events, and
 * read with kubo-rpc-client on loopback. A 3-node TCP testnet; the third
 * node's router (a Routing V1 server on 127.0.0.1) knows a provider and a
 * peer address the DHT does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CID } from 'multiformats/cid'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { startRoutedTestnet } from '../../helpers/routed-testnet.js'
import { all, post, startFace } from './support.js'
import type { Face } from './support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { RoutedTestnet } from '../../helpers/routed-testnet.js'
import type { PeerJson, RoutingV1Server } from '../../helpers/routing-v1-server.js'

const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

describe('kubo RPC routing/findprovs and routing/findpeer through the composite router', () => {
  let t: RoutedTestnet
  let srv: RoutingV1Server
  let n: SwarmNode[]
  let face: Face
  let plain: Face
  let other: PeerJson

  beforeAll(async () => {
    t = await startRoutedTestnet({ seed: 79_500, cid: CID_A, port: 4200 })
    ;({ srv, n, other } = t)
    face = await startFace(n[2] as SwarmNode)
    plain = await startFace(n[1] as SwarmNode)
  }, 40_000)

  afterAll(async () => {
    await face?.close()
    await plain?.close()
    await t?.stop()
  }, 20_000)

  it('findprovs: the DHT\'s provider and the router\'s, each once, as Provider events', async () => {
    const events = await all(face.client.routing.findProvs(CID.parse(CID_A), { numProviders: 10 }))
    const providers = events.flatMap(e => e.name === 'PROVIDER' ? e.providers : [])
    expect(providers.map(p => p.id.toString()).sort()).toEqual([(n[0] as SwarmNode).peerId, other.ID].sort())
    expect(providers.find(p => p.id.toString() === other.ID)?.multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/4200'])
    expect(srv.requests.some(r => r.path === `/routing/v1/providers/${CID_A}`)).toBe(true)
    // kubo's NDJSON: one Type 4 event per line, Addrs always an array
    const raw = await post(face, 'routing/findprovs', [['arg', CID_A], ['num-providers', '1']])
    const lines = (await raw.text()).trim().split('\n').map(l => JSON.parse(l) as { Type: number, Responses: Array<{ ID: string, Addrs: string[] }> })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ Type: 4, Responses: [{ ID: expect.any(String), Addrs: expect.any(Array) }] })
  })

  it('findprovs on a node without routers is the DHT\'s answer alone', async () => {
    const before = srv.requests.length
    const events = await all(plain.client.routing.findProvs(CID.parse(CID_A), { numProviders: 10 }))
    const providers = events.flatMap(e => e.name === 'PROVIDER' ? e.providers : [])
    expect(providers.map(p => p.id.toString())).toEqual([(n[0] as SwarmNode).peerId])
    expect(srv.requests.length).toBe(before)
  })

  it('findpeer: FinalPeer events whose addresses together are the DHT\'s and the router\'s, each once; a peer nobody knows is an error', async () => {
    const n1 = n[1] as SwarmNode
    const events = await all(face.client.routing.findPeer(n1.peerId as never))
    const finals = events.flatMap(e => e.name === 'FINAL_PEER' ? [e.peer] : [])
    expect(finals.length).toBeGreaterThan(0)
    expect(finals.every(p => p.id.toString() === n1.peerId)).toBe(true)
    const addrs = finals.flatMap(p => p.multiaddrs.map(String))
    expect(new Set(addrs).size).toBe(addrs.length)
    expect(addrs).toContain('/ip4/127.0.0.1/tcp/4202')
    expect(addrs).toContain(n1.multiaddrs[0]?.split('/p2p/')[0])
    expect(srv.requests.some(r => r.path.startsWith('/routing/v1/peers/'))).toBe(true)

    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const raw = await post(face, 'routing/findpeer', [['arg', nobody]])
    // failed before any event: kubo's error reply, as for a DHT-only findpeer
    expect(raw.status).toBe(500)
    expect(await raw.json()).toMatchObject({ Type: 'error', Message: expect.stringMatching(/not found|no peer|could not find/i) })
  }, 30_000)
})
