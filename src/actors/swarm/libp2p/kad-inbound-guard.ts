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
 * It also counts the inbound DHT streams: open now, the most open at once,
 * opened in all, and those that ended with an error (reset, aborted, timed
 * out). Nothing else changes: kad-dht reads the same bytes.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { Libp2pRecord } from '@libp2p/record'
import { Message, MessageType } from '../dht-client/pb/dht.js'
import type { RejectionCounter } from './ipns-dht.js'
import type { KadInboundStats } from '../../../messages/swarm.js'
import type { Connection, Stream, StreamHandler, StreamHandlerOptions, StreamMessageEvent } from '@libp2p/interface'

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

export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError'
  readonly code = 'too-large'
}

export class KadInboundGuard {
  private readonly counts = { open: 0, peak: 0, opened: 0, failed: 0, messages: 0, tooLarge: 0, malformed: 0 }

  constructor (readonly maxMessageBytes: number = MAX_INBOUND_MESSAGE_BYTES, private readonly rejected?: RejectionCounter) {
    if (!(Number.isInteger(maxMessageBytes) && maxMessageBytes > 0)) throw new RangeError('maxMessageBytes must be a positive integer')
  }

  stats (): KadInboundStats {
    const { open, peak, opened, failed, messages, tooLarge, malformed } = this.counts
    return { open, peak, opened, failed, messages, tooLarge, malformed, maxMessageBytes: this.maxMessageBytes }
  }

  /** kad-dht's handler, with the frame watch and the stream counts in front */
  wrap (handler: StreamHandler): StreamHandler {
    return (stream: Stream, connection: Connection) => {
      this.watch(stream)
      return handler(stream, connection)
    }
  }

  private watch (stream: Stream): void {
    const c = this.counts
    c.open++
    c.opened++
    if (c.open > c.peak) c.peak = c.open
    const frames = new FrameWatch(this.maxMessageBytes)
    let aborted = false
    const onMessage = (evt: StreamMessageEvent): void => {
      if (aborted) return
      const verdict = frames.push(evt.data)
      c.messages += verdict.complete
      if (verdict.malformed > 0) {
        c.malformed += verdict.malformed
        for (let i = 0; i < verdict.malformed; i++) this.rejected?.add('kad/malformed')
      }
      if (verdict.tooLarge !== undefined) {
        aborted = true
        c.tooLarge++
        this.rejected?.add('kad/too-large')
        const err = new MessageTooLargeError(`inbound DHT message of ${verdict.tooLarge} bytes > ${this.maxMessageBytes}`)
        // let the current dispatch finish (kad-dht's reader sees this chunk), then reset the stream
        queueMicrotask(() => { stream.abort(err) })
      }
    }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('close', (evt) => {
      stream.removeEventListener('message', onMessage)
      c.open--
      if (evt.error !== undefined && evt.error !== null) c.failed++
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
