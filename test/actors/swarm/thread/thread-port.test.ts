/**
 * The DhtPort contract on the direct libp2p port and on the network-thread
 * port (thread-port.ts + network-worker.ts, loaded from dist/), both built
 * from the same NetworkThreadConfig (thread-port-options.ts), on a real
 * loopback TCP testnet of 4 direct peers. Then what only the thread port
 * has: stream credit, its in-flight bound, the worker dying, the network
 * guard inside the worker.
 */
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { createLibp2pDhtPort, ed25519KeyFromSeed } from '../../../../src/actors/swarm/libp2p/libp2p-dht-port.js'
import { defaultSelectors, defaultValidators } from '../../../../src/actors/swarm/libp2p/namespaces.js'
import { LOCAL_PROFILE } from '../../../../src/actors/swarm/libp2p/profiles.js'
import {
  PortAbortError, PortFailedError, PortInvalidParametersError, PortNotFoundError, PortNotStartedError, PortOverloadedError
} from '../../../../src/actors/swarm/port-errors.js'
import { threadPortOptions } from '../../../../src/actors/swarm/thread/thread-port-options.js'
import { createThreadDhtPort } from '../../../../src/actors/swarm/thread/thread-port.js'
import type { ThreadPortOptions } from '../../../../src/actors/swarm/thread/thread-port.js'
import type { NetworkThreadConfig } from '../../../../src/actors/swarm/thread/thread-protocol.js'
import type { DhtPort, DhtProgress } from '../../../../src/actors/swarm/dht-port.js'
import { realClock, startPortTestnet, stopAll, testSeed } from '../../../helpers/port-testnet.js'
import type { PortTestnet } from '../../../helpers/port-testnet.js'
import { takeNetworkViolations } from '../../../setup/network-guard.js'
import { rejection } from '../../../helpers/sim.js'
import { collect } from '../../../node/support.js'

const LABEL = 'thread-contract'
const enc = new TextEncoder()
const dec = new TextDecoder()
const key = (name: string): Uint8Array => enc.encode(`/swarmbus/${name}`)
const bound = (ms = 15_000): AbortSignal => AbortSignal.timeout(ms)
/** a peer id nobody runs */
const GHOST = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

async function until (cond: () => boolean, ms = 5_000): Promise<boolean> {
  const end = realClock.now() + ms
  while (!cond() && realClock.now() < end) await realClock.wait(20)
  return cond()
}

/** a TCP listener that accepts and never speaks: a dial to it hangs in the handshake */
async function blackhole (): Promise<{ addr: (peer: string) => string, open: () => number, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer(s => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => sockets.delete(s)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    addr: peer => `/ip4/127.0.0.1/tcp/${address.port}/p2p/${peer}`,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

async function configFor (index: number, bootstrap: string[]): Promise<NetworkThreadConfig> {
  return {
    privateKey: privateKeyToProtobuf(await ed25519KeyFromSeed(testSeed(LABEL, index))),
    transport: 'tcp',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    profile: LOCAL_PROFILE,
    loopback: true,
    bootstrap
  }
}

let net: PortTestnet
let hole: Awaited<ReturnType<typeof blackhole>>
const started: DhtPort[] = []
const peer = (i: number): DhtPort => net.ports[i] ?? (() => { throw new Error(`no peer ${i}`) })()
const bootAddrs = (): string[] => net.ports.map(p => p.multiaddrs()[0] ?? '')

const makers: Record<'direct' | 'thread', (index: number, extra?: ThreadPortOptions) => Promise<DhtPort>> = {
  direct: async index => await createLibp2pDhtPort(threadPortOptions(await configFor(index, bootAddrs()), () => {})),
  thread: async (index, extra) => await createThreadDhtPort(await configFor(index, bootAddrs()), extra)
}

async function start (kind: 'direct' | 'thread', index: number, extra?: ThreadPortOptions): Promise<DhtPort> {
  const p = await makers[kind](index, extra)
  started.push(p)
  return p
}

beforeAll(async () => {
  net = await startPortTestnet({ nodes: 4, label: LABEL, transport: 'tcp', validators: defaultValidators(), selectors: defaultSelectors(), mesh: { timeoutMs: 30_000 } })
  hole = await blackhole()
})

afterAll(async () => {
  await stopAll(started)
  await net?.stop()
  await hole?.close()
})

describe.each(['direct', 'thread'] as const)('DhtPort contract: %s port', kind => {
  let port: DhtPort
  beforeAll(async () => {
    port = await start(kind, kind === 'direct' ? 10 : 11)
    const r = await port.bootstrap({ signal: bound() })
    expect(r.connected).toBe(4)
  })

  it('bootstraps into the testnet; status, connections and multiaddrs say so', async () => {
    expect(await until(() => port.status().routingTableSize >= 4)).toBe(true)
    const status = port.status()
    expect(status.peerId).toBe(port.peerId)
    expect(status.mode).toBe('server')
    expect(port.multiaddrs()[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${port.peerId}$`))
    expect(new Set(port.connections().map(c => c.peerId))).toEqual(new Set(net.ports.map(p => p.peerId)))
    expect(status.refusals?.byReason).toBeDefined()
  })

  it('puts a value the peers serve, and streams the peers\' values of a key a peer put', async () => {
    const k = key(`${kind}-put`)
    expect((await port.put(k, enc.encode('from-subject'), { signal: bound() })).peers).toBe(4)
    const theirs = await collect(peer(2).get(k, { signal: bound() }))
    expect(theirs.map(v => dec.decode(v.value))).toContain('from-subject')

    const k2 = key(`${kind}-get`)
    await peer(1).put(k2, enc.encode('from-peer'), { signal: bound() })
    const progress: DhtProgress[] = []
    const values = await collect(port.get(k2, { signal: bound(), onProgress: e => progress.push(e) }))
    expect(values.length).toBeGreaterThanOrEqual(4)
    for (const v of values) expect(dec.decode(v.value)).toBe('from-peer')
    expect(values[0]?.from).toBe(port.peerId)
    expect(progress.some(e => e.type === 'kad-dht:query:send-query' || e.type === 'kad-dht:query:value')).toBe(true)
  })

  it('putTo stores at the named peers and at itself', async () => {
    const k = key(`${kind}-putTo`)
    const r = await port.putTo(k, enc.encode('targeted'), [peer(3).peerId, port.peerId], Date.now(), { signal: bound() })
    expect(r.peers).toBe(2)
    const first = (await collect(peer(3).get(k, { signal: bound() }), 1))[0]
    expect(first?.from).toBe(peer(3).peerId)
  })

  it('refuses a record the validators refuse, as invalid-record', async () => {
    const err = await rejection(port.putTo(enc.encode('/ipns/not-a-name'), enc.encode('junk'), [peer(0).peerId], Date.now(), { signal: bound() }))
    expect((err as { reason?: string }).reason).toBe('invalid-record')
  })

  it('provides and finds providers', async () => {
    const cid = CID.createV1(raw.code, await sha256.digest(enc.encode(`${kind}-provided`))).toString()
    expect((await port.provide(cid, { signal: bound() })).peers).toBeGreaterThanOrEqual(1)
    const found = await collect(peer(1).findProviders(cid, { signal: bound() }))
    expect(found.map(p => p.peerId)).toContain(port.peerId)
  })

  it('finds a peer, and rejects a peer nobody knows with PortNotFoundError', async () => {
    const info = await port.findPeer(peer(2).peerId, { signal: bound() })
    expect(info.peerId).toBe(peer(2).peerId)
    expect(info.multiaddrs.length).toBeGreaterThan(0)
    const err = await rejection(port.findPeer(GHOST, { signal: bound() }))
    expect(err).toBeInstanceOf(PortNotFoundError)
  })

  it('streams the closest peers', async () => {
    const peers = await collect(port.closestPeers(key(`${kind}-closest`), { signal: bound() }))
    expect(peers.length).toBeGreaterThanOrEqual(3)
    expect(new Set(peers.map(p => p.peerId)).size).toBe(peers.length)
  })

  it('rejects a malformed multiaddr as invalid-parameters', async () => {
    expect(await rejection(port.dial('not a multiaddr', { signal: bound() }))).toBeInstanceOf(PortInvalidParametersError)
  })

  it('rejects at once on an aborted signal', async () => {
    const c = new AbortController()
    c.abort()
    expect(await rejection(port.put(key('x'), enc.encode('x'), { signal: c.signal }))).toBeInstanceOf(PortAbortError)
    expect(await rejection(collect(port.get(key('x'), { signal: c.signal })))).toBeInstanceOf(PortAbortError)
  })

  it('an abort mid-dial ends the call at once', async () => {
    const before = hole.open()
    const c = new AbortController()
    const dial = port.dial(hole.addr(GHOST), { signal: AbortSignal.any([c.signal, bound()]) })
    expect(await until(() => hole.open() > before)).toBe(true)
    const t0 = realClock.now()
    c.abort()
    expect(await rejection(dial)).toBeInstanceOf(PortAbortError)
    expect(realClock.now() - t0).toBeLessThan(100)
  })

  it('after stop, every op rejects with PortNotStartedError', async () => {
    const p = await start(kind, kind === 'direct' ? 20 : 21)
    await p.stop()
    expect(await rejection(p.put(key('x'), enc.encode('x'), { signal: bound() }))).toBeInstanceOf(PortNotStartedError)
    expect(await rejection(collect(p.get(key('x'), { signal: bound() })))).toBeInstanceOf(PortNotStartedError)
    await p.stop()
  })
})

describe('the network-thread port only', () => {
  it('sends stream items on credit: one item ahead of a slow reader, all delivered', async () => {
    const port = await start('thread', 30, { streamCredit: 1 })
    await port.bootstrap({ signal: bound() })
    const k = key('credit')
    await peer(0).put(k, enc.encode('v'), { signal: bound() })
    const got: string[] = []
    // a worker sending past its credit would fail this stream (the host buffers at most one)
    for await (const v of port.get(k, { signal: bound() })) {
      got.push(v.from)
      await realClock.wait(100)
    }
    expect(got.length).toBeGreaterThanOrEqual(4)
    await port.stop()
  })

  it('an abort stops the worker-side query (a stream parked on credit ends there, its call leaves the worker)', async () => {
    const port = await start('thread', 34, { streamCredit: 1 })
    await port.bootstrap({ signal: bound() })
    const k = key('parked')
    await peer(1).put(k, enc.encode('v'), { signal: bound() })
    const c = new AbortController()
    const it = port.get(k, { signal: AbortSignal.any([c.signal, bound()]) })[Symbol.asyncIterator]()
    expect((await it.next()).done).toBe(false)
    // more values are there, the worker holds them for want of credit: its call stays open
    await realClock.wait(300)
    expect(await until(() => port.status().thread?.calls === 1)).toBe(true)
    c.abort()
    expect(await rejection(it.next())).toBeInstanceOf(PortAbortError)
    expect(await until(() => port.status().thread?.calls === 0)).toBe(true)
    await port.stop()
  })

  it('refuses calls past its in-flight bound with PortOverloadedError', async () => {
    const port = await start('thread', 31, { maxCalls: 2 })
    const c = new AbortController()
    const signal = AbortSignal.any([c.signal, bound()])
    const hanging = [port.dial(hole.addr(GHOST), { signal }), port.dial(hole.addr(GHOST), { signal })]
    expect(await rejection(port.findPeer(GHOST, { signal: bound() }))).toBeInstanceOf(PortOverloadedError)
    c.abort()
    for (const h of hanging) expect(await rejection(h)).toBeInstanceOf(PortAbortError)
    // the slots are free again
    expect(await rejection(port.findPeer(GHOST, { signal: bound() }))).toBeInstanceOf(PortNotFoundError)
    await port.stop()
  })

  it('fails every pending and later call with PortFailedError when the worker dies', async () => {
    let worker: Worker | undefined
    const port = await start('thread', 32, { onWorker: w => { worker = w } })
    const pending = port.dial(hole.addr(GHOST), { signal: bound() })
    const stream = collect(port.get(key('dies'), { signal: bound() }))
    await worker?.terminate()
    const err = await rejection(pending)
    expect(err).toBeInstanceOf(PortFailedError)
    expect(err.message).toMatch(/network thread died/)
    expect((err as Error & { cause?: Error }).cause?.message).toMatch(/exited/)
    expect(await rejection(stream)).toBeInstanceOf(PortFailedError)
    expect(await rejection(port.put(key('x'), enc.encode('x'), { signal: bound() }))).toBeInstanceOf(PortFailedError)
    await port.stop()
  })

  it('runs below the event loop: nice 10 by default, as configured otherwise, and refuses a nice value out of range', async () => {
    const byDefault = await start('thread', 35)
    expect(byDefault.status().thread?.nice).toBe(10)
    await byDefault.stop()
    const asIs = await createThreadDhtPort({ ...await configFor(36, bootAddrs()), nice: 0 })
    started.push(asIs)
    expect(asIs.status().thread?.nice).toBe(0)
    await asIs.stop()
    const err = await rejection(createThreadDhtPort({ ...await configFor(37, bootAddrs()), nice: 20 }))
    expect(err.message).toMatch(/nice value must be an integer from 0 to 19/)
  })

  it('applies the network guard inside the worker and reports its refusals to this thread', async () => {
    const port = await start('thread', 33)
    const err = await rejection(port.dial(`/ip4/192.0.2.1/tcp/4001/p2p/${GHOST}`, { signal: bound() }))
    expect(err).toBeInstanceOf(PortFailedError)
    expect(await until(() => false, 50)).toBe(false)
    const violations = takeNetworkViolations()
    expect(violations).toContainEqual({ kind: 'libp2p', target: `/ip4/192.0.2.1/tcp/4001/p2p/${GHOST}` })
    await port.stop()
  })
})
