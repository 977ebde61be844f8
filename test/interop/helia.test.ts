/**
 * Interop with the reference stack: a TCP loopback testnet of swarmbus nodes
 * joined by a Helia node (@helia/ipns 10.1 over js-libp2p with kad-dht, see
 * bench/helia-reference.ts). A name Helia publishes resolves here, and a
 * name published here resolves in Helia — each checked for value and
 * sequence, after a second publish so the sequence is not the default 1.
 *
 * Both directions cross the wire in both roles: the publisher's PUT_VALUE must
 * pass the other stack's validator (kad-dht servers keep only records their
 * `ipns` validator accepts), and the resolver's GET_VALUE answers come from
 * both stacks' record stores. Resolves skip caches (nocache) on both sides.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHeliaNode } from '../../bench/helia-reference.js'
import { createTestnet } from '../../src/node/create-testnet.js'
import { routingTableOf } from '../../src/actors/swarm/libp2p/routing-table.js'
import { poll } from '../node/support.js'
import type { HeliaNode } from '../../bench/helia-reference.js'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { Testnet } from '../../src/node/create-testnet.js'

const SEED = 61_000
const SWARMBUS_NODES = 4

async function cidOf (label: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`swarmbus-interop/${label}`)))
}

describe('IPNS interop with @helia/ipns 10.1 on one loopback testnet', () => {
  let net: Testnet | undefined
  let helia: HeliaNode | undefined
  let n: SwarmNode[] = []

  beforeAll(async () => {
    net = await createTestnet({ nodes: SWARMBUS_NODES, seed: SEED, settleTimeoutMs: 20_000 })
    n = net.nodes
    helia = await createHeliaNode({ seed: SEED })
    const h = helia
    for (const node of n) {
      await h.libp2p.dial(multiaddr(node.multiaddrs[0] ?? ''), { signal: AbortSignal.timeout(10_000) })
    }
    // kad-dht adds a peer once identify has shown it speaks the protocol and a ping answered
    const table = routingTableOf(h.libp2p.services.dht)
    const joined = await poll(async () => {
      if (table.size < SWARMBUS_NODES) return false
      const sizes = await Promise.all(n.map(async node => (await node.ask({ type: 'swarm.status' })).routingTableSize))
      return sizes.every(s => s >= SWARMBUS_NODES)
    }, 20_000, 50)
    if (!joined) throw new Error(`the Helia node did not join the testnet (its routing table: ${table.size})`)
  }, 60_000)

  afterAll(async () => {
    await helia?.stop()
    await net?.stop()
  }, 30_000)

  it('a name published by Helia resolves here (value and sequence)', async () => {
    const h = helia as HeliaNode
    const first = await cidOf('helia-1')
    const second = await cidOf('helia-2')
    await h.name.publish('interop', first, { signal: AbortSignal.timeout(20_000) })
    const published = await h.name.publish('interop', second, { signal: AbortSignal.timeout(20_000) })
    expect(published.record.sequence).toBe(2n)
    const name = published.publicKey.toCID().toString(base36)
    expect(published.name).toBe(`/ipns/${name}`)

    // a node that did not publish; nocache: it must ask the network
    const resolver = n[SWARMBUS_NODES - 1] as SwarmNode
    const answered = new Set<string>()
    const off = resolver.on('progress', e => {
      if (e.type === 'kad-dht:query:value' && typeof e.detail?.peer === 'string') answered.add(e.detail.peer)
    })
    const got = await resolver.ask({ type: 'ipns.resolve', name: `/ipns/${name}`, nocache: true }, { timeoutMs: 20_000 }).finally(off)
    expect(got.value).toBe(`/ipfs/${second.toString()}`)
    expect(got.sequence).toBe(2n)
    expect(got.source).toBe('dht')
    expect(got.hops).toBe(1)
    // Helia's own GET_VALUE answer was taken, and so were other swarmbus
    // nodes' copies: Helia's PUT_VALUE passed our validator there
    expect(answered).toContain(h.peerId)
    expect([...answered].filter(p => p !== h.peerId && p !== resolver.peerId).length).toBeGreaterThan(0)

    // nothing Helia sent was refused: not by kad-dht's validator on any
    // swarmbus node (Helia's PUT_VALUE, answers to GET_VALUE), not by the resolve
    for (const node of n) expect((await node.ask({ type: 'swarm.status' })).recordsRejected).toEqual({})
    const ipnsDetail = (await resolver.ask({ type: 'swarm.status' })).actors.find(a => a.name === 'ipns')?.detail
    expect(ipnsDetail?.rejected).toEqual({})
  })

  it('a name published here resolves in Helia (value and sequence)', async () => {
    const h = helia as HeliaNode
    const publisher = n[0] as SwarmNode
    const first = await cidOf('swarmbus-1')
    const second = await cidOf('swarmbus-2')
    // swarmbus, like kubo, starts a name at sequence 0 (@helia/ipns starts at 1)
    const before = await publisher.ask({ type: 'ipns.publish', value: `/ipfs/${first.toString()}` }, { timeoutMs: 20_000 })
    const published = await publisher.ask({ type: 'ipns.publish', value: `/ipfs/${second.toString()}` }, { timeoutMs: 20_000 })
    expect(published.sequence).toBe(before.sequence + 1n)
    expect(published.peers).toBeGreaterThan(0)

    // the 'self' key: the name is the publisher's peer id (@helia/ipns takes its multihash, a CID or a public key)
    const peerId = peerIdFromString(publisher.peerId)
    expect(published.name).toBe(peerId.toCID().toString(base36))
    const results = []
    const answered = new Set<string>()
    const onProgress = (e: { type: string, detail?: unknown }): void => {
      const from = (e.detail as { from?: { toString: () => string } } | undefined)?.from
      if (e.type === 'kad-dht:query:value' && from !== undefined) answered.add(from.toString())
    }
    for await (const r of h.name.resolve(peerId.toMultihash(), { nocache: true, onProgress, signal: AbortSignal.timeout(20_000) })) results.push(r)
    expect(results).toHaveLength(1)
    expect(results[0]?.value).toBe(`/ipfs/${second.toString()}`)
    expect(results[0]?.record.sequence).toBe(published.sequence)
    // swarmbus nodes' GET_VALUE answers passed Helia's validator, and Helia's
    // own copy came from our PUT_VALUE
    expect(answered).toContain(h.peerId)
    expect(n.filter(node => answered.has(node.peerId)).length).toBeGreaterThan(0)

    // the k51… string form resolves to the same record
    const again = []
    for await (const r of h.name.resolve(`/ipns/${published.name}`, { nocache: true, signal: AbortSignal.timeout(20_000) })) again.push(r)
    expect(again[0]?.value).toBe(`/ipfs/${second.toString()}`)
    expect(again[0]?.record.sequence).toBe(published.sequence)
  })
})
