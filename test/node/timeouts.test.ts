/**
 * The acceptance check, on real nodes over loopback TCP: a query that cannot
 * complete ends at the ask's deadline with TimeoutError, and the node is left
 * with nothing pending or running.
 *
 * What makes kad-dht hang: a routing-table peer that stops answering without
 * closing its connection. Node A's only peer is B, reached through a TCP
 * proxy; once A has B in its routing table the proxy freezes (keeps both
 * sockets open, moves no bytes). Every kad-dht request A sends to B then
 * waits on the open yamux connection — kad-dht's own per-request timeout is
 * an adaptive one of at least 5 s, and libp2p's connection monitor pings
 * every 10 s — so without the swarm actor's deadline the query runs for
 * seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { hostStarvation, timedOnHost } from '../helpers/host-starvation.js'
import { FreezableProxy, SilentListener, collect, poll, quiet, status, tcpPort, timed } from './support.js'
import type { SwarmNode } from '../../src/node/create-node.js'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const OTHER_CID = 'bafkreie7ohywtosou76tasm7j63yigtzxe7d5zqus4zu3j6oltvgtibeom'
const UNKNOWN_PEER = '12D3KooWPT98FXMfDQYavZm66EeVjTqP9Nnehn1gyaydqV8L8BQw'

describe('a query that cannot complete (the only peer is frozen)', () => {
  let b: SwarmNode
  let a: SwarmNode
  let proxy: FreezableProxy

  beforeAll(async () => {
    hostStarvation() // the probe thread is up long before the first timed ask
    b = await createNode({ loopback: true, seed: 41_001 })
    proxy = await new FreezableProxy(tcpPort(b.multiaddrs[0] ?? '')).listen()
    a = await createNode({ loopback: true, seed: 41_002, bootstrap: [`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${b.peerId}`] })
    // kad-dht adds B to A's routing table once identify has run over the proxied connection
    expect(await poll(async () => (await status(a)).routingTableSize === 1, 10_000)).toBe(true)
    const s = await status(a)
    expect(s.connections).toBe(1)
    expect(proxy.connections).toBeGreaterThanOrEqual(1)
    proxy.freeze()
  }, 60_000)

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await proxy?.close()
  })

  // Timing bounds are the literal ones plus the host starvation a probe thread saw meanwhile
  // (timedOnHost): time the OS did not run this process is not swarmbus's to answer for, but a
  // stall of the event loop by our own code is, and is not forgiven.
  it('an ask with a 200 ms deadline rejects TimeoutError within 300 ms; then 0 pendingQueries, and runningQueries returns to 0', async () => {
    const r = await timedOnHost(async () => await a.ask({ type: 'dht.get', key: '/swarmbus/never-answered' }, { timeoutMs: 200 }))
    console.info(`200 ms deadline on a hung dht.get: TimeoutError after ${r.ms.toFixed(1)} ms (host starvation ${r.starvedMs.toFixed(1)} ms)`)
    expect(r.error?.name).toBe('TimeoutError')
    expect(r.ms).toBeGreaterThanOrEqual(195)
    expect(r.ms).toBeLessThan(300 + r.starvedMs)
    const s = await status(a)
    expect(s.pendingQueries).toBe(0)
    const q = await quiet(a, 2_000)
    expect(q.runningQueries).toBe(0)
    expect(q.pendingQueries).toBe(0)
  })

  it('every DHT command times out on its deadline the same way (asks and streams, concurrently)', async () => {
    const runs = await Promise.all([
      timedOnHost(async () => await a.ask({ type: 'dht.put', key: '/swarmbus/frozen-put', value: new Uint8Array([1]) }, { timeoutMs: 200 })),
      timedOnHost(async () => await a.ask({ type: 'dht.provide', cid: CID }, { timeoutMs: 200 })),
      timedOnHost(async () => await a.ask({ type: 'dht.findPeer', peerId: UNKNOWN_PEER }, { timeoutMs: 200 })),
      timedOnHost(async () => await collect(a.stream({ type: 'dht.findProviders', cid: CID }, { timeoutMs: 200 }))),
      timedOnHost(async () => await collect(a.stream({ type: 'dht.closestPeers', key: '/swarmbus/frozen' }, { timeoutMs: 200 })))
    ])
    for (const r of runs) {
      expect(r.error?.name).toBe('TimeoutError')
      expect(r.ms).toBeGreaterThanOrEqual(195)
      expect(r.ms).toBeLessThan(300 + r.starvedMs)
    }
    const q = await quiet(a, 2_000)
    expect(q.pendingQueries).toBe(0)
    expect(q.runningQueries).toBe(0)
  })

  it('the query really does not end by itself: a 1 s deadline also times out, not earlier', async () => {
    const r = await timedOnHost(async () => await a.ask({ type: 'dht.get', key: '/swarmbus/still-frozen' }, { timeoutMs: 1_000 }))
    expect(r.error?.name).toBe('TimeoutError')
    expect(r.ms).toBeGreaterThanOrEqual(995)
    expect(r.ms).toBeLessThan(1_100 + r.starvedMs)
    expect((await quiet(a, 2_000)).runningQueries).toBe(0)
  })

  it('the caller\'s abort ends a hung query at once with AbortError', async () => {
    const caller = new AbortController()
    const p = timed(async () => await a.ask({ type: 'dht.get', key: '/swarmbus/aborted' }, { timeoutMs: 10_000, signal: caller.signal }))
    await poll(async () => (await status(a)).pendingQueries === 1, 1_000, 5)
    caller.abort()
    const r = await p
    expect(r.error?.name).toBe('AbortError')
    expect(r.ms).toBeLessThan(1_000)
    expect((await quiet(a, 2_000)).runningQueries).toBe(0)
  })

  it('the swarm.status counters saw each of those as a failed command', async () => {
    const s = await status(a)
    const swarm = s.actors.find(x => x.name === 'swarm')
    expect(swarm?.commands['dht.get']?.failed).toBeGreaterThanOrEqual(3)
    expect(swarm?.commands['dht.get']?.served ?? 0).toBe(0)
    expect(swarm?.commands['dht.findProviders']?.failed).toBe(1)
    expect(s.deadLetters.byReason['late-settle'] ?? 0).toBe(0)
  })

  it('stopping a node with a hung query in flight rejects it StoppedError promptly; later asks reject StoppedError', async () => {
    const pending = timed(async () => await a.ask({ type: 'dht.get', key: '/swarmbus/stopping' }, { timeoutMs: 20_000 }))
    await poll(async () => (await status(a)).pendingQueries === 1, 1_000, 5)
    const stop = timed(async () => { await a.stop() })
    const r = await pending
    expect(r.error?.name).toBe('StoppedError')
    expect(r.ms).toBeLessThan(2_000)
    expect((await stop).ms).toBeLessThan(5_000)
    const later = await timed(async () => await a.ask({ type: 'dht.get', key: '/swarmbus/x' }))
    expect(later.error?.name).toBe('StoppedError')
    const stream = await timed(async () => await collect(a.stream({ type: 'dht.closestPeers', key: 'x' })))
    expect(stream.error?.name).toBe('StoppedError')
    const st = await timed(async () => await a.ask({ type: 'swarm.status' }))
    expect(st.error?.name).toBe('StoppedError')
  })
})

describe('a peer that accepts TCP and never speaks', () => {
  it('swarm.dial to it times out on the ask\'s deadline, and nothing is left running', async () => {
    const silent = await new SilentListener().listen()
    const node = await createNode({ loopback: true, seed: 41_010 })
    try {
      const r = await timedOnHost(async () => await node.ask({ type: 'swarm.dial', multiaddr: `/ip4/127.0.0.1/tcp/${silent.port}/p2p/${UNKNOWN_PEER}` }, { timeoutMs: 300 }))
      expect(r.error?.name).toBe('TimeoutError')
      expect(r.ms).toBeLessThan(400 + r.starvedMs)
      expect(silent.accepted).toBe(1)
      const q = await quiet(node, 2_000)
      expect(q.pendingQueries).toBe(0)
      expect(q.runningQueries).toBe(0)
    } finally {
      await node.stop()
      await silent.close()
    }
  })
})

describe('a lone node (empty routing table)', () => {
  it('put, provide, get, findPeer and findProviders end promptly with a typed result, never a hang', async () => {
    const node = await createNode({ loopback: true, seed: 41_020 })
    try {
      expect((await status(node)).routingTableSize).toBe(0)
      const put = await timed(async () => await node.ask({ type: 'dht.put', key: '/swarmbus/alone', value: new Uint8Array([1]) }, { timeoutMs: 5_000 }))
      expect(put.error?.name).toBe('FailedError')
      const provide = await timed(async () => await node.ask({ type: 'dht.provide', cid: CID }, { timeoutMs: 5_000 }))
      expect(provide.error?.name).toBe('FailedError')
      const get = await timed(async () => await node.ask({ type: 'dht.get', key: '/swarmbus/nothing-here' }, { timeoutMs: 5_000 }))
      expect(get.error?.name).toBe('NotFoundError')
      const peer = await timed(async () => await node.ask({ type: 'dht.findPeer', peerId: UNKNOWN_PEER }, { timeoutMs: 5_000 }))
      expect(peer.error?.name).toBe('NotFoundError')
      // a provider search that meets nobody is an empty stream (the failed provide above
      // still recorded this node as a provider of CID locally, so search another one)
      const providers = await timed(async () => await collect(node.stream({ type: 'dht.findProviders', cid: OTHER_CID }, { timeoutMs: 5_000 })))
      expect(providers.error).toBeUndefined()
      expect(providers.value).toEqual([])
      for (const r of [put, provide, get, peer, providers]) expect(r.ms).toBeLessThan(1_000)
      const q = await quiet(node, 2_000)
      expect(q.pendingQueries).toBe(0)
      expect(q.runningQueries).toBe(0)
    } finally {
      await node.stop()
    }
  })
})
