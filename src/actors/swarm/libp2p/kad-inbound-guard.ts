/**
 * A guard in front of kad-dht's inbound DHT protocol handler.
 *
 * Why: kad-dht 16.4 reads each inbound request with `pbStream(stream)` and no
 * `maxDataLength`, so a peer that announces a 100 MB message makes libp2p
 * buffer it (up to byteStream's 4 MiB read buffer per stream, times 32
 * streams per connection); and a request that does not decode is only logged
 * by kad-dht, so nobody could tell a node under attack from a quiet one.
 *
 * What: `withKadInboundGuard` wraps kad-dht's service factory so that its
 * `registrar.handle(<kad protocol>, handler)` installs, on every inbound
 * stream and before kad-dht's own reader, a 'message' listener that follows
 * the varint length prefixes of the frames as they arrive:
 *   - a frame announcing more than `maxMessageBytes` aborts the stream at
 *     once (MessageTooLargeError; counted `kad/too-large`), before its body
 *     is buffered;
 *   - every complete frame is decoded with the DHT protobuf codec; one that
 *     does not decode is counted `kad/malformed` (kad-dht fails on it too and
 *     resets the stream).
 *   - every complete frame takes a token from its peer's bucket (all the
 *     peer's streams and connections share it: `requestsPerSecond`, up to
 *     `burst` saved). A chunk whose frames find the bucket empty is withheld
 *     from kad-dht (stopImmediatePropagation: our listener runs first) and
 *     handed to it, in order, when the bucket refills (counted `rateLimited`
 *     once per wait), so a flood gets at most that many answers a second
 *     per peer and an honest burst is delayed, not refused. A stream that
 *     keeps sending while withheld (more than twice the message limit held)
 *     is reset.
 * It also counts the inbound DHT streams: open now, the most open at once,
 * opened in all. Nothing else changes: kad-dht reads the same bytes.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { Libp2pRecord } from '@libp2p/record'
import { Message, MessageType } from '../dht-client/pb/dht.js'
import type { RejectionCounter } from './ipns-dht.js'
import type { NetworkProfile } from './profiles.js'
import type { KadInboundStats } from '../../../messages/swarm.js'
import { StreamMessageEvent } from '@libp2p/interface'
import type { Clock, TimerId } from '../../runtime/clock.js'
import type { Connection, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

/** the part of libp2p's registrar the guard replaces */
interface HandlerRegistrar {
  handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
}

/**
 * The largest inbound DHT request read: 64 KiB. A valid request is far
 * smaller (an IPNS record is at most 10 KiB, a PUT_VALUE wraps it in a key and
 * a timestamp; GET_VALUE, FIND_NODE and GET_PROVIDERS carry a key; an
 * ADD_PROVIDER a few addresses). go-libp2p reads up to 4 MiB; at 64 KiB a
 * connection's 32 inbound streams hold at most 2 MiB.
 */
export const MAX_INBOUND_MESSAGE_BYTES = 64 * 1024
/** a varint longer than this cannot announce a length within any sane limit */
const MAX_LENGTH_BYTES = 5

/**
 * Requests one peer may send a second, and save up (a bucket of `burst`):
 * 50/s, 200. An honest node sends a peer about one request per lookup it
 * runs (a hundred concurrent resolves: a hundred or so, within the burst);
 * past it requests wait, so a flood costs the node at most 50 answers a
 * second per peer.
 */
export const DEFAULT_INBOUND_RATE = { requestsPerSecond: 50, burst: 200 }
/**
 * The `local` profile's: a loopback testnet's peers are the user's own nodes,
 * and its benches send thousands of lookups a second to each peer (rounds of
 * 100 concurrent resolves, back to back); the public-network bound above
 * would queue them. Still a bound: a runaway loop cannot take the node.
 */
export const LOCAL_INBOUND_RATE = { requestsPerSecond: 5_000, burst: 20_000 }
/** peers whose buckets are kept (the oldest is dropped, i.e. refilled, past it) */
const MAX_BUCKETS = 4_096

/** the guard's limits a network profile sets (its `dht` section; unset: the defaults here) */
export function inboundLimitsOf (profile: Pick<NetworkProfile, 'dht'> & { name?: NetworkProfile['name'] }): Pick<KadInboundGuardOptions, 'maxMessageBytes' | 'rate'> {
  const d = profile.dht
  const rate = profile.name === 'local' ? LOCAL_INBOUND_RATE : DEFAULT_INBOUND_RATE
  return {
    maxMessageBytes: d?.maxInboundMessageBytes ?? MAX_INBOUND_MESSAGE_BYTES,
    rate: { requestsPerSecond: d?.inboundRequestsPerSecond ?? rate.requestsPerSecond, burst: d?.inboundRequestBurst ?? rate.burst }
  }
}

export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError'
  readonly code = 'too-large'
}

/** a stream reset because its peer kept sending past its rate */
export class RateLimitedError extends Error {
  override readonly name = 'OverloadedError'
  readonly code = 'rate-limited'
}

export interface KadInboundGuardOptions {
  /** default MAX_INBOUND_MESSAGE_BYTES */
  maxMessageBytes?: number
  /** per-peer request rate; default DEFAULT_INBOUND_RATE */
  rate?: { requestsPerSecond: number, burst: number }
  /** the buckets' time, and the timers that hand withheld requests to kad-dht */
  clock: Pick<Clock, 'now' | 'setTimer' | 'clearTimer'>
  /** refusals by rule (kad/too-large, kad/malformed) go here too */
  rejected?: RejectionCounter
}

export class KadInboundGuard {
  readonly maxMessageBytes: number
  private readonly rate: { requestsPerSecond: number, burst: number }
  private readonly counts = { open: 0, peak: 0, opened: 0, messages: 0, tooLarge: 0, malformed: 0, rateLimited: 0 }
  private readonly buckets = new Map<string, { tokens: number, at: number }>()

  constructor (private readonly options: KadInboundGuardOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_INBOUND_MESSAGE_BYTES
    this.rate = options.rate ?? DEFAULT_INBOUND_RATE
    if (!(Number.isInteger(this.maxMessageBytes) && this.maxMessageBytes > 0)) throw new RangeError('maxMessageBytes must be a positive integer')
    if (!(this.rate.requestsPerSecond > 0 && this.rate.burst >= 1)) throw new RangeError('rate: requestsPerSecond must be > 0 and burst ≥ 1')
  }

  stats (): KadInboundStats {
    const { open, peak, opened, messages, tooLarge, malformed, rateLimited } = this.counts
    return { open, peak, opened, messages, tooLarge, malformed, rateLimited, maxMessageBytes: this.maxMessageBytes, requestsPerSecond: this.rate.requestsPerSecond }
  }

  /** kad-dht's handler, with the frame watch and the stream counts in front */
  wrap (handler: StreamHandler): StreamHandler {
    return (stream: Stream, connection: Connection) => {
      this.watch(stream, connection.remotePeer.toString())
      return handler(stream, connection)
    }
  }

  /** takes n tokens of the peer's bucket; false when it holds fewer */
  private take (peer: string, n: number): boolean {
    const now = this.options.clock.now()
    const { requestsPerSecond, burst } = this.rate
    let b = this.buckets.get(peer)
    if (b === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value ?? '')
      b = { tokens: burst, at: now }
    } else {
      this.buckets.delete(peer) // re-inserted below: the map stays in order of last use
    }
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * requestsPerSecond / 1000)
    b.at = now
    this.buckets.set(peer, b)
    if (b.tokens < n) return false
    b.tokens -= n
    return true
  }

  /** ms until the peer's bucket holds n tokens (0: now) */
  private waitFor (peer: string, n: number): number {
    const b = this.buckets.get(peer)
    if (b === undefined) return 0
    const tokens = Math.min(this.rate.burst, b.tokens + (this.options.clock.now() - b.at) * this.rate.requestsPerSecond / 1000)
    return tokens >= n ? 0 : Math.ceil((n - tokens) * 1000 / this.rate.requestsPerSecond)
  }

  private watch (stream: Stream, peer: string): void {
    const c = this.counts
    const clock = this.options.clock
    c.open++
    c.opened++
    if (c.open > c.peak) c.peak = c.open
    const frames = new FrameWatch(this.maxMessageBytes)
    let aborted = false
    // chunks withheld from kad-dht while the peer is over its rate, in order, with the frames each completes
    const held: Array<{ data: StreamMessageEvent['data'], frames: number }> = []
    let heldBytes = 0
    let timer: TimerId | undefined
    let releasing = false
    const abort = (err: Error): void => {
      aborted = true
      held.length = 0
      if (timer !== undefined) clock.clearTimer(timer)
      // let the current dispatch finish (kad-dht's reader sees this chunk), then reset the stream
      queueMicrotask(() => { stream.abort(err) })
    }
    const release = (): void => {
      timer = undefined
      while (held.length > 0 && !aborted) {
        const next = held[0] as { data: StreamMessageEvent['data'], frames: number }
        if (next.frames > 0 && !this.take(peer, next.frames)) break
        held.shift()
        heldBytes -= next.data.byteLength
        if (stream.readStatus === 'closed') return
        releasing = true
        try {
          stream.dispatchEvent(new StreamMessageEvent(next.data))
        } finally {
          releasing = false
        }
      }
      if (held.length > 0 && !aborted) timer = clock.setTimer(clock.now() + this.waitFor(peer, held[0]?.frames ?? 1), release)
    }
    const onMessage = (evt: StreamMessageEvent): void => {
      if (releasing) return
      if (aborted) {
        evt.stopImmediatePropagation()
        return
      }
      const verdict = frames.push(evt.data)
      c.messages += verdict.complete
      if (verdict.malformed > 0) {
        c.malformed += verdict.malformed
        for (let i = 0; i < verdict.malformed; i++) this.options.rejected?.add('kad/malformed')
      }
      if (verdict.tooLarge !== undefined) {
        c.tooLarge++
        this.options.rejected?.add('kad/too-large')
        abort(new MessageTooLargeError(`inbound DHT message of ${verdict.tooLarge} bytes > ${this.maxMessageBytes}`))
        return
      }
      if (held.length === 0 && (verdict.complete === 0 || this.take(peer, verdict.complete))) return
      // over the rate (or behind chunks that are): kad-dht gets this chunk later, when the bucket allows
      evt.stopImmediatePropagation()
      if (held.length === 0) c.rateLimited++
      held.push({ data: evt.data, frames: verdict.complete })
      heldBytes += evt.data.byteLength
      if (heldBytes > 2 * this.maxMessageBytes) {
        abort(new RateLimitedError(`peer ${peer} sends DHT requests faster than ${this.rate.requestsPerSecond}/s and keeps sending`))
        return
      }
      if (timer === undefined) timer = clock.setTimer(clock.now() + this.waitFor(peer, held[0]?.frames ?? 1), release)
    }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('close', () => {
      stream.removeEventListener('message', onMessage)
      if (timer !== undefined) clock.clearTimer(timer)
      held.length = 0
      c.open--
    }, { once: true })
  }
}

/** what one chunk completed: frames decoded, frames that did not decode, a length over the limit */
interface Verdict { complete: number, malformed: number, tooLarge?: number }

/** Follows `varint length | body` frames across chunks; holds at most one frame body (≤ max bytes). */
class FrameWatch {
  private lengthBytes: number[] = []
  private want = -1
  private readonly body = new Uint8ArrayList()

  constructor (private readonly max: number) {}

  push (data: StreamMessageEvent['data']): Verdict {
    const v: Verdict = { complete: 0, malformed: 0 }
    const bytes = data instanceof Uint8Array ? data : data.subarray()
    let i = 0
    while (i < bytes.byteLength) {
      if (this.want < 0) {
        const b = bytes[i++] ?? 0
        this.lengthBytes.push(b)
        if ((b & 0x80) !== 0) {
          if (this.lengthBytes.length >= MAX_LENGTH_BYTES) return { ...v, tooLarge: Number.POSITIVE_INFINITY }
          continue
        }
        let n = 0
        for (let k = this.lengthBytes.length - 1; k >= 0; k--) n = n * 128 + ((this.lengthBytes[k] ?? 0) & 0x7f)
        this.lengthBytes = []
        if (n > this.max) return { ...v, tooLarge: n }
        this.want = n
      }
      const take = Math.min(this.want - this.body.byteLength, bytes.byteLength - i)
      if (take > 0) this.body.append(bytes.subarray(i, i + take))
      i += take
      if (this.body.byteLength === this.want) {
        v.complete++
        if (!decodes(this.body)) v.malformed++
        this.body.consume(this.body.byteLength)
        this.want = -1
      }
    }
    return v
  }
}

/** the frame is a DHT message; a PUT_VALUE's record is a libp2p record */
function decodes (body: Uint8ArrayList): boolean {
  try {
    const msg = Message.decode(body)
    if (msg.type === MessageType.PUT_VALUE) {
      if (msg.record === undefined) return false
      Libp2pRecord.deserialize(msg.record)
    }
    return true
  } catch {
    // the verdict is the answer: kad-dht meets the same bytes and resets the stream
    return false
  }
}

/**
 * Wraps kad-dht's service factory so the handler it registers for `protocol`
 * goes through `guard` (the rest of the registrar is untouched).
 */
export function withKadInboundGuard<C extends { registrar: HandlerRegistrar }, S> (factory: (components: C) => S, protocol: string, guard: KadInboundGuard): (components: C) => S {
  return (components) => {
    const registrar = components.registrar
    const handle = async (p: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void> =>
      await registrar.handle(p, p === protocol ? guard.wrap(handler) : handler, options)
    const guarded = new Proxy(registrar, {
      get: (target, prop, receiver) => {
        if (prop === 'handle') return handle
        const v: unknown = Reflect.get(target, prop, receiver)
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      }
    })
    return factory(new Proxy(components, {
      get: (target, prop, receiver) => prop === 'registrar' ? guarded : Reflect.get(target, prop, receiver)
    }))
  }
}
