/**
 * The closest-peers lookup behind DhtPort.closestPeers: the Kademlia walk
 * (kad-walk.ts) with our own FIND_NODE requests, so the same rules for
 * stalled and suspect peers apply as for values. It keeps `width` requests
 * holding a slot, ends once the k = 20 closest candidates that can still
 * answer have answered, and yields the k closest peers that answered, closest
 * first, at its end (as kad-dht's FINAL_PEER events come: once the lookup
 * has converged).
 *
 * A peer is in the results because it answered, however late (while the
 * lookup ran), suspect or not: slowness alone never drops a peer from them.
 * Peers that never answered are not in them (kad-dht's results are peers that
 * answered too).
 *
 * Bounded: the walk's `maxQueries` and `maxCandidates`.
 */
import { compareDistance, kadId, LOOKUP_K, walk } from './kad-walk.js'
import type { RouteAround, WalkPeer } from './kad-walk.js'
import type { FindNodeRpc } from './kad-rpc.js'
import type { DhtProgress } from '../dht-port.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export const DEFAULT_CLOSEST_WIDTH = 10

export interface ClosestPeersInit {
  key: Uint8Array
  self: PeerId
  /** the routing table's closest peers to sha256(key) */
  start: PeerId[]
  rpc: FindNodeRpc
  dialable: (peer: PeerId, addrs: Multiaddr[]) => Multiaddr[]
  signal: AbortSignal
  /** requests holding a slot at once (default 10) */
  width?: number
  routeAround?: RouteAround
  maxQueries?: number
  onProgress?: (event: DhtProgress) => void
}

export async function * lookupClosestPeers (init: ClosestPeersInit): AsyncGenerator<WalkPeer, void, undefined> {
  const target = kadId(init.key)
  const width = Math.max(1, init.width ?? DEFAULT_CLOSEST_WIDTH)
  const answered: WalkPeer[] = []
  const { onProgress } = init
  for await (const { peer, answer } of walk({
    target,
    self: init.self,
    start: init.start,
    requestName: 'FIND_NODE',
    request: async (p, signal, phase) => await init.rpc(p.id, p.addrs, init.key, signal, phase),
    dialable: init.dialable,
    signal: init.signal,
    slots: () => width,
    ...(init.routeAround !== undefined ? { routeAround: init.routeAround } : {}),
    ...(init.maxQueries !== undefined ? { maxQueries: init.maxQueries } : {}),
    ...(onProgress !== undefined ? { onProgress } : {})
  })) {
    onProgress?.({ type: 'kad-dht:query:peer-response', peer: peer.id.toString(), detail: `FIND_NODE closer=${answer.closer.length}` })
    answered.push(peer)
  }
  answered.sort((a, b) => compareDistance(target, a.kad, b.kad))
  for (const peer of answered.slice(0, LOOKUP_K)) {
    onProgress?.({ type: 'kad-dht:query:final-peer', peer: peer.id.toString() })
    yield peer
  }
}
