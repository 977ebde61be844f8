/**
 * kad-stream-pool: our DHT requests reuse streams per peer. The unit tests
 * dial in-memory stream pairs (@libp2p/utils' streamPair) served by a small
 * DHT responder, on a simulated clock; the last test runs real kad-dht
 * servers on loopback through the port.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { pbStream, streamPair } from '@libp2p/utils'
import { SimulatedClock } from '../../../../src/actors/runtime/clock.js'
import { PeerGate } from '../../../../src/actors/swarm/dht-client/kad-rpc.js'
import { KadStreamPool } from '../../../../src/actors/swarm/dht-client/kad-stream-pool.js'
import { Message, MessageType } from '../../../../src/actors/swarm/dht-client/pb/dht.js'
import { startPort, stopAll } from '../../../helpers/port-testnet.js'
import type { DhtPort } from '../../../../src/actors/swarm/dht-port.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const A = peerIdFromString('12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9pP2EQhsHBPWX')
const B = peerIdFromString('12D3KooWGdhGxXKxXR5UkbE4H8hF1x4QYnnnpXdC9sRRMiBeAoJe')
const enc = new TextEncoder()
const dec = new TextDecoder()
const signal = (): AbortSignal => AbortSignal.timeout(5_000)
const get = (key: string): { type: MessageType, key: Uint8Array } => ({ type: MessageType.GET_VALUE, key: enc.encode(key) })

type Codec = Parameters<ReturnType<typeof pbStream>['pb']>[0]
const codec = { encode: (m: Message) => Message.encode(m), decode: (d: Uint8Array | { subarray: () => Uint8Array }) => Message.decode(d instanceof Uint8Array ? d : d.subarray()) } as unknown as Codec

/**
 * A fake node whose dials return in-memory streams, each served by a loop
 * like kad-dht's: read a request, answer with record = "<key>#<stream no>",
 * until the stream ends. `resetOnSecond` makes a stream reset (instead of
 * answering) when its second request arrives: a server that timed the stream
 * out just as we reused it.
 */
function fakeNode (opts: { resetOnSecond?: boolean, dialGate?: (signal: AbortSignal) => Promise<void> } = {}): { node: Libp2p, dials: () => number, serverStreams: Stream[] } {
  let dials = 0
  const serverStreams: Stream[] = []
  const node = {
    getConnections: () => [],
    dialProtocol: async (_target: unknown, _protocol: string, options: { signal: AbortSignal }) => {
      const n = ++dials
      await opts.dialGate?.(options.signal)
      const [outbound, inbound] = await streamPair()
      serverStreams.push(inbound)
      void (async () => {
        const messages = pbStream(inbound).pb(codec)
        for (let i = 0; i < 100; i++) {
          const req = await messages.read() as Message
          if (opts.resetOnSecond === true && i === 1) {
            inbound.abort(new Error('stream idle too long'))
            return
          }
          await messages.write({ type: req.type, key: req.key, record: enc.encode(`${dec.decode(req.key)}#${n}`), closer: [] })
        }
      })().catch(() => {})
      return outbound
    }
  } as unknown as Libp2p
  return { node, dials: () => dials, serverStreams }
}

const recordOf = (m: Message): string => dec.decode(m.record ?? new Uint8Array())

describe('KadStreamPool', () => {
  it('sends one request after another on one stream per peer', async () => {
    const f = fakeNode()
    const pool = new KadStreamPool(f.node, '/ipfs/kad/1.0.0', new PeerGate(4, 10), new SimulatedClock(0))
    const answers: string[] = []
    for (let i = 0; i < 5; i++) answers.push(recordOf(await pool.exchange(A, A, get(`/t/${i}`), signal())))
    expect(answers).toEqual(['/t/0#1', '/t/1#1', '/t/2#1', '/t/3#1', '/t/4#1'])
    await pool.exchange(B, B, get('/t/b'), signal())
    expect(f.dials()).toBe(2)
    expect(pool.stats()).toMatchObject({ streamsOpened: 2, streamsReused: 4, streamsRetried: 0, streamsIdle: 2, open: 0 })
    pool.close()
  })

  it('concurrent requests to a peer use concurrent streams, and keep at most perPeer of them', async () => {
    const f = fakeNode()
    const pool = new KadStreamPool(f.node, '/ipfs/kad/1.0.0', new PeerGate(3, 100), new SimulatedClock(0))
    const round = async (): Promise<string[]> => (await Promise.all(Array.from({ length: 9 }, async (_, i) => await pool.exchange(A, A, get(`/t/${i}`), signal())))).map(recordOf)
    const first = await round()
    expect(first.map(r => r.split('#')[0])).toEqual(Array.from({ length: 9 }, (_, i) => `/t/${i}`))
    expect(f.dials()).toBe(3)
    await round()
    expect(f.dials()).toBe(3)
    expect(pool.stats()).toMatchObject({ streamsOpened: 3, streamsReused: 15, streamsIdle: 3, open: 0, waiting: 0 })
    pool.close()
  })

  it('a reused stream the peer resets is replaced once by a fresh one, and the answer still arrives', async () => {
    const f = fakeNode({ resetOnSecond: true })
    const pool = new KadStreamPool(f.node, '/ipfs/kad/1.0.0', new PeerGate(4, 10), new SimulatedClock(0))
    expect(recordOf(await pool.exchange(A, A, get('/t/1'), signal()))).toBe('/t/1#1')
    expect(recordOf(await pool.exchange(A, A, get('/t/2'), signal()))).toBe('/t/2#2')
    expect(pool.stats()).toMatchObject({ streamsOpened: 2, streamsReused: 1, streamsRetried: 1 })
    pool.close()
  })

  it('a fresh stream that fails is not retried, and a failed stream is never pooled', async () => {
    let dials = 0
    const node = {
      getConnections: () => [],
      dialProtocol: async () => {
        dials++
        const [outbound, inbound] = await streamPair()
        void pbStream(inbound).pb(codec).read().then(() => { inbound.abort(new Error('refused')) }, () => {})
        return outbound
      }
    } as unknown as Libp2p
    const pool = new KadStreamPool(node, '/ipfs/kad/1.0.0', new PeerGate(4, 10), new SimulatedClock(0))
    await expect(pool.exchange(A, A, get('/t/1'), signal())).rejects.toThrow()
    expect(dials).toBe(1)
    expect(pool.stats()).toMatchObject({ streamsIdle: 0, open: 0 })
    pool.close()
  })

  it('closes streams idle for idleMs on the injected clock, and skips streams the peer closed', async () => {
    const f = fakeNode()
    const clock = new SimulatedClock(0)
    const pool = new KadStreamPool(f.node, '/ipfs/kad/1.0.0', new PeerGate(4, 10), clock, { idleMs: 1_000 })
    await pool.exchange(A, A, get('/t/1'), signal())
    await pool.exchange(B, B, get('/t/2'), signal())
    expect(pool.stats().streamsIdle).toBe(2)
    clock.advance(999)
    expect(pool.stats().streamsIdle).toBe(2)
    clock.advance(1)
    expect(pool.stats().streamsIdle).toBe(0)
    // the peer ends an idle stream: the next request does not use it
    await pool.exchange(A, A, get('/t/3'), signal())
    const serverSide = f.serverStreams[2]
    serverSide?.abort(new Error('gone'))
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(recordOf(await pool.exchange(A, A, get('/t/4'), signal()))).toBe('/t/4#4')
    expect(pool.stats()).toMatchObject({ streamsOpened: 4, streamsRetried: 0 })
    pool.close()
  })

  it('holds at most maxIdle idle streams over all peers, and none after close', async () => {
    const f = fakeNode()
    const pool = new KadStreamPool(f.node, '/ipfs/kad/1.0.0', new PeerGate(4, 10), new SimulatedClock(0), { maxIdle: 1 })
    await pool.exchange(A, A, get('/t/1'), signal())
    await pool.exchange(B, B, get('/t/2'), signal())
    expect(pool.stats().streamsIdle).toBe(1)
    pool.close()
    expect(pool.stats().streamsIdle).toBe(0)
    await pool.exchange(A, A, get('/t/3'), signal())
    expect(pool.stats().streamsIdle).toBe(0)
  })
})

describe('KadStreamPool: opening streams', () => {
  /** dials that wait until the test lets them through, or their signal fires */
  function heldDials (): { release: () => void, gate: (signal: AbortSignal) => Promise<void> } {
    const waiting: Array<() => void> = []
    return {
      release: () => { for (const go of waiting.splice(0)) go() },
      gate: async signal => await new Promise<void>((resolve, reject) => {
        waiting.push(resolve)
        signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
      })
    }
  }

  it('an open that hangs fails after openMs on the injected clock, typed, and is reported; a caller that left got AbortError at once', async () => {
    const held = heldDials()
    const f = fakeNode({ dialGate: held.gate })
    const clock = new SimulatedClock(0)
    const failed: Array<{ peer: string, err: unknown }> = []
    const gate = new PeerGate(1, 10)
    const pool = new KadStreamPool(f.node, '/ipfs/kad/1.0.0', gate, clock, { openMs: 4_000 }, (peer, err) => { failed.push({ peer: peer.toString(), err }) })
    const caller = new AbortController()
    const phases: string[] = []
    const first = pool.exchange(A, A, get('/t/1'), caller.signal, p => { phases.push(p) })
    await new Promise(resolve => setImmediate(resolve))
    caller.abort()
    await expect(first).rejects.toMatchObject({ name: 'AbortError' })
    // the open goes on, holding the peer's only slot
    expect(gate.counts().open).toBe(1)
    clock.advance(3_999)
    await new Promise(resolve => setImmediate(resolve))
    expect(failed).toEqual([])
    clock.advance(1)
    await new Promise(resolve => setImmediate(resolve))
    expect(failed).toHaveLength(1)
    expect(failed[0]?.err).toMatchObject({ name: 'TimeoutError', code: 'stream-open-timeout' })
    expect(pool.stats()).toMatchObject({ openFailed: 1, open: 0 })
    expect(phases).toEqual([]) // no connection: dialling, never written
    // a caller still waiting gets the typed failure itself
    const second = pool.exchange(A, A, get('/t/2'), signal())
    await new Promise(resolve => setImmediate(resolve))
    clock.advance(4_000)
    await expect(second).rejects.toMatchObject({ code: 'stream-open-timeout' })
    expect(failed).toHaveLength(2)
    pool.close()
  })

  it('a stream that opens after its caller left joins the idle pool, and the next request uses it', async () => {
    const held = heldDials()
    const f = fakeNode({ dialGate: held.gate })
    const pool = new KadStreamPool(f.node, '/ipfs/kad/1.0.0', new PeerGate(2, 10), new SimulatedClock(0), {}, () => { throw new Error('no open failed') })
    const caller = new AbortController()
    const first = pool.exchange(A, A, get('/t/1'), caller.signal)
    await new Promise(resolve => setImmediate(resolve))
    caller.abort()
    await expect(first).rejects.toMatchObject({ name: 'AbortError' })
    held.release()
    await new Promise(resolve => setImmediate(resolve))
    expect(pool.stats()).toMatchObject({ streamsOpened: 1, streamsIdle: 1, open: 0 })
    const phases: string[] = []
    expect(recordOf(await pool.exchange(A, A, get('/t/2'), signal(), p => { phases.push(p) }))).toBe('/t/2#1')
    expect(phases).toEqual(['sent'])
    expect(f.dials()).toBe(1)
    pool.close()
  })

  it('close() aborts opens still running, and reports none of them', async () => {
    const held = heldDials()
    const f = fakeNode({ dialGate: held.gate })
    const pool = new KadStreamPool(f.node, '/ipfs/kad/1.0.0', new PeerGate(2, 10), new SimulatedClock(0), {}, () => { throw new Error('no open failed') })
    const p = pool.exchange(A, A, get('/t/1'), signal())
    await new Promise(resolve => setImmediate(resolve))
    pool.close()
    await expect(p).rejects.toThrow()
    expect(pool.stats().openFailed).toBe(0)
  })
})

describe('the port reuses streams to kad-dht servers', () => {
  const ports: DhtPort[] = []
  afterEach(async () => { await stopAll(ports.splice(0)) })

  it('20 lookups to one kad-dht server open one stream and find every value', async () => {
    const NS = 'pooltest'
    const net = { nodes: 2, label: 'kad-stream-pool', validators: { [NS]: () => {} }, selectors: { [NS]: () => 0 } }
    const server = await startPort(net, 0)
    ports.push(server)
    const client = await startPort(net, 1, { bootstrap: [server.multiaddrs()[0] ?? ''] })
    ports.push(client)
    await client.bootstrap({ signal: signal() })
    const key = (i: number): Uint8Array => enc.encode(`/${NS}/k${i}`)
    for (let i = 0; i < 20; i++) await client.putTo(key(i), enc.encode(`v${i}`), [server.peerId], 0, { signal: signal() })
    const before = (await client.status()).dhtRequests
    const found: string[] = []
    for (let i = 0; i < 20; i++) {
      for await (const v of client.get(key(i), { signal: signal(), want: 1 })) found.push(dec.decode(v.value))
    }
    expect(found).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`))
    const after = (await client.status()).dhtRequests
    expect(after?.streamsOpened).toBe(before?.streamsOpened)
    expect((after?.streamsReused ?? 0) - (before?.streamsReused ?? 0)).toBe(20)
  }, 60_000)
})
