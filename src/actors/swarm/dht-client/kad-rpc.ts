/**
 * One Kademlia GET_VALUE (or FIND_NODE, or PUT_VALUE) request, sent by this node itself:
 * write the request, read one answer, on a stream of the DHT protocol from
 * the port's pool (kad-stream-pool.ts: reused per peer). Used by the
 * direct value lookup (value-lookup.ts), which does what kad-dht's query does for a GET without feeding every peer an answer names
 * into the routing table and the peer store (that bookkeeping was most of
 * the CPU a resolve cost this node).
 *
 * A PeerGate keeps at most `perPeer` of these requests open to one peer at a
 * time (kad-dht's handler takes 32 inbound streams per connection and resets
 * the rest); the others wait in a bounded queue, in order.
 */
import { MessageType } from './pb/dht.js'
import type { KadStreamPool } from './kad-stream-pool.js'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface GetValueAnswer {
  /** the serialized libp2p Record the peer holds for the key, if any */
  record?: Uint8Array
  /** peers the answering peer knows closer to the key: raw peer id multihash and multiaddr bytes */
  closer: Array<{ id: Uint8Array, multiaddrs: Uint8Array[] }>
}

/**
 * Where a request stands before its answer (the lookups time stalls by it):
 * 'negotiating', a new stream is being opened on a connection already open
 * (one round trip); 'sent', the request is written on an open stream. Before
 * either it waits for the peer's slot or dials the peer.
 */
export type RequestPhase = 'negotiating' | 'sent'

/**
 * Sends GET_VALUE for key to a peer (its id, or the addresses to dial it at)
 * and reads the answer, telling `phase` where the request stands.
 */
export type GetValueRpc = (peer: PeerId, addrs: Multiaddr[], key: Uint8Array, signal: AbortSignal, phase?: (p: RequestPhase) => void) => Promise<GetValueAnswer>

/** Sends FIND_NODE for key (the peers closest to sha256(key)) and reads the peers named; phase as for GetValueRpc. */
export type FindNodeRpc = (peer: PeerId, addrs: Multiaddr[], key: Uint8Array, signal: AbortSignal, phase?: (p: RequestPhase) => void) => Promise<Pick<GetValueAnswer, 'closer'>>

/** Sends PUT_VALUE (a serialized libp2p Record) to a connected or known peer; resolves with the record the peer echoed back, if any. */
export type PutValueRpc = (peer: PeerId, key: Uint8Array, record: Uint8Array, signal: AbortSignal) => Promise<Uint8Array | undefined>

export function libp2pGetValueRpc (node: Libp2p, pool: KadStreamPool): GetValueRpc {
  return async (peer, addrs, key, signal, phase) => {
    const answer = await pool.exchange(peer, targetOf(node, peer, addrs), { type: MessageType.GET_VALUE, key }, signal, phase)
    return { ...(answer.record !== undefined ? { record: answer.record } : {}), closer: answer.closer }
  }
}

export function libp2pFindNodeRpc (node: Libp2p, pool: KadStreamPool): FindNodeRpc {
  return async (peer, addrs, key, signal, phase) => {
    const answer = await pool.exchange(peer, targetOf(node, peer, addrs), { type: MessageType.FIND_NODE, key }, signal, phase)
    return { closer: answer.closer }
  }
}

/**
 * A peer we are connected to (or know in the peer store) is dialled by id;
 * one only named in an answer, at the addresses that answer gave.
 */
function targetOf (node: Libp2p, peer: PeerId, addrs: Multiaddr[]): PeerId | Multiaddr[] {
  return addrs.length > 0 && node.getConnections(peer).length === 0 ? addrs : peer
}

export function libp2pPutValueRpc (pool: KadStreamPool): PutValueRpc {
  return async (peer, key, record, signal) => {
    // kad-dht's handler answers a PUT_VALUE it stored with the request itself
    const answer = await pool.exchange(peer, peer, { type: MessageType.PUT_VALUE, key, record }, signal)
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

  constructor (readonly perPeer: number, private readonly maxWaiting: number) {}

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

  /** waits for a slot to the peer (rejects OverloadedError when too many wait, or with the signal's reason) */
  async enter (peer: string, signal: AbortSignal): Promise<void> {
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

  /** gives the slot back: to the next waiter for the peer, if any */
  leave (peer: string): void {
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
