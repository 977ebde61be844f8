/**
 * The composite router: ipns.resolve asks the DHT and the HTTP routers at
 * once, on real nodes (loopback TCP) and real Routing V1 servers through the
 * Helia client. It answers from the router when the DHT's only peer is
 * frozen (a TCP proxy that stops moving bytes), from the DHT when the router
 * is down, and with the best of both when they disagree; publish puts to the
 * routers too and reports each one's outcome.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNode } from '../../../src/node/create-node.js'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { createRecord } from '../../../src/records/create.js'
import { parseName } from '../../../src/records/name.js'
import { FreezableProxy, tcpPort } from '../../../bench/tcp-proxy.js'
import { startRoutingV1Server } from '../../helpers/routing-v1-server.js'
import type { ProgressEvent } from '../../../src/actors/runtime/actor.js'
import type { NodeOptions, SwarmNode } from '../../../src/node/create-node.js'
import type { RoutingV1Server } from '../../helpers/routing-v1-server.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function server (init: Parameters<typeof startRoutingV1Server>[0] = {}): Promise<RoutingV1Server> {
  const s = await startRoutingV1Server(init)
  cleanups.push(async () => { await s.close() })
  return s
}

async function node (options: NodeOptions): Promise<SwarmNode> {
  const n = await createNode({ verifier: 'inline', republish: false, loopback: true, ...options })
  cleanups.push(async () => { await n.stop() })
  return n
}

/** the router answers of a resolve, as its progress events tell them */
function routerEvents (n: SwarmNode): ProgressEvent[] {
  const seen: ProgressEvent[] = []
  cleanups.push(async () => { off() })
  const off = n.on('progress', e => { if (e.type === 'ipns:resolve:router' || e.type === 'ipns:publish:routers') seen.push(e) })
  return seen
}

describe('composite router: ipns over the DHT and HTTP routers at once', () => {
  it('answers from the router when the only DHT peer is frozen, a settle time after its record proved valid', async () => {
    const key = await generateKeyPair('Ed25519')
    const r = await createRecord(key, '/ipfs/bafkqaaa', { now: Date.now(), sequence: 2 })
    const name = r.name.format('base36')
    const srv = await server({ records: new Map([[name, r.bytes]]) })

    const peer = await node({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const proxy = await new FreezableProxy(tcpPort(peer.multiaddrs[0] ?? '')).listen()
    cleanups.push(async () => { await proxy.close() })
    const resolver = await node({
      bootstrap: [`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${peer.peerId}`],
      // the peer is reached only through its proxy
      connectionGater: { denyDialMultiaddr: ma => tcpPort(ma.toString()) !== proxy.port },
      routers: { endpoints: [srv.url], settleMs: 200 }
    })
    expect((await resolver.ask({ type: 'swarm.status' })).routingTableSize).toBe(1)
    proxy.freeze()
    const events = routerEvents(resolver)
    const t0 = Date.now()
    const got = await resolver.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 10_000 })
    const took = Date.now() - t0
    expect(got).toMatchObject({ value: '/ipfs/bafkqaaa', sequence: 2n, source: 'router' })
    // not the deadline: the settle time after the router's answer (the DHT never answered)
    expect(took).toBeGreaterThanOrEqual(190)
    expect(took).toBeLessThan(3_000)
    expect(events[0]?.detail).toMatchObject({ endpoint: srv.url, sequence: '2' })
    // kept: the next resolve is a cache hit, and the repo holds it
    expect((await resolver.ask({ type: 'ipns.resolve', name })).source).toBe('cache')
    expect((await resolver.ask({ type: 'store.get', kind: 'resolved', name })).sequence).toBe(2n)

    // without routers the same resolve finds nothing before its deadline
    const plain = await node({
      bootstrap: [`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${peer.peerId}`],
      connectionGater: { denyDialMultiaddr: ma => tcpPort(ma.toString()) !== proxy.port },
      bootstrapRetry: true,
      bootstrapTimeoutMs: 300
    })
    await expect(plain.ask({ type: 'ipns.resolve', name }, { timeoutMs: 1_000 })).rejects.toThrow()
  })

  it('keeps listening to a slow DHT after answering from the router, and keeps the better record it brings', async () => {
    const peer = await node({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    // the peer holds the newer record (seq 3) in its own DHT store; the router an older one (seq 1)
    const newer = await peer.ask({ type: 'record.create', value: '/ipfs/bafkqaaa/newer', sequence: 3 })
    const older = await peer.ask({ type: 'record.create', value: '/ipfs/bafkqaaa/older', sequence: 1 })
    await peer.ask({ type: 'dht.putTo', key: parseName(newer.name).name.toRoutingKey(), value: newer.record, peers: [peer.peerId] })
    const srv = await server({ records: new Map([[older.name, older.record]]) })
    const proxy = await new FreezableProxy(tcpPort(peer.multiaddrs[0] ?? '')).listen()
    cleanups.push(async () => { await proxy.close() })
    const resolver = await node({
      bootstrap: [`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${peer.peerId}`],
      connectionGater: { denyDialMultiaddr: ma => tcpPort(ma.toString()) !== proxy.port },
      routers: { endpoints: [srv.url], settleMs: 200 }
    })
    proxy.slow(400, 400)
    const t0 = Date.now()
    const improved = new Promise<ProgressEvent>(resolve => {
      const off = resolver.on('progress', e => {
        if (process.env.DEBUG_COMPOSITE !== undefined) console.log(Date.now() - t0, e.type, JSON.stringify(e.detail, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v)?.slice(0, 200))
        if (e.type === 'ipns:resolve:improved') { off(); resolve(e) }
      })
      cleanups.push(async () => { off() })
    })
    const first = await resolver.ask({ type: 'ipns.resolve', name: older.name }, { timeoutMs: 10_000 })
    expect(first).toMatchObject({ sequence: 1n, source: 'router' })
    expect(Date.now() - t0).toBeLessThan(1_500)
    expect((await improved).detail).toMatchObject({ name: older.name, sequence: '3' })
    // the next resolve is right at once, from the cache; the repo holds the better one too
    expect(await resolver.ask({ type: 'ipns.resolve', name: older.name })).toMatchObject({ sequence: 3n, value: '/ipfs/bafkqaaa/newer', source: 'cache' })
    await waitFor(async () => (await resolver.ask({ type: 'store.get', kind: 'resolved', name: older.name })).sequence === 3n)
    const ipns = resolver.system.status().actors.find(a => a.name === 'ipns')?.detail
    expect(ipns).toMatchObject({ improved: 1, routerAnswers: 1 })
  })

  it('answers from the DHT when the router is down, and with the best of both when they disagree', async () => {
    const srv = await server()
    const down = await server()
    const downUrl = down.url
    await down.close()
    const net = await createTestnet({
      nodes: 4,
      transport: 'tcp',
      node: { verifier: 'inline', republish: false },
      nodeAt: async i => i === 3 ? { routers: { endpoints: [downUrl, srv.url], retries: 0, settleMs: 2_000 } } : {}
    })
    cleanups.push(async () => { await net.stop() })
    const [publisher, , , resolver] = net.nodes as [SwarmNode, SwarmNode, SwarmNode, SwarmNode]
    const events = routerEvents(resolver)

    // the DHT only: the live router has no record, the other is down
    await publisher.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa', ttlMs: 1 }, { timeoutMs: 10_000 })
    const pub = await publisher.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa', ttlMs: 1 }, { timeoutMs: 10_000 })
    expect(pub.sequence).toBe(1n)
    const first = await resolver.ask({ type: 'ipns.resolve', name: pub.name, nocache: true }, { timeoutMs: 10_000 })
    expect(first).toMatchObject({ sequence: pub.sequence, source: 'dht' })
    expect(events.some(e => e.detail?.kind === 'not-found')).toBe(true)

    // the router holds an older record: the DHT's newer one wins
    const older = await publisher.ask({ type: 'record.create', value: '/ipfs/bafkqaaa/old', sequence: pub.sequence - 1n })
    srv.records.set(pub.name, older.record)
    const second = await resolver.ask({ type: 'ipns.resolve', name: pub.name, nocache: true }, { timeoutMs: 10_000 })
    expect(second).toMatchObject({ sequence: pub.sequence, value: '/ipfs/bafkqaaa', source: 'dht' })
    // and the router that held the older one is given the better one (a PUT, after the answer)
    const until = Date.now() + 5_000
    while (Date.now() < until && !Buffer.from(srv.records.get(pub.name) ?? []).equals(pub.record)) await new Promise(resolve => setTimeout(resolve, 20))
    expect(Buffer.from(srv.records.get(pub.name) ?? []).equals(pub.record)).toBe(true)

    // the router holds a newer record: it wins, and is kept (cache and repo)
    const newer = await publisher.ask({ type: 'record.create', value: '/ipfs/bafkqaaa/new', sequence: pub.sequence + 5n })
    srv.records.set(pub.name, newer.record)
    const third = await resolver.ask({ type: 'ipns.resolve', name: pub.name, nocache: true }, { timeoutMs: 10_000 })
    expect(third).toMatchObject({ sequence: pub.sequence + 5n, value: '/ipfs/bafkqaaa/new', source: 'router' })
    expect((await resolver.ask({ type: 'store.get', kind: 'resolved', name: pub.name })).sequence).toBe(pub.sequence + 5n)
    const status = await resolver.ask({ type: 'swarm.status' })
    expect(status.routers?.endpoints.map(e => e.endpoint)).toEqual([downUrl, srv.url])
    expect(status.routers?.endpoints[0]).toMatchObject({ ok: 0 })
    // two records, and the correcting PUT
    expect(status.routers?.endpoints[1]).toMatchObject({ ok: 3, notFound: 1 })
  })

  it('publish puts to the DHT and every router at once and reports each outcome; a lone node is acknowledged by a router', async () => {
    const srv = await server()
    const refusing = await server({ behaviour: { refusePuts: true } })
    const lone = await node({ routers: { endpoints: [srv.url, refusing.url] } })
    const events = routerEvents(lone)
    const pub = await lone.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa' }, { timeoutMs: 10_000 })
    // no DHT peer took it, one router did
    expect(pub.peers).toBe(0)
    expect(pub.routers).toEqual([
      { endpoint: srv.url, ok: true, attempts: 1 },
      expect.objectContaining({ endpoint: refusing.url, ok: false, attempts: 1 })
    ])
    expect(srv.records.get(pub.name)).toEqual(pub.record)
    expect(events.find(e => e.type === 'ipns:publish:routers')?.detail).toMatchObject({ accepted: 1 })

    // neither the DHT nor any router: the publish fails, naming both
    srv.behaviour = { refusePuts: true }
    await expect(lone.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa' }, { timeoutMs: 10_000 })).rejects.toMatchObject({ message: expect.stringContaining('no HTTP router took it') })
  })
})

async function waitFor (check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
