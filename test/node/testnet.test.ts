/**
 * Every swarm command across the nodes of one real 20-node TCP testnet on
 * 127.0.0.1 (plus a DHT client node joined through bootstrap), the status
 * counters, progress events, overload; then, in order, faults that take the
 * testnet apart: peers stopped mid-query, every peer gone, stopped nodes.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { createTestnet } from '../../src/node/create-testnet.js'
import { hostStarvation, timedOnHost } from '../helpers/host-starvation.js'
import { collect, counters, poll, quiet, status, timed } from './support.js'
import type { ProgressEvent } from '../../src/actors/runtime/actor.js'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { Testnet } from '../../src/node/create-testnet.js'

const SEED = 52_000
const UNKNOWN_PEER = '12D3KooWPT98FXMfDQYavZm66EeVjTqP9Nnehn1gyaydqV8L8BQw'
const utf8 = new TextEncoder()

async function cidOf (label: string): Promise<string> {
  return CID.createV1(0x55, await sha256.digest(utf8.encode(`swarmbus-test/${SEED}/${label}`))).toString()
}

function bytes (label: string, n = 32): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (label.charCodeAt(i % label.length) * 31 + i) & 0xff
  return out
}

describe('a 20-node TCP testnet', () => {
  let net: Testnet
  let n: SwarmNode[]
  let ids: Set<string>
  /** a DHT client (stores nothing, serves nothing) joined through bootstrap */
  let client: SwarmNode
  let settleMs = 0

  beforeAll(async () => {
    hostStarvation() // the probe thread is up long before the first timed ask
    const t0 = performance.now()
    net = await createTestnet({ nodes: 20, seed: SEED, settleTimeoutMs: 25_000 })
    settleMs = performance.now() - t0
    n = net.nodes
    ids = new Set(n.map(x => x.peerId))
    client = await createNode({ loopback: true, mode: 'client', seed: SEED + 100, bootstrap: [n[0]?.multiaddrs[0] ?? ''] })
  }, 120_000)

  afterAll(async () => {
    await client?.stop()
    await net?.stop()
  }, 30_000)

  it('came together: distinct stable peer ids, loopback addresses, filled routing tables', async () => {
    console.info(`testnet: settled=${net.report.settled} in ${Math.round(settleMs)} ms (mesh ${Math.round(net.report.elapsedMs)} ms, ${net.report.dials} dials, ${net.report.refreshes} self lookups), routing tables ${net.report.routingTableSizes.join(',')}`)
    expect(ids.size).toBe(20)
    expect(net.report.failedDials).toBe(0)
    for (const node of n) {
      expect(node.multiaddrs[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${node.peerId}$`))
    }
    // a loaded machine may not reach a full table for everyone in time; every node must know a good part of the net
    const sizes = await Promise.all(n.map(async x => (await status(x)).routingTableSize))
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(10)
    // the same seed gives the same identity
    const again = await createNode({ loopback: true, seed: SEED + 3 })
    try {
      expect(again.peerId).toBe(n[3]?.peerId)
    } finally {
      await again.stop()
    }
    const cs = await status(client)
    expect(cs.mode).toBe('client')
    // createNode's bootstrap can return before kad-dht has added the peer (see the report on
    // bootstrapPeerPending); the table fills right after
    expect(await poll(async () => (await status(client)).routingTableSize >= 1, 5_000)).toBe(true)
  })

  it('dht.put on one node, dht.get on others: the same value, from a peer of the testnet', async () => {
    const key = `/swarmbus/${SEED}/put-get`
    const value = bytes('put-get-value', 200)
    const before = counters(await status(n[0] as SwarmNode), 'dht.put')
    const t0 = performance.now()
    const put = await n[0]?.ask({ type: 'dht.put', key, value }, { timeoutMs: 15_000 })
    const putMs = performance.now() - t0
    expect(put?.peers).toBeGreaterThanOrEqual(1)
    expect(counters(await status(n[0] as SwarmNode), 'dht.put').served).toBe(before.served + 1)

    const t1 = performance.now()
    const got = await n[11]?.ask({ type: 'dht.get', key }, { timeoutMs: 10_000 })
    const getMs = performance.now() - t1
    expect(new Uint8Array(got?.value ?? [])).toEqual(value)
    expect(ids.has(got?.from ?? '')).toBe(true)

    // the client stores nothing itself: its value must come over the network, from another peer
    const t2 = performance.now()
    const remote = await client.ask({ type: 'dht.get', key: utf8.encode(key) }, { timeoutMs: 10_000 })
    const remoteMs = performance.now() - t2
    // (a value that came over the wire is a Node Buffer, a Uint8Array subclass: compare the bytes)
    expect(remote.value).toBeInstanceOf(Uint8Array)
    expect(new Uint8Array(remote.value)).toEqual(value)
    expect(remote.from).not.toBe(client.peerId)
    expect(ids.has(remote.from)).toBe(true)
    expect(() => peerIdFromString(remote.from)).not.toThrow()
    console.info(`put ${Math.round(putMs)} ms (${put?.peers} peers), get on another server ${Math.round(getMs)} ms, get on the client ${Math.round(remoteMs)} ms`)
  })

  it('dht.get of a key nobody has is NotFoundError: the lookup runs out of peers before its deadline', async () => {
    const r = await timedOnHost(async () => await n[7]?.ask({ type: 'dht.get', key: `/swarmbus/${SEED}/nobody` }, { timeoutMs: 8_000 }))
    expect(r.error?.name).toBe('NotFoundError')
    expect(r.ms).toBeLessThan(8_000 + r.starvedMs)
  })

  it('dht.provide on one node, dht.findProviders from a third node finds it (with addresses)', async () => {
    const cid = await cidOf('provided')
    const provided = await n[1]?.ask({ type: 'dht.provide', cid }, { timeoutMs: 15_000 })
    expect(provided?.peers).toBeGreaterThanOrEqual(1)
    const found = await collect(n[2]!.stream({ type: 'dht.findProviders', cid, limit: 5 }, { timeoutMs: 10_000 }))
    const me = found.find(p => p.peerId === n[1]?.peerId)
    expect(me).toBeDefined()
    expect(me?.multiaddrs.some(a => a.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    expect(new Set(found.map(p => p.peerId)).size).toBe(found.length)
    // and from the client, through the network
    const fromClient = await collect(client.stream({ type: 'dht.findProviders', cid, limit: 1 }, { timeoutMs: 10_000 }))
    expect(fromClient.map(p => p.peerId)).toEqual([n[1]?.peerId])
  })

  it('dht.findPeer finds another node\'s addresses; an unknown valid peer id is NotFoundError within its deadline', async () => {
    const target = n[17] as SwarmNode
    const found = await client.ask({ type: 'dht.findPeer', peerId: target.peerId }, { timeoutMs: 10_000 })
    expect(found.peerId).toBe(target.peerId)
    expect(found.multiaddrs.length).toBeGreaterThan(0)
    const port = target.multiaddrs[0]?.split('/')[4]
    expect(found.multiaddrs).toContain(`/ip4/127.0.0.1/tcp/${port}`)

    const r = await timedOnHost(async () => await n[3]?.ask({ type: 'dht.findPeer', peerId: UNKNOWN_PEER }, { timeoutMs: 5_000 }))
    expect(r.error?.name).toBe('NotFoundError')
    expect(r.ms).toBeLessThan(5_000 + r.starvedMs)
  })

  it('dht.closestPeers streams distinct testnet peers', async () => {
    const peers = await collect(n[4]!.stream({ type: 'dht.closestPeers', key: `/swarmbus/${SEED}/closest` }, { timeoutMs: 10_000 }))
    const distinct = new Set(peers.map(p => p.peerId))
    expect(distinct.size).toBe(peers.length)
    expect(peers.length).toBeGreaterThanOrEqual(5)
    expect(peers.length).toBeLessThanOrEqual(20)
    for (const p of peers) expect(ids.has(p.peerId)).toBe(true)
  })

  it('swarm.dial connects two nodes; swarm.peers lists the connection; a dial to a closed port fails typed', async () => {
    const from = n[5] as SwarmNode
    const to = n[6] as SwarmNode
    const dialled = await from.ask({ type: 'swarm.dial', multiaddr: to.multiaddrs[0] ?? '' }, { timeoutMs: 10_000 })
    expect(dialled.peerId).toBe(to.peerId)
    const { peers } = await from.ask({ type: 'swarm.peers' })
    const conn = peers.find(p => p.peerId === to.peerId)
    expect(conn?.remoteAddr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    expect(['inbound', 'outbound']).toContain(conn?.direction)
    expect(peers.every(p => ids.has(p.peerId) || p.peerId === client.peerId)).toBe(true)

    // a refused TCP connection is an answer, not a wait: the dial fails at once, long before its deadline
    const refused = await timedOnHost(async () => await from.ask({ type: 'swarm.dial', multiaddr: `/ip4/127.0.0.1/tcp/1/p2p/${UNKNOWN_PEER}` }, { timeoutMs: 5_000 }))
    expect(refused.error?.name).toBe('FailedError')
    expect(refused.error?.message).toMatch(/ECONNREFUSED/)
    expect(refused.ms).toBeLessThan(1_000 + refused.starvedMs)
  })

  it('swarm.bootstrap: a node with no bootstrap list connects none; the client reconnects its bootstrap peer', async () => {
    const none = await n[9]?.ask({ type: 'swarm.bootstrap' }, { timeoutMs: 10_000 })
    expect(none?.connected).toBe(0)
    expect(none?.routingTableSize).toBeGreaterThanOrEqual(10)
    const boot = await client.ask({ type: 'swarm.bootstrap' }, { timeoutMs: 15_000 })
    expect(boot.connected).toBe(1)
    expect(boot.routingTableSize).toBeGreaterThanOrEqual(1)
  })

  it('swarm.status counts the commands a scenario caused, by type, served and failed', async () => {
    const node = n[10] as SwarmNode
    const key = `/swarmbus/${SEED}/counted`
    await n[12]?.ask({ type: 'dht.put', key, value: bytes('counted') }, { timeoutMs: 15_000 })
    const cid = await cidOf('counted')
    const before = await quiet(node)
    await node.ask({ type: 'dht.get', key }, { timeoutMs: 10_000 })
    for (const k of ['a', 'b']) {
      await expect(node.ask({ type: 'dht.get', key: `/swarmbus/${SEED}/missing-${k}` }, { timeoutMs: 10_000 })).rejects.toMatchObject({ name: 'NotFoundError' })
    }
    await collect(node.stream({ type: 'dht.findProviders', cid }, { timeoutMs: 10_000 }))
    await node.ask({ type: 'swarm.peers' })
    const after = await quiet(node)
    const get0 = counters(before, 'dht.get')
    const get1 = counters(after, 'dht.get')
    // the found key was served, the two missing ones failed
    expect(get1.served - get0.served).toBe(1)
    expect(get1.failed - get0.failed).toBe(2)
    expect(counters(after, 'dht.findProviders').served - counters(before, 'dht.findProviders').served).toBe(1)
    expect(counters(after, 'swarm.peers').served - counters(before, 'swarm.peers').served).toBe(1)
    expect(counters(after, 'dht.put').served).toBe(counters(before, 'dht.put').served)
    expect(get1.maxMs).toBeGreaterThan(0)
    expect(after.pendingQueries).toBe(0)
    expect(after.runningQueries).toBe(0)
    expect(after.peerId).toBe(node.peerId)
    expect(after.connections).toBeGreaterThanOrEqual(10)
    expect(after.actors.map(a => a.name)).toEqual(expect.arrayContaining(['swarm', 'system']))
  })

  it('progress events of a query arrive on node.on(\'progress\'), tagged with its query id', async () => {
    const node = n[13] as SwarmNode
    const events: ProgressEvent[] = []
    const off = node.on('progress', e => { events.push(e) })
    await node.ask({ type: 'dht.get', key: `/swarmbus/${SEED}/progress` }, { timeoutMs: 10_000 }).catch(() => {})
    off()
    expect(events.length).toBeGreaterThan(0)
    expect(events.some(e => e.type.startsWith('kad-dht:query:'))).toBe(true)
    expect(new Set(events.map(e => e.id)).size).toBe(1)
    expect(events[0]?.id).toBeTypeOf('string')
    expect(events.every(e => e.actor === 'swarm')).toBe(true)
  })

  it('overload: a flood of asks gets some OverloadedError, every ask settles, and pending returns to 0', async () => {
    const node = n[8] as SwarmNode
    // asked in one synchronous burst: beyond the swarm mailbox (4,096) or its pending bound (1,024) they are refused
    const asks: Array<Promise<unknown>> = []
    const gets: Array<Promise<unknown>> = []
    for (let i = 0; i < 8; i++) gets.push(node.ask({ type: 'dht.get', key: `/swarmbus/${SEED}/flood-${i}` }, { timeoutMs: 10_000 }))
    asks.push(...gets)
    for (let i = 0; i < 5_000; i++) asks.push(i % 2 === 0 ? node.ask({ type: 'swarm.peers' }) : node.ask({ type: 'swarm.status' }))
    const t0 = performance.now()
    const results = await Promise.allSettled(asks)
    const byName = new Map<string, number>()
    for (const r of results) {
      const k = r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name
      byName.set(k, (byName.get(k) ?? 0) + 1)
    }
    console.info(`flood of ${asks.length} asks settled in ${Math.round(performance.now() - t0)} ms: ${JSON.stringify(Object.fromEntries(byName))}`)
    expect(results.length).toBe(5_008)
    expect(byName.get('ok') ?? 0).toBeGreaterThan(0)
    expect(byName.get('OverloadedError') ?? 0).toBeGreaterThan(0)
    // the 5,000 swarm.peers / swarm.status asks are served or refused; only the 8 gets are NotFoundError; nothing times out
    expect([...byName.keys()].sort()).toEqual(['NotFoundError', 'OverloadedError', 'ok'])
    expect(byName.get('NotFoundError')).toBe(8)
    // the DHT queries asked first were taken and ran to their own end
    const getEnds = await Promise.allSettled(gets)
    expect(getEnds.every(r => r.status === 'rejected' && (r.reason as Error).name === 'NotFoundError')).toBe(true)
    const q = await quiet(node, 10_000)
    expect(q.pendingQueries).toBe(0)
    expect(q.runningQueries).toBe(0)
    expect(q.openPorts).toBe(1)
    // and the node still serves
    await expect(node.ask({ type: 'swarm.peers' })).resolves.toHaveProperty('peers')
  })

  describe('faults (these take the testnet apart, in order)', () => {
    it('peers stopped mid-query: the queries still end with a typed result within their deadline', async () => {
      const cid = await cidOf('nobody-provides')
      const deadline = 8_000
      const queries = [
        timedOnHost(async () => await n[0]?.ask({ type: 'dht.get', key: `/swarmbus/${SEED}/mid-query` }, { timeoutMs: deadline })),
        timedOnHost(async () => await collect(n[1]!.stream({ type: 'dht.findProviders', cid }, { timeoutMs: deadline }))),
        timedOnHost(async () => await client.ask({ type: 'dht.get', key: `/swarmbus/${SEED}/put-get` }, { timeoutMs: deadline }))
      ] as const
      // stop six nodes while those run
      await Promise.all(n.slice(14, 20).map(async x => { await x.stop() }))
      const results = await Promise.all(queries)
      // a stopped peer closes its connections: what was asked of it fails at once, and the
      // queries go on with the others and end by themselves, each with its one answer
      const [missing, providers, found] = results
      expect(missing?.error?.name).toBe('NotFoundError')
      expect(providers?.error).toBeUndefined()
      expect(providers?.value).toEqual([])
      expect(found?.error).toBeUndefined()
      expect(new Uint8Array(found?.value?.value ?? [])).toEqual(bytes('put-get-value', 200))
      for (const r of results) expect(r.ms).toBeLessThan(deadline + r.starvedMs)
      for (const node of [n[0], n[1], client] as SwarmNode[]) {
        const q = await quiet(node, 5_000)
        expect(q.pendingQueries).toBe(0)
        expect(q.runningQueries).toBe(0)
      }
      // the survivors still work: the value put earlier is still there
      const got = await n[2]?.ask({ type: 'dht.get', key: `/swarmbus/${SEED}/put-get` }, { timeoutMs: 8_000 })
      expect(new Uint8Array(got?.value ?? [])).toEqual(bytes('put-get-value', 200))
    })

    it('a stopped node: its asks and streams reject StoppedError at once', async () => {
      const stopped = n[19] as SwarmNode
      const r = await timed(async () => await stopped.ask({ type: 'dht.get', key: '/swarmbus/x' }))
      expect(r.error?.name).toBe('StoppedError')
      expect(r.ms).toBeLessThan(100)
      const s = await timed(async () => await collect(stopped.stream({ type: 'dht.findProviders', cid: await cidOf('x') })))
      expect(s.error?.name).toBe('StoppedError')
      await stopped.stop() // stopping twice is harmless
    })

    it('every other peer gone: a lone survivor\'s queries each end with their one answer before the deadline, and nothing hangs', async () => {
      const survivor = n[0] as SwarmNode
      const known = n[5] as SwarmNode
      // the survivor has been connected to `known`, so its peer store holds that address
      const knownPort = known.multiaddrs[0]?.split('/')[4]
      await survivor.ask({ type: 'swarm.dial', multiaddr: known.multiaddrs[0] ?? '' }, { timeoutMs: 10_000 })
      await Promise.all([client, ...n.slice(1, 14)].map(async x => { await x.stop() }))
      expect(await poll(async () => (await status(survivor)).connections === 0, 5_000)).toBe(true)
      const deadline = 3_000
      const gone = await cidOf('gone')
      // a get and a put of distinct keys: kad-dht's put stores its own copy first, which a get of the same key would find
      const runs = await Promise.all([
        timedOnHost(async () => await survivor.ask({ type: 'dht.get', key: `/swarmbus/${SEED}/gone-get` }, { timeoutMs: deadline })),
        timedOnHost(async () => await survivor.ask({ type: 'dht.put', key: `/swarmbus/${SEED}/gone-put`, value: bytes('gone') }, { timeoutMs: deadline })),
        timedOnHost(async () => await survivor.ask({ type: 'dht.findPeer', peerId: known.peerId }, { timeoutMs: deadline })),
        timedOnHost(async () => await survivor.ask({ type: 'dht.findPeer', peerId: UNKNOWN_PEER }, { timeoutMs: deadline })),
        timedOnHost(async () => await collect(survivor.stream({ type: 'dht.findProviders', cid: gone }, { timeoutMs: deadline }))),
        timedOnHost(async () => await collect(survivor.stream({ type: 'dht.closestPeers', key: 'gone' }, { timeoutMs: deadline })))
      ])
      const [get, put, findKnown, findUnknown, providers, closest] = runs
      // every peer left refuses its connection at once: the lookups run out of peers by themselves
      expect(get?.error?.name).toBe('NotFoundError')
      expect(put?.error?.name).toBe('FailedError')
      // findPeer answers from the peer store first: a peer known before is found, at its (now stale) address
      expect(findKnown?.error).toBeUndefined()
      expect(findKnown?.value?.peerId).toBe(known.peerId)
      expect(findKnown?.value?.multiaddrs).toContain(`/ip4/127.0.0.1/tcp/${knownPort}`)
      expect(findUnknown?.error?.name).toBe('NotFoundError')
      // a provider search or a closest-peers walk where nobody answers is an empty stream, not a failure
      expect(providers?.error).toBeUndefined()
      expect(providers?.value).toEqual([])
      expect(closest?.error).toBeUndefined()
      expect(closest?.value).toEqual([])
      for (const r of runs) expect(r.ms).toBeLessThan(deadline + r.starvedMs)
      const q = await quiet(survivor, 5_000)
      expect(q.pendingQueries).toBe(0)
      expect(q.runningQueries).toBe(0)
    })
  })
})
