/**
 * kad-dht 16.4's public `KadDHT` type does not expose the routing table, but
 * the single-DHT implementation does (`SingleKadDHT.routingTable`): a
 * `size` getter (kbucket count), `closestPeers(kadId)` and 'peer:add' /
 * 'peer:remove' events.
 * This narrows to that shape at runtime and fails loudly if a future
 * version drops it.
 */
import type { PeerId } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

export interface RoutingTableView {
  readonly size: number
  /** the `count` peers of the table closest to a kad id (sha256 of a key) */
  closestPeers: (kadId: Uint8Array, options?: { count?: number }) => PeerId[]
  addEventListener: (type: 'peer:add' | 'peer:remove', listener: () => void) => void
  removeEventListener: (type: 'peer:add' | 'peer:remove', listener: () => void) => void
}

function isRoutingTableView (value: unknown): value is RoutingTableView {
  return typeof value === 'object' && value !== null &&
    'size' in value && typeof value.size === 'number' &&
    'closestPeers' in value && typeof value.closestPeers === 'function' &&
    'addEventListener' in value && typeof value.addEventListener === 'function' &&
    'removeEventListener' in value && typeof value.removeEventListener === 'function'
}

export function routingTableOf (dht: KadDHT): RoutingTableView {
  const table: unknown = 'routingTable' in dht ? dht.routingTable : undefined
  if (!isRoutingTableView(table)) {
    throw new TypeError('this @libp2p/kad-dht does not expose its routing table (size, closestPeers); the DhtPort needs it')
  }
  return table
}
