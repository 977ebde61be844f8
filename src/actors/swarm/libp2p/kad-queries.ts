/**
 * The queries the port leaves to kad-dht itself: put, provide, find providers,
 * find a peer (the peer store first), closest peers, and the self lookup that
 * refreshes the routing table. Each takes the caller's signal into kad-dht
 * (with the query context's, so a stream left early stops its query), maps
 * kad-dht's progress events to plain data while the operation is live, and
 * streams at most MAX_STREAM_RESULTS results, each peer once.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { toDhtProgress } from './kad-progress.js'
import type { AnyProgressEvent } from './kad-progress.js'
import { notFoundError, PortNotFoundError, toPortError } from '../port-errors.js'
import { drainQuery, queryStream } from './query-stream.js'
import type { QueryContext } from './query-stream.js'
import { raceAbort } from './wakeup.js'
import { addrWithoutPeer, MAX_STREAM_RESULTS, parsed, pushNew, toPeerInfo } from './port-helpers.js'
import type { PortServices } from './libp2p-options.js'
import type { DhtOpOptions, DhtPeerInfo, DhtProgress } from '../dht-port.js'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { QueryEvent } from '@libp2p/kad-dht'

/** Routing options for a kad-dht call: the query's signal and mapped progress while the operation is live. */
function routing (ctx: Pick<QueryContext<unknown>, 'signal' | 'isOpen'>, onProgress: ((event: DhtProgress) => void) | undefined): {
  signal: AbortSignal
  onProgress: (event: AnyProgressEvent) => void
} {
  return {
    signal: ctx.signal,
    onProgress: (event: AnyProgressEvent) => {
      if (ctx.isOpen()) onProgress?.(toDhtProgress(event))
    }
  }
}

export class KadQueries {
  constructor (private readonly node: Libp2p<PortServices>) {}

  /** Stores a value at the closest peers; how many accepted it (one per PUT_VALUE answer echoing it, at most k). */
  async put (key: Uint8Array, value: Uint8Array, options: DhtOpOptions): Promise<{ peers: number }> {
    const acked = new Set<string>()
    await drainQuery<QueryEvent>({
      signal: options.signal,
      start: ctx => this.node.services.dht.put(key, value, routing(ctx, options.onProgress)),
      onEvent: event => {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE' &&
          event.record != null && uint8ArrayEquals(event.record.value, value)) {
          acked.add(event.from.toString())
        }
      }
    })
    return { peers: acked.size }
  }

  /** Announces this node as a provider of cid; how many peers were told (one per ADD_PROVIDER answer, at most k). */
  async provide (cid: string, options: DhtOpOptions): Promise<{ peers: number }> {
    const target = parsed('CID', () => CID.parse(cid))
    const told = new Set<string>()
    await drainQuery<QueryEvent>({
      signal: options.signal,
      start: ctx => this.node.services.dht.provide(target, routing(ctx, options.onProgress)),
      onEvent: event => {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') {
          told.add(event.from.toString())
        }
      }
    })
    return { peers: told.size }
  }

  findProviders (cid: string, options: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    const target = parsed('CID', () => CID.parse(cid))
    const seen = new Set<string>()
    return queryStream<QueryEvent, DhtPeerInfo>({
      signal: options.signal,
      maxResults: MAX_STREAM_RESULTS,
      start: ctx => this.node.services.dht.findProviders(target, routing(ctx, options.onProgress)),
      onEvent: (event, ctx) => {
        if (event.name !== 'PROVIDER') return
        for (const provider of event.providers) {
          pushNew(seen, toPeerInfo(provider), ctx)
        }
      }
    })
  }

  async findPeer (peerId: string, options: DhtOpOptions): Promise<DhtPeerInfo> {
    const id = parsed('peer id', () => peerIdFromString(peerId))
    const local = await this.fromPeerStore(id, options.signal)
    if (local !== undefined) {
      return local
    }
    for await (const found of queryStream<QueryEvent, DhtPeerInfo>({
      signal: options.signal,
      maxResults: 1,
      start: ctx => this.node.services.dht.findPeer(id, { ...routing(ctx, options.onProgress), useCache: false }),
      onEvent: (event, ctx) => {
        if (event.name === 'FINAL_PEER' && event.peer.id.equals(id)) ctx.push(toPeerInfo(event.peer))
      }
    })) {
      return found
    }
    throw notFoundError(`peer ${peerId} not found`)
  }

  closestPeers (key: Uint8Array, options: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    // kad-dht 16.4 emits FINAL_PEER events once the lookup has converged;
    // they are streamed from there, de-duplicated.
    const seen = new Set<string>()
    return queryStream<QueryEvent, DhtPeerInfo>({
      signal: options.signal,
      maxResults: MAX_STREAM_RESULTS,
      start: ctx => this.node.services.dht.getClosestPeers(key, routing(ctx, options.onProgress)),
      onEvent: (event, ctx) => {
        if (event.name === 'FINAL_PEER') pushNew(seen, toPeerInfo(event.peer), ctx)
      }
    })
  }

  /** A lookup of this node's own id, to its end: every responder is offered to the routing table. */
  async selfLookup (options: DhtOpOptions): Promise<void> {
    await drainQuery<QueryEvent>({
      signal: options.signal,
      start: ctx => this.node.services.dht.getClosestPeers(this.node.peerId.toMultihash().bytes, routing(ctx, options.onProgress))
    })
  }

  private async fromPeerStore (id: PeerId, signal: AbortSignal): Promise<DhtPeerInfo | undefined> {
    try {
      const peer = await raceAbort(this.node.peerStore.get(id, { signal }), signal)
      if (peer.addresses.length === 0) return undefined
      return { peerId: id.toString(), multiaddrs: [...new Set(peer.addresses.map(({ multiaddr }) => addrWithoutPeer(multiaddr)))] }
    } catch (err) {
      const e = toPortError(err, signal)
      // the peer store has never heard of the peer: ask the DHT
      if (e instanceof PortNotFoundError) return undefined
      throw e
    }
  }
}
