/**
 * One Kademlia GET_VALUE request, sent by this node itself over a fresh
 * stream of the DHT protocol: open, write the request, read one answer,
 * close. Used by the direct value lookup (value-lookup.ts), which does what
 * kad-dht's query does for a GET without feeding every peer an answer names
 * into the routing table and the peer store (that bookkeeping was most of
 * the CPU a resolve cost this node).
 *
 * A PeerGate keeps at most `perPeer` of these requests open to one peer at a
 * time (kad-dht's handler takes 32 inbound streams per connection and resets
 * the rest); the others wait in a bounded queue, in order.
 */
import { pbStream } from '@libp2p/utils'
import { Message, MessageType } from './pb/dht.js'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Largest answer accepted: a record (≤ 10 KiB for IPNS) and k = 20 peers with their addresses. */
export const MAX_ANSWER_BYTES = 256 * 1024

export interface GetValueAnswer {
  /** the serialized libp2p Record the peer holds for the key, if any */
  record?: Uint8Array
  /** peers the answering peer knows closer to the key: raw peer id multihash and multiaddr bytes */
  closer: Array<{ id: Uint8Array, multiaddrs: Uint8Array[] }>
}

/** Sends GET_VALUE for key to a peer (its id, or the addresses to dial it at) and reads the answer. */
export type GetValueRpc = (peer: PeerId, addrs: Multiaddr[], key: Uint8Array, signal: AbortSignal) => Promise<GetValueAnswer>

/** Sends PUT_VALUE (a serialized libp2p Record) to a connected or known peer; resolves with the record the peer echoed back, if any. */
export type PutValueRpc = (peer: PeerId, key: Uint8Array, record: Uint8Array, signal: AbortSignal) => Promise<Uint8Array | undefined>

type PbCodec = Parameters<ReturnType<typeof pbStream>['pb']>[0]
/** the generated codec, typed for the stream helper (protons' output is typed for an older runtime) */
const messageCodec: PbCodec = {
  encode: (m: Message): Uint8Array => Message.encode(m),
  decode: (data: Uint8Array | { subarray: () => Uint8Array }): Message => Message.decode(data instanceof Uint8Array ? data : data.subarray())
} as unknown as PbCodec

/** One request, one answer, over a fresh stream of the DHT protocol. */
interface Request { type: MessageType, key: Uint8Array, record?: Uint8Array }

async function exchange (node: Libp2p, protocol: string, target: PeerId | Multiaddr[], request: Request, signal: AbortSignal): Promise<Message> {
  const stream = await node.dialProtocol(target, protocol, { signal })
  try {
    const messages = pbStream(stream, { maxDataLength: MAX_ANSWER_BYTES }).pb(messageCodec)
    await messages.write({ ...request, closer: [] }, { signal })
    const answer = await messages.read({ signal }) as Message
    await stream.close({ signal })
    return answer
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

export function libp2pGetValueRpc (node: Libp2p, protocol: string): GetValueRpc {
  return async (peer, addrs, key, signal) => {
    // a peer we are connected to (or know in the peer store) is dialled by id;
    // one only named in an answer, at the addresses that answer gave
    const target = addrs.length > 0 && node.getConnections(peer).length === 0 ? addrs : peer
    const answer = await exchange(node, protocol, target, { type: MessageType.GET_VALUE, key }, signal)
    return { ...(answer.record !== undefined ? { record: answer.record } : {}), closer: answer.closer }
  }
}

export function libp2pPutValueRpc (node: Libp2p, protocol: string): PutValueRpc {
  return async (peer, key, record, signal) => {
    // kad-dht's handler answers a PUT_VALUE it stored with the request itself
    const answer = await exchange(node, protocol, peer, { type: MessageType.PUT_VALUE, key, record }, signal)
    return answer.record
  }
}

export class GateFullError extends Error {
  override readonly name = 'OverloadedError'
}

/**
 * At most `perPeer` requests open per peer; at most `maxWaiting` waiting in
 * all (beyond that a request fails at once with OverloadedError). A waiter
 * whose signal fires leaves the queue.
 */
export class PeerGate {
  private readonly open = new Map<string, number>()
  private readonly waiting = new Map<string, Array<() => void>>()
  private waitingCount = 0

  constructor (private readonly perPeer: number, private readonly maxWaiting: number) {}

  async run<T> (peer: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    await this.enter(peer, signal)
    try {
      return await work()
    } finally {
      this.leave(peer)
    }
  }

  /** requests open and waiting, for status and tests */
  counts (): { open: number, waiting: number } {
    let open = 0
    for (const n of this.open.values()) open += n
    return { open, waiting: this.waitingCount }
  }

  private async enter (peer: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    const n = this.open.get(peer) ?? 0
    if (n < this.perPeer) {
      this.open.set(peer, n + 1)
      return
    }
    if (this.waitingCount >= this.maxWaiting) throw new GateFullError(`more than ${this.maxWaiting} DHT requests waiting for a peer`)
    await new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(peer) ?? []
      this.waiting.set(peer, queue)
      const onAbort = (): void => {
        const i = queue.indexOf(go)
        if (i >= 0) {
          queue.splice(i, 1)
          this.waitingCount--
          if (queue.length === 0) this.waiting.delete(peer)
        }
        reject(signal.reason)
      }
      // the slot is handed over by leave(): open count stays the same
      const go = (): void => { signal.removeEventListener('abort', onAbort); resolve() }
      queue.push(go)
      this.waitingCount++
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  private leave (peer: string): void {
    const queue = this.waiting.get(peer)
    const next = queue?.shift()
    if (next !== undefined) {
      this.waitingCount--
      if (queue?.length === 0) this.waiting.delete(peer)
      next()
      return
    }
    const n = (this.open.get(peer) ?? 1) - 1
    if (n <= 0) this.open.delete(peer)
    else this.open.set(peer, n)
  }
}
