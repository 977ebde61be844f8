/**
 * The inbound guard on its own: frames followed across chunks, the length
 * limit, malformed frames, the per-peer rate (withheld chunks handed to the
 * handler in order as the bucket refills, on a simulated clock), the held
 * bytes cap, and the stream counts. The stream is an EventTarget standing in
 * for a libp2p stream (the guard uses only its events, readStatus and
 * abort); kad-dht's reader is a second 'message' listener, as in libp2p.
 * The guard in front of a real kad-dht: test/node/hostile-peers.test.ts.
 */
import { StreamMessageEvent } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { SimulatedClock } from '../../../../src/actors/runtime/clock.js'
import { Message, MessageType } from '../../../../src/actors/swarm/dht-client/pb/dht.js'
import { RejectionCounter } from '../../../../src/actors/swarm/libp2p/ipns-dht.js'
import { inboundLimitsOf, KadInboundGuard } from '../../../../src/actors/swarm/libp2p/kad-inbound-guard.js'
import { AMINO_PROFILE, LOCAL_PROFILE } from '../../../../src/actors/swarm/libp2p/profiles.js'
import type { Connection, Stream } from '@libp2p/interface'

class FakeStream extends EventTarget {
  readStatus: 'readable' | 'closed' = 'readable'
  aborted: Error | undefined
  abort (err: Error): void {
    if (this.aborted !== undefined) return
    this.aborted = err
    this.readStatus = 'closed'
    this.dispatchEvent(Object.assign(new Event('close'), { error: err }))
  }

  push (bytes: Uint8Array): void {
    this.dispatchEvent(new StreamMessageEvent(bytes))
  }
}

const conn = (peer: string): Connection => ({ remotePeer: { toString: () => peer } }) as unknown as Connection

function frame (body: Uint8Array): Uint8Array {
  const out: number[] = []
  let n = body.byteLength
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0))
    n >>>= 7
  } while (n > 0)
  return Uint8Array.from([...out, ...body])
}

const getValue = (i: number): Uint8Array => frame(Message.encode({ type: MessageType.GET_VALUE, key: new TextEncoder().encode(`/ipns/k${i}`), closer: [] }))

/** a stream through the guard, and the bytes its handler (kad-dht's reader) received */
function open (guard: KadInboundGuard, peer = 'peer-a'): { stream: FakeStream, seen: number[] } {
  const stream = new FakeStream()
  const seen: number[] = []
  const handler = guard.wrap((s: Stream) => {
    s.addEventListener('message', (evt) => { seen.push(...evt.data.subarray()) })
  })
  void handler(stream as unknown as Stream, conn(peer))
  return { stream, seen }
}

const flush = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('KadInboundGuard', () => {
  it('follows frames across chunks, counts malformed ones, lets everything through to the handler', async () => {
    const rejected = new RejectionCounter()
    const guard = new KadInboundGuard({ clock: new SimulatedClock(), rejected })
    const { stream, seen } = open(guard)
    const good = getValue(1)
    const bad = frame(Uint8Array.of(0x12, 0x7f, 0x01)) // a key of 127 bytes, one present
    const all = Uint8Array.from([...good, ...bad, ...good])
    for (const cut of [1, 3, good.byteLength + 1, all.byteLength - 2]) stream.push(all.subarray(0, cut).subarray(seen.length))
    stream.push(all.subarray(seen.length))
    expect(Uint8Array.from(seen)).toEqual(all)
    expect(guard.stats()).toMatchObject({ open: 1, opened: 1, messages: 3, malformed: 1, tooLarge: 0 })
    expect(rejected.snapshot()).toEqual({ 'kad/malformed': 1 })
    expect(rejected.byReason().malformed).toBe(1)
    stream.abort(new Error('done'))
    await flush()
    expect(guard.stats().open).toBe(0)
  })

  it('resets a stream at a length prefix over the limit, and at one that never ends', async () => {
    const rejected = new RejectionCounter()
    const guard = new KadInboundGuard({ clock: new SimulatedClock(), rejected, maxMessageBytes: 100 })
    const a = open(guard)
    a.stream.push(Uint8Array.of(101)) // announces 101 bytes
    await flush()
    expect(a.stream.aborted?.name).toBe('MessageTooLargeError')
    const b = open(guard)
    b.stream.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
    await flush()
    expect(b.stream.aborted?.name).toBe('MessageTooLargeError')
    const c = open(guard)
    c.stream.push(frame(new Uint8Array(100)))
    await flush()
    expect(c.stream.aborted).toBeUndefined()
    expect(guard.stats().tooLarge).toBe(2)
    expect(rejected.byReason().tooLarge).toBe(2)
  })

  it('past its burst a peer waits: chunks are handed over in order as the bucket refills; other peers are not held', async () => {
    const clock = new SimulatedClock()
    const guard = new KadInboundGuard({ clock, rate: { requestsPerSecond: 2, burst: 2 } })
    const a = open(guard, 'peer-a')
    const frames = [0, 1, 2, 3].map(getValue)
    for (const f of frames) a.stream.push(f)
    // two through at once, two held
    expect(a.seen.length).toBe((frames[0]?.byteLength ?? 0) + (frames[1]?.byteLength ?? 0))
    expect(guard.stats().rateLimited).toBe(1)
    // another peer has its own bucket
    const b = open(guard, 'peer-b')
    b.stream.push(getValue(9))
    expect(b.seen.length).toBe(getValue(9).byteLength)
    clock.advance(500)
    expect(a.seen.length).toBe(frames.slice(0, 3).reduce((n, f) => n + f.byteLength, 0))
    clock.advance(500)
    expect(Uint8Array.from(a.seen)).toEqual(Uint8Array.from(frames.flatMap(f => [...f])))
    expect(b.stream.aborted).toBeUndefined()
    expect(clock.pendingTimers).toBe(0)
  })

  it('resets a stream that keeps sending while held, and forgets its timer when it closes', async () => {
    const clock = new SimulatedClock()
    const guard = new KadInboundGuard({ clock, rate: { requestsPerSecond: 1, burst: 1 }, maxMessageBytes: 64 })
    const a = open(guard)
    for (let i = 0; i < 20 && a.stream.aborted === undefined; i++) a.stream.push(getValue(i))
    await flush()
    expect(a.stream.aborted?.name).toBe('OverloadedError')
    expect(clock.pendingTimers).toBe(0)
  })

  it('takes its limits from the profile: the public bound on amino, a loopback testnet\'s far higher one on local', () => {
    expect(inboundLimitsOf(LOCAL_PROFILE)).toEqual({ maxMessageBytes: 64 * 1024, rate: { requestsPerSecond: 5_000, burst: 20_000 } })
    expect(inboundLimitsOf(AMINO_PROFILE)).toEqual({ maxMessageBytes: 64 * 1024, rate: { requestsPerSecond: 50, burst: 200 } })
    expect(inboundLimitsOf({ dht: { maxInboundStreams: 1, maxOutboundStreams: 1, inboundRequestsPerSecond: 7 } }).rate?.requestsPerSecond).toBe(7)
    expect(() => new KadInboundGuard({ clock: new SimulatedClock(), maxMessageBytes: 0 })).toThrow(RangeError)
  })
})
