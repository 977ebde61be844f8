/**
 * The direct value lookup behind DhtPort.get: a Kademlia walk toward the key
 * (kad-walk.ts) that asks peers for their record (GET_VALUE) and streams
 * every valid value the moment it arrives.
 *
 * It keeps `width` requests holding a slot (the asker says how many values
 * it wants: the IPNS quorum); a request that ends without a value makes room
 * for the next-closest peer not yet asked — peers named in answers included,
 * so in a network larger than the routing table the walk still converges on
 * the k closest peers — and it ends once the k closest peers it knows of
 * have all answered or failed. The caller stops it earlier by leaving the
 * stream (its signal aborts every open request).
 *
 * With `values` (how many values the asker needs from peers) it never asks
 * more peers than could still be needed: requests holding a slot stay within
 * values still missing, so when every peer holds the record exactly `values`
 * requests are sent. With `routeAround`, stalled requests and suspects' stop
 * holding slots, and the lookup does not wait on them at its end (kad-walk.ts).
 *
 * What it does not do, on purpose: peers named in answers are kept in the
 * lookup's own candidate list only, not pushed into kad-dht's routing table
 * and libp2p's peer store (kad-dht does that for each of the ≤ 20 peers of
 * every answer; it was most of the CPU a resolve cost this node).
 *
 * Bounded: at most `maxQueries` requests and `maxCandidates` candidates.
 */
import { MAX_GET_VALUES_WANT } from '../../../messages/swarm.js'
import { kadId, walk } from './kad-walk.js'
import type { RouteAround } from './kad-walk.js'
import type { DhtGetValue, DhtProgress } from '../dht-port.js'
import type { GetValueAnswer, GetValueRpc } from './kad-rpc.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export { compareDistance, kadId, LOOKUP_K, MAX_LOOKUP_CANDIDATES, MAX_LOOKUP_QUERIES } from './kad-walk.js'
export type { RouteAround } from './kad-walk.js'
export const DEFAULT_LOOKUP_WIDTH = 10
export const MAX_LOOKUP_WIDTH = MAX_GET_VALUES_WANT

export interface ValueLookupInit {
  key: Uint8Array
  self: PeerId
  /** the routing table's closest peers to the key (any order) */
  start: PeerId[]
  rpc: GetValueRpc
  /** checks a peer's serialized record for this key; resolves with its value, rejects when invalid */
  validate: (record: Uint8Array) => Promise<Uint8Array>
  /** addresses of a peer named in an answer that may be dialled (the node's peer-info policy) */
  dialable: (peer: PeerId, addrs: Multiaddr[]) => Multiaddr[]
  signal: AbortSignal
  /** requests holding a slot at once (default 10, at most 32) */
  width?: number
  /** values wanted from peers: once that many arrived no more peers are asked (default: no limit) */
  values?: number
  /** stop waiting on stalled peers and suspects (kad-walk.ts) */
  routeAround?: RouteAround
  maxQueries?: number
  maxCandidates?: number
  onProgress?: (event: DhtProgress) => void
}

/** an answer and, when it carried a record, the record's value or why it is invalid */
interface Checked extends GetValueAnswer { value?: Uint8Array, invalid?: unknown }

export async function * lookupValues (init: ValueLookupInit): AsyncGenerator<DhtGetValue, void, undefined> {
  const { onProgress } = init
  const width = Math.max(1, Math.min(MAX_LOOKUP_WIDTH, init.width ?? DEFAULT_LOOKUP_WIDTH))
  const wanted = init.values ?? Infinity
  let found = 0
  const answers = walk<Checked>({
    target: kadId(init.key),
    self: init.self,
    start: init.start,
    requestName: 'GET_VALUE',
    // answers are checked as they come, side by side (the checks of an IPNS
    // record run in the verifier pool); a check still running holds its slot
    request: async (peer, signal, phase) => {
      const answer = await init.rpc(peer.id, peer.addrs, init.key, signal, phase)
      if (answer.record === undefined) return answer
      try {
        return { ...answer, value: await init.validate(answer.record) }
      } catch (invalid) {
        return { ...answer, invalid }
      }
    },
    dialable: init.dialable,
    signal: init.signal,
    slots: () => Math.min(width, wanted - found),
    ...(init.routeAround !== undefined ? { routeAround: init.routeAround } : {}),
    ...(init.maxQueries !== undefined ? { maxQueries: init.maxQueries } : {}),
    ...(init.maxCandidates !== undefined ? { maxCandidates: init.maxCandidates } : {}),
    ...(onProgress !== undefined ? { onProgress } : {})
  })
  for await (const { peer, answer } of answers) {
    const from = peer.id.toString()
    onProgress?.({
      type: 'kad-dht:query:peer-response',
      peer: from,
      detail: `GET_VALUE closer=${answer.closer.length} providers=0${answer.record !== undefined ? ' record' : ''}`
    })
    if ('invalid' in answer) {
      const e = answer.invalid
      onProgress?.({ type: 'kad-dht:query:query-error', peer: from, detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
      continue
    }
    const value = answer.value
    if (value === undefined) continue
    found++
    onProgress?.({ type: 'kad-dht:query:value', peer: from, detail: `bytes=${value.byteLength}` })
    yield { value, from }
    if (found >= wanted) return
  }
}
