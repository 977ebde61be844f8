/**
 * A hostile peer for the DHT: a real js-libp2p node (TCP on 127.0.0.1,
 * noise, yamux, identify; no DHT of its own) that opens `/ipfs/kad/1.0.0`
 * streams to a target and writes whatever it is told to: raw frames
 * (malformed protobuf, lying length prefixes), crafted DHT messages
 * (records that are invalid, expired, lower-sequence or for another key),
 * floods of requests, and streams it opens and then never reads or closes.
 *
 * Framing is the DHT's: each message a varint length prefix and the
 * protobuf (src/actors/swarm/dht-client/pb/dht.ts). Records are made with
 * src/records (createRecord, encodeEntry) and wrapped in a libp2p Record the
 * way a DHT PUT_VALUE carries them.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { Libp2pRecord } from '@libp2p/record'
import { tcp } from '@libp2p/tcp'
import { byteStream, lpStream, pbStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import * as varint from 'uint8-varint'
import { concat } from 'uint8arrays/concat'
import { Message, MessageType, PeerInfo } from '../../src/actors/swarm/dht-client/pb/dht.js'
import type { Connection, Stream } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'

export const KAD = '/ipfs/kad/1.0.0'

/** a DHT message to send: any bytes views (the codec only reads them) */
export interface HostileMessage { type: MessageType, key?: Uint8Array, record?: Uint8Array }

type PbCodec = Parameters<ReturnType<typeof pbStream>['pb']>[0]
/** the generated codec, typed for the stream helper (protons' output is typed for an older runtime) */
const codec: PbCodec = {
  encode: (m: Message): Uint8Array => Message.encode(m),
  decode: (data: Uint8Array | { subarray: () => Uint8Array }): Message => Message.decode(data instanceof Uint8Array ? data : data.subarray())
} as unknown as PbCodec

/** one length-prefixed frame around arbitrary bytes */
export function frame (body: Uint8Array): Uint8Array {
  return concat([varint.encode(body.byteLength), body])
}

/** a DHT message, encoded and framed */
export function frameMessage (msg: HostileMessage): Uint8Array {
  return frame(Message.encode({ closer: [], ...msg } as Message))
}

/** a message body (no length prefix) for a flood */
export function body (msg: HostileMessage): Uint8Array {
  return Message.encode({ closer: [], ...msg } as Message)
}

/**
 * An ADD_PROVIDER body: our codec has no providerPeers (field 9, repeated
 * Peer { id = 1, addrs = 2 }, the same layout as PeerInfo), so it is added by hand.
 */
export function addProviderBody (cid: Uint8Array, provider: { id: Uint8Array, multiaddrs: Uint8Array[] }): Uint8Array {
  const peer = PeerInfo.encode(provider as PeerInfo)
  return concat([body({ type: MessageType.ADD_PROVIDER, key: cid }), Uint8Array.of(0x4a), varint.encode(peer.byteLength), peer])
}

/** a serialized libp2p Record (what a PUT_VALUE carries) */
export function dhtRecord (key: Uint8Array, value: Uint8Array): Uint8Array {
  return new Libp2pRecord(key, value, new Date()).serialize()
}

export interface Exchange {
  /** the answer, when one came */
  answer?: Message
  /** how the stream ended when no answer came (the error's name) */
  error?: string
}

export class HostilePeer {
  /** streams opened and deliberately left alone (never read, never closed) */
  readonly abandoned: Stream[] = []

  private constructor (readonly node: Libp2p, private readonly target: string) {}

  static async start (seed: number, target: string): Promise<HostilePeer> {
    const bytes = new Uint8Array(32)
    new DataView(bytes.buffer).setUint32(0, seed)
    bytes[31] = 0x66
    const node = await createLibp2p({
      privateKey: await generateKeyPairFromSeed('Ed25519', bytes),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // the target's pings would keep a stream of ours busy; it has no say here
      connectionMonitor: { enabled: false },
      services: { identify: identify() }
    })
    return new HostilePeer(node, target)
  }

  get peerId (): string {
    return this.node.peerId.toString()
  }

  async connection (): Promise<Connection> {
    return await this.node.dial(multiaddr(this.target))
  }

  /** a fresh DHT stream to the target */
  async open (): Promise<Stream> {
    return await this.node.dialProtocol(multiaddr(this.target), KAD, { signal: AbortSignal.timeout(10_000) })
  }

  /**
   * Writes raw bytes on a fresh stream, closes the writing side and reads one
   * answer (or how the stream ended), within `timeoutMs`.
   */
  async sendRaw (bytes: Uint8Array, timeoutMs = 5_000): Promise<Exchange> {
    const stream = await this.open()
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      const raw = byteStream(stream)
      await raw.write(bytes, { signal })
      const messages = pbStream(raw.unwrap(), { maxDataLength: 1024 * 1024 }).pb(codec)
      await stream.close({ signal }).catch(() => undefined) // the target may have reset it already: read says how
      const answer = await messages.read({ signal })
      return { answer: answer as Message }
    } catch (err) {
      stream.abort(err as Error)
      return { error: (err as Error).name }
    }
  }

  /** one request, one answer, on a fresh stream */
  async request (msg: HostileMessage, timeoutMs = 5_000): Promise<Exchange> {
    return await this.sendRaw(frameMessage(msg), timeoutMs)
  }

  /**
   * A flood: `total` requests from make(i) (a message body, without its
   * length prefix), over `streams` streams at once, each stream sending its
   * requests one after the other and reading every answer (`answered: false`:
   * the request has none, as ADD_PROVIDER), until `stop()` says so. Resolves
   * with how many were sent and answered, and how many failed.
   */
  async flood (total: number, streams: number, make: (i: number) => { body: Uint8Array, answered: boolean }, stop: () => boolean = () => false): Promise<{ answered: number, failed: number }> {
    let next = 0
    const out = { answered: 0, failed: 0 }
    const lane = async (): Promise<void> => {
      let lp: ReturnType<typeof lpStream> | undefined
      let stream: Stream | undefined
      while (next < total && !stop()) {
        const req = make(next++)
        try {
          if (stream === undefined || lp === undefined) {
            stream = await this.open()
            lp = lpStream(stream, { maxDataLength: 1024 * 1024 })
          }
          const signal = AbortSignal.timeout(10_000)
          await lp.write(req.body, { signal })
          if (req.answered) Message.decode((await lp.read({ signal })).subarray())
          out.answered++
        } catch (err) {
          out.failed++
          stream?.abort(err as Error)
          stream = undefined
          lp = undefined
        }
      }
      await stream?.close().catch(() => undefined) // the flood is over: how its last stream ends does not matter
    }
    await Promise.all(Array.from({ length: streams }, lane))
    return out
  }

  /**
   * Opens `n` streams and writes one request on each, then leaves them: never
   * reads the answer, never closes. Resolves with how many the target let
   * open (the rest it reset at once).
   */
  async abandonStreams (n: number, msg: HostileMessage): Promise<number> {
    let opened = 0
    await Promise.all(Array.from({ length: n }, async () => {
      try {
        const stream = await this.open()
        stream.send(frameMessage(msg))
        this.abandoned.push(stream)
        opened++
      } catch {
        // the target refused the stream (its inbound limit): that is the point of the test
      }
    }))
    return opened
  }

  /** streams of our connection(s) to the target that are still open (libp2p's own count) */
  openStreams (): number {
    return this.node.getConnections().reduce((n, c) => n + c.streams.filter(s => s.status === 'open' && s.protocol === KAD).length, 0)
  }

  async stop (): Promise<void> {
    await this.node.stop()
  }
}
