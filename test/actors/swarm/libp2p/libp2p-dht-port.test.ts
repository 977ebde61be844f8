/**
 * The libp2p DhtPort on a real loopback TCP testnet (and one memory-transport
 * case). Every wait is bounded by a signal; every node is stopped in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { Libp2pRecord } from '@libp2p/record'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { DHT_RECORD_PREFIX } from '../../../../src/actors/swarm/libp2p/ipns-dht.js'
import type { AbortOptions } from '@libp2p/interface'
import { createLibp2pDhtPort, ed25519KeyFromSeed } from '../../../../src/actors/swarm/libp2p/libp2p-dht-port.js'
import { realClock, startPort, startPortTestnet, stopAll, testSeed } from '../../../helpers/port-testnet.js'
import type { DhtPort, DhtProgress } from '../../../../src/actors/swarm/dht-port.js'
import type { PortTestnet, PortTestnetOptions } from '../../../helpers/port-testnet.js'

const NS = 'swarmbus-test'
const enc = new TextEncoder()
const dec = new TextDecoder()
const validators = {
  [NS]: (_key: Uint8Array, value: Uint8Array): void => {
    if (value.byteLength === 0 || value.byteLength > 1024) throw new Error('test record must be 1..1024 bytes')
    if (dec.decode(value).startsWith('invalid')) throw new Error('test record marked invalid')
  }
}
const selectors = { [NS]: (): number => 0 }
const key = (name: string): Uint8Array => enc.encode(`/${NS}/${name}`)
/** Safety bound for any single operation in these tests (the port itself sets none). */
const bound = (ms = 15_000): AbortSignal => AbortSignal.timeout(ms)

async function collect<T> (source: AsyncIterable<T>, max = 100): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) {
    out.push(item)
    if (out.length >= max) break
  }
  return out
}

async function cidOf (text: string): Promise<string> {
  return CID.createV1(raw.code, await sha256.digest(enc.encode(text))).toString()
}

async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    if (err instanceof Error) return err
    throw new Error(`rejected with a non-Error: ${String(err)}`, { cause: err })
  }
  throw new Error('expected a rejection')
}

const base: PortTestnetOptions = { nodes: 6, label: 'port-tcp', transport: 'tcp', validators, selectors, mesh: { timeoutMs: 30_000 } }

describe('Libp2pDhtPort on a 6-node loopback TCP testnet', () => {
  let net: PortTestnet
  let ports: DhtPort[]
  const extra: DhtPort[] = []
  const port = (i: number): DhtPort => {
    const p = ports[i]
    if (p === undefined) throw new Error(`no port ${i}`)
    return p
  }
  const startExtra = async (index: number, options: Parameters<typeof startPort>[2] = {}): Promise<DhtPort> => {
    const p = await startPort(base, index, options)
    extra.push(p)
    return p
  }

  beforeAll(async () => {
    net = await startPortTestnet(base)
    ports = net.ports
  })

  afterAll(async () => {
    await stopAll(extra)
    await net?.stop()
  })

  it('settles: every routing table holds the other 5 servers', () => {
    expect(net.mesh?.settled).toBe(true)
    for (const p of ports) {
      const status = p.status()
      expect(status.routingTableSize).toBeGreaterThanOrEqual(5)
      expect(status.mode).toBe('server')
      expect(status.connections).toBeGreaterThanOrEqual(5)
      expect(status.multiaddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/)
      expect(status.peerId).toBe(p.peerId)
    }
  })

  it('gives stable peer ids from seeds', async () => {
    const id = peerIdFromPrivateKey(await ed25519KeyFromSeed(testSeed(base.label, 0)))
    expect(port(0).peerId).toBe(id.toString())
  })

  it('puts on A and streams the values on B, local hit first', async () => {
    const k = key('hello')
    const put = await port(0).put(k, enc.encode('world'), { signal: bound() })
    expect(put.peers).toBe(5)

    const froms: string[] = []
    for await (const v of port(1).get(k, { signal: bound() })) {
      expect(dec.decode(v.value)).toBe('world')
      froms.push(v.from)
    }
    // B is a server that accepted the PUT: its own copy comes first, then the others'
    expect(froms[0]).toBe(port(1).peerId)
    expect(new Set(froms).size).toBe(froms.length)
    expect(froms.length).toBeGreaterThanOrEqual(5)
  })

  it('yields a peer\'s value while the lookup is still running (client node, no local copy)', async () => {
    const client = await startExtra(100, { mode: 'client' })
    for (const p of ports) await client.dial(p.multiaddrs()[0] ?? '', { signal: bound() })
    expect(client.status().mode).toBe('client')
    const k = key('streaming')
    await port(2).put(k, enc.encode('v1'), { signal: bound() })

    const log: string[] = []
    const onProgress = (e: DhtProgress): void => { log.push(e.type) }
    const values: string[] = []
    for await (const v of client.get(k, { signal: bound(), onProgress })) {
      values.push(v.from)
      log.push('yield')
    }
    expect(values).not.toContain(client.peerId)
    expect(values.length).toBeGreaterThanOrEqual(3)
    const firstYield = log.indexOf('yield')
    const lastResponse = log.lastIndexOf('kad-dht:query:peer-response')
    expect(firstYield).toBeGreaterThan(-1)
    // the first value reached the caller before the last peer had answered
    expect(firstYield).toBeLessThan(lastResponse)
  })

  it('the direct lookup and kad-dht\'s query find the same values (client node)', async () => {
    const direct = await startExtra(110, { mode: 'client' })
    const viaKad = await startExtra(111, { mode: 'client', valueLookup: 'kad-dht' })
    for (const c of [direct, viaKad]) for (const p of ports) await c.dial(p.multiaddrs()[0] ?? '', { signal: bound() })
    const k = key('both-ways')
    await port(1).put(k, enc.encode('same'), { signal: bound() })
    const a = await collect(direct.get(k, { signal: bound() }))
    const b = await collect(viaKad.get(k, { signal: bound() }))
    expect(new Set(a.map(v => v.from))).toEqual(new Set(b.map(v => v.from)))
    expect(a.map(v => dec.decode(v.value))).toEqual(a.map(() => 'same'))
    expect(a.length).toBe(ports.length)
  })

  it('want: as many requests as values wanted, the own copy counted, and no more', async () => {
    const k = key('want')
    await port(0).put(k, enc.encode('w'), { signal: bound() })
    let open = 0
    let most = 0
    let sent = 0
    const got: string[] = []
    const onProgress = (e: DhtProgress): void => {
      if (e.type === 'kad-dht:query:send-query') { sent++; most = Math.max(most, ++open) }
      if (e.type === 'kad-dht:query:peer-response' || e.type === 'kad-dht:query:query-error') open--
    }
    // port(2) holds a copy: it is the first value, so want 3 keeps 2 requests
    // in flight, and every peer holds one: 2 requests in all, 3 values
    for await (const v of port(2).get(k, { signal: bound(), want: 3, onProgress })) got.push(v.from)
    expect(got[0]).toBe(port(2).peerId)
    expect(got).toHaveLength(3)
    expect(most).toBe(2)
    expect(sent).toBe(2)
    // without want, the lookup asks every peer
    expect(await collect(port(2).get(k, { signal: bound() }))).toHaveLength(ports.length)
  })

  it('a burst of 80 gets through one peer stays under its 32-stream limit: every get finds the value', async () => {
    // kad-dht's handler resets inbound streams beyond 32 per connection; the
    // port keeps at most 12 requests open per peer and queues the rest
    const lone = await startExtra(112, { mode: 'client' })
    await lone.dial(port(5).multiaddrs()[0] ?? '', { signal: bound() })
    const k = key('burst')
    await port(5).put(k, enc.encode('b'), { signal: bound() })
    const results = await Promise.all(Array.from({ length: 80 }, async () => await collect(lone.get(k, { signal: bound(), want: 1 }))))
    expect(results.filter(r => r.some(v => v.from === port(5).peerId))).toHaveLength(80)
  })

  it('reaches a peer it only learns of from an answer (dialled at the address that answer gave)', async () => {
    // the client knows one server; the others are named in that server's answer
    const client = await startExtra(113, { mode: 'client' })
    await client.dial(port(0).multiaddrs()[0] ?? '', { signal: bound() })
    const k = key('walk')
    await port(3).put(k, enc.encode('w'), { signal: bound() })
    const froms = (await collect(client.get(k, { signal: bound() }))).map(v => v.from)
    expect(froms).toContain(port(0).peerId)
    expect(froms.length).toBe(ports.length)
    expect(client.status().connections).toBe(ports.length)
  })

  it('putTo stores at exactly the named peers (itself included when named), without a lookup', async () => {
    const k = key('put-to')
    const sent: string[] = []
    const r = await port(0).putTo(k, enc.encode('only-here'), [port(1).peerId, port(0).peerId], Date.now(), {
      signal: bound(),
      onProgress: e => { if (e.type === 'kad-dht:query:send-query') sent.push(e.peer ?? '') }
    })
    expect(r.peers).toBe(2)
    expect(sent).toEqual([port(1).peerId])
    // each holder's own copy is the first value its get yields; a peer not named holds none
    const firstFrom = async (i: number): Promise<string | undefined> => (await collect(port(i).get(k, { signal: bound() }), 1))[0]?.from
    expect(await firstFrom(1)).toBe(port(1).peerId)
    expect(await firstFrom(0)).toBe(port(0).peerId)
    expect(await firstFrom(3)).not.toBe(port(3).peerId)
    // a value the namespace refuses is sent to nobody
    await expect(port(0).putTo(k, enc.encode('invalid!'), [port(2).peerId], Date.now(), { signal: bound() })).rejects.toThrow('marked invalid')
    // a peer that cannot be reached is a peer that did not accept it
    const ghost = peerIdFromPrivateKey(await ed25519KeyFromSeed(testSeed('ghost', 7))).toString()
    expect((await port(0).putTo(k, enc.encode('again'), [ghost, port(1).peerId], Date.now(), { signal: bound() })).peers).toBe(1)
  })

  it('stops the query when the consumer leaves early', async () => {
    const k = key('early')
    await port(3).put(k, enc.encode('x'), { signal: bound() })
    const t0 = realClock.now()
    const first = await collect(port(4).get(k, { signal: bound() }), 1)
    expect(first).toHaveLength(1)
    expect(realClock.now() - t0).toBeLessThan(2_000)
  })

  it('counts only peers that accepted the PUT (remote validators reject)', async () => {
    const put = await port(0).put(key('rejected'), enc.encode('invalid value'), { signal: bound() })
    expect(put.peers).toBe(0)
  })

  it('provides and finds providers, de-duplicated, with addresses', async () => {
    const cid = await cidOf('provided-by-A')
    const provided = await port(0).provide(cid, { signal: bound() })
    expect(provided.peers).toBeGreaterThanOrEqual(4)

    const found = await collect(port(5).findProviders(cid, { signal: bound() }))
    const ids = found.map(p => p.peerId)
    expect(ids).toContain(port(0).peerId)
    expect(new Set(ids).size).toBe(ids.length)
    const a = found.find(p => p.peerId === port(0).peerId)
    expect(a?.multiaddrs.some(m => m.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    expect(a?.multiaddrs.every(m => !m.includes('/p2p/'))).toBe(true)
  })

  it('finds a connected peer from the peer store', async () => {
    const info = await port(1).findPeer(port(2).peerId, { signal: bound() })
    expect(info.peerId).toBe(port(2).peerId)
    expect(info.multiaddrs.length).toBeGreaterThan(0)
  })

  it('finds a peer it has never met through the DHT', async () => {
    // X knows only node 0; Y knows only node 1: Y must ask the DHT for X
    const x = await startExtra(101)
    const y = await startExtra(102)
    await x.dial(port(0).multiaddrs()[0] ?? '', { signal: bound() })
    await y.dial(port(1).multiaddrs()[0] ?? '', { signal: bound() })
    const signal = bound()
    for (let i = 0; i < 200 && port(0).status().routingTableSize < 6 && !signal.aborted; i++) await realClock.wait(20)
    for (let i = 0; i < 200 && y.status().routingTableSize < 1 && !signal.aborted; i++) await realClock.wait(20)

    const progress: DhtProgress[] = []
    const info = await y.findPeer(x.peerId, { signal, onProgress: e => progress.push(e) })
    expect(info.peerId).toBe(x.peerId)
    expect(info.multiaddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\//)
    expect(progress.some(e => e.type === 'kad-dht:query:send-query' && e.peer !== undefined)).toBe(true)
  })

  it('rejects with NotFoundError for a peer nobody knows', async () => {
    const ghost = peerIdFromPrivateKey(await ed25519KeyFromSeed(testSeed('ghost', 0))).toString()
    const err = await rejection(port(3).findPeer(ghost, { signal: bound() }))
    expect(err.name).toBe('NotFoundError')
  })

  it('streams the closest peers, de-duplicated', async () => {
    const peers = await collect(port(0).closestPeers(key('closest'), { signal: bound() }))
    const ids = peers.map(p => p.peerId)
    expect(ids.length).toBeGreaterThanOrEqual(4)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).not.toContain(port(0).peerId)
  })

  it('dials a multiaddr and lists the connection', async () => {
    const z = await startExtra(103)
    const addr = z.multiaddrs()[0] ?? ''
    const dialled = await port(5).dial(addr, { signal: bound() })
    expect(dialled.peerId).toBe(z.peerId)
    const conn = port(5).connections().find(c => c.peerId === z.peerId)
    expect(conn?.direction).toBe('outbound')
    expect(conn?.remoteAddr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    // the listener registers its side of the connection a moment later
    const inbound = (): string | undefined => z.connections().find(c => c.peerId === port(5).peerId)?.direction
    for (let i = 0; i < 100 && inbound() === undefined; i++) await realClock.wait(10)
    expect(inbound()).toBe('inbound')
  })

  it('bootstraps from configured peers and fills its routing table', async () => {
    const b = await startExtra(104, { bootstrap: [port(0).multiaddrs()[0] ?? '', port(1).multiaddrs()[0] ?? ''] })
    const result = await b.bootstrap({ signal: bound() })
    expect(result.connected).toBe(2)
    // the self lookup after dialling reaches the rest of the servers
    expect(result.routingTableSize).toBeGreaterThanOrEqual(4)
    expect(b.status().routingTableSize).toBe(result.routingTableSize)
  })

  it('ends a query promptly with AbortError when aborted mid-flight', async () => {
    const controller = new AbortController()
    let abortedAt = 0
    const onProgress = (e: DhtProgress): void => {
      if (abortedAt === 0 && e.type === 'kad-dht:query:send-query') {
        abortedAt = realClock.now()
        controller.abort()
      }
    }
    const safety = bound()
    const signal = AbortSignal.any([controller.signal, safety])
    const err = await rejection(collect(port(2).get(key('never-stored'), { signal, onProgress })))
    const took = realClock.now() - abortedAt
    expect(safety.aborted).toBe(false)
    expect(err.name).toBe('AbortError')
    expect(abortedAt).toBeGreaterThan(0)
    expect(took).toBeLessThan(100)
  })

  it('rejects put, findPeer and dial with AbortError on an aborted signal', async () => {
    const controller = new AbortController()
    controller.abort()
    const { signal } = controller
    expect((await rejection(port(0).put(key('x'), enc.encode('x'), { signal }))).name).toBe('AbortError')
    expect((await rejection(port(0).findPeer(port(1).peerId, { signal }))).name).toBe('AbortError')
    expect((await rejection(port(0).dial(port(1).multiaddrs()[0] ?? '', { signal }))).name).toBe('AbortError')
    expect((await rejection(collect(port(0).closestPeers(key('x'), { signal })))).name).toBe('AbortError')
  })

  it('aborts a put mid-flight promptly', async () => {
    const controller = new AbortController()
    let abortedAt = 0
    const onProgress = (e: DhtProgress): void => {
      if (abortedAt === 0 && e.type === 'kad-dht:query:send-query') {
        abortedAt = realClock.now()
        controller.abort()
      }
    }
    const err = await rejection(port(3).put(key('aborted-put'), enc.encode('v'), { signal: AbortSignal.any([controller.signal, bound()]), onProgress }))
    expect(err.name).toBe('AbortError')
    expect(realClock.now() - abortedAt).toBeLessThan(100)
  })

  it('survives a peer stopping mid-query', async () => {
    const victim = await startExtra(105)
    for (const p of ports) await victim.dial(p.multiaddrs()[0] ?? '', { signal: bound() })
    const asker = port(4)
    const signal = bound()
    for (let i = 0; i < 200 && asker.status().routingTableSize < 6 && !signal.aborted; i++) await realClock.wait(20)
    const k = key('victim')
    await port(0).put(k, enc.encode('v'), { signal })

    let stopping: Promise<void> | undefined
    const onProgress = (e: DhtProgress): void => {
      if (stopping === undefined && e.type === 'kad-dht:query:send-query') stopping = victim.stop()
    }
    const t0 = realClock.now()
    const values = await collect(asker.get(k, { signal, onProgress }))
    await stopping
    expect(signal.aborted).toBe(false)
    expect(values.length).toBeGreaterThanOrEqual(1)
    expect(realClock.now() - t0).toBeLessThan(10_000)
  })

  it('rejects bad input and use after stop with named errors', async () => {
    expect((await rejection(port(0).provide('not-a-cid', { signal: bound() }))).name).toBe('InvalidParametersError')
    expect((await rejection(port(0).findPeer('nope', { signal: bound() }))).name).toBe('InvalidParametersError')
    const s = await startExtra(106)
    await s.stop()
    expect((await rejection(s.put(key('x'), enc.encode('x'), { signal: bound() }))).name).toBe('NotStartedError')
    expect((await rejection(collect(s.get(key('x'), { signal: bound() })))).name).toBe('NotStartedError')
  })
})

describe('Libp2pDhtPort with an empty routing table', () => {
  let lone: DhtPort
  beforeAll(async () => {
    lone = await createLibp2pDhtPort({
      datastore: new MemoryDatastore(),
      privateKey: await ed25519KeyFromSeed(testSeed('lone', 0)),
      loopback: true,
      validators,
      selectors
    })
  })
  afterAll(async () => { await lone?.stop() })

  it('ends every query at once instead of waiting for peers', async () => {
    const signal = bound(5_000)
    const t0 = realClock.now()
    expect(await lone.put(key('alone'), enc.encode('me'), { signal })).toEqual({ peers: 0 })
    const local = await collect(lone.get(key('alone'), { signal }))
    expect(local.map(v => v.from)).toEqual([lone.peerId])
    expect(await collect(lone.get(key('missing'), { signal }))).toEqual([])
    expect(await collect(lone.closestPeers(key('alone'), { signal }))).toEqual([])
    expect(await collect(lone.findProviders(await cidOf('none'), { signal }))).toEqual([])
    expect(await lone.provide(await cidOf('mine'), { signal })).toEqual({ peers: 0 })
    const ghost = peerIdFromPrivateKey(await ed25519KeyFromSeed(testSeed('ghost', 1))).toString()
    expect((await rejection(lone.findPeer(ghost, { signal }))).name).toBe('NotFoundError')
    expect(await lone.bootstrap({ signal })).toEqual({ connected: 0, routingTableSize: 0, failed: [] })
    expect(signal.aborted).toBe(false)
    expect(realClock.now() - t0).toBeLessThan(2_000)
  })
})

describe('Libp2pDhtPort: a local copy it cannot use is reported, not dropped in silence', () => {
  /** a datastore whose reads of DHT records fail while `broken` */
  class FlakyDatastore extends MemoryDatastore {
    broken = false
    override get (k: Key, options?: AbortOptions): ReturnType<MemoryDatastore['get']> {
      if (this.broken && k.toString().startsWith(DHT_RECORD_PREFIX)) throw Object.assign(new Error('disk on fire'), { name: 'LevelError' })
      return super.get(k, options)
    }
  }
  const store = new FlakyDatastore()
  let lone: DhtPort
  beforeAll(async () => {
    lone = await createLibp2pDhtPort({ datastore: store, privateKey: await ed25519KeyFromSeed(testSeed('flaky', 0)), loopback: true, validators, selectors })
  })
  afterAll(async () => { await lone?.stop() })

  const errorsOf = async (name: string): Promise<string[]> => {
    const events: DhtProgress[] = []
    expect(await collect(lone.get(key(name), { signal: bound(5_000), onProgress: e => { events.push(e) } }))).toEqual([])
    return events.filter(e => e.type === 'kad-dht:query:query-error' && e.peer === lone.peerId).map(e => e.detail ?? '')
  }

  it('no copy at all: nothing to report', async () => {
    expect(await errorsOf('never-stored')).toEqual([])
  })

  it('a copy the validator refuses: a query-error event from this node, with the validator\'s words', async () => {
    const k = key('refused')
    await store.put(new Key(`${DHT_RECORD_PREFIX}${uint8ArrayToString(k, 'base32')}`, false), new Libp2pRecord(k, enc.encode('invalid copy'), new Date()).serialize())
    expect(await errorsOf('refused')).toEqual(['local copy invalid: Error: test record marked invalid'])
  })

  it('a datastore that fails to read: a query-error event naming the error, and the lookup goes on', async () => {
    store.broken = true
    try {
      expect(await errorsOf('unreadable')).toEqual(['local copy unreadable: LevelError: disk on fire'])
    } finally {
      store.broken = false
    }
  })
})

describe('Libp2pDhtPort over the memory transport', () => {
  let net: PortTestnet
  beforeAll(async () => {
    net = await startPortTestnet({ nodes: 3, label: 'port-mem', transport: 'memory', validators, selectors })
  })
  afterAll(async () => { await net?.stop() })

  it('meshes, puts and gets in-process', async () => {
    const [a, b, c] = net.ports
    if (a === undefined || b === undefined || c === undefined) throw new Error('3 ports expected')
    expect(a.multiaddrs()[0]).toMatch(/^\/memory\/swarmbus-port-mem-0\/p2p\//)
    expect(c.status().routingTableSize).toBe(2)
    const put = await a.put(key('mem'), enc.encode('in-process'), { signal: bound() })
    expect(put.peers).toBe(2)
    const values = await collect(c.get(key('mem'), { signal: bound() }))
    expect(values.map(v => dec.decode(v.value))).toEqual(['in-process', 'in-process', 'in-process'])
    expect(new Set(values.map(v => v.from))).toEqual(new Set([a.peerId, b.peerId, c.peerId]))
  })
})

describe('Libp2pDhtPort options', () => {
  it('refuses a validator namespace without a selector (kad-dht get would end in MissingSelectorError)', async () => {
    const err = await rejection(createLibp2pDhtPort({
      datastore: new MemoryDatastore(),
      privateKey: await ed25519KeyFromSeed(testSeed('nosel', 0)),
      validators: { lonely: () => {} }
    }))
    expect(err.name).toBe('InvalidParametersError')
    expect(err.message).toContain('lonely')
  })

  it('needs a listen address for the memory transport', async () => {
    const err = await rejection(createLibp2pDhtPort({
      datastore: new MemoryDatastore(),
      privateKey: await ed25519KeyFromSeed(testSeed('nolisten', 0)),
      transport: 'memory'
    }))
    expect(err.name).toBe('RangeError')
  })
})
