/**
 * After bootstrap has dialled its peers: wait, on libp2p events only, until
 * each is in the routing table, turned out not to speak the DHT protocol, or
 * disconnected (bounded by the signal and a count of wake-ups).
 */
import { PortNotFoundError, toPortError } from '../port-errors.js'
import { Wakeup } from './wakeup.js'
import type { PortServices } from './libp2p-options.js'
import type { RoutingTableView } from './routing-table.js'
import type { Libp2p, PeerId } from '@libp2p/interface'

/** Most libp2p events bootstrap() waits through for its peers to be identified. */
const MAX_BOOTSTRAP_WAKEUPS = 1_000
/** kad-dht tags peers in its routing table with this peer-store tag. */
const KAD_PEER_TAG = 'kad-peer'

/**
 * Waits until every dialled bootstrap peer is in the routing table, has
 * been identified without the DHT protocol (a client or non-DHT peer), or
 * has disconnected. Driven by libp2p events only; bounded by the signal and
 * by a count of wake-ups.
 */
export async function untilBootstrapPeersSettled (node: Libp2p<PortServices>, routingTable: RoutingTableView, kadProtocol: string, peers: PeerId[], signal: AbortSignal): Promise<void> {
  const wake = new Wakeup()
  const onEvent = (): void => { wake.wake() }
  const events = ['peer:identify', 'peer:disconnect', 'peer:update'] as const
  for (const name of events) node.addEventListener(name, onEvent)
  routingTable.addEventListener('peer:add', onEvent)
  signal.addEventListener('abort', onEvent)
  try {
    for (let i = 0; i < MAX_BOOTSTRAP_WAKEUPS; i++) {
      if (signal.aborted) throw toPortError(undefined, signal)
      const pending = await Promise.all(peers.map(async peer => bootstrapPeerPending(node, kadProtocol, peer, signal)))
      if (!pending.includes(true)) return
      await wake.wait()
    }
  } finally {
    for (const name of events) node.removeEventListener(name, onEvent)
    routingTable.removeEventListener('peer:add', onEvent)
    signal.removeEventListener('abort', onEvent)
  }
}

async function bootstrapPeerPending (node: Libp2p<PortServices>, kadProtocol: string, peer: PeerId, signal: AbortSignal): Promise<boolean> {
  if (node.getConnections(peer).length === 0) return false
  try {
    const known = await node.peerStore.get(peer, { signal })
    if (known.tags.has(KAD_PEER_TAG)) return false
    // The peer store lists /ipfs/id/1.0.0 before identify has finished, so
    // "protocols without kad" alone does not mean "not a DHT peer": only an
    // identified peer (identify wrote its AgentVersion) without kad is settled.
    const identified = known.metadata.has('AgentVersion')
    return !identified || known.protocols.includes(kadProtocol)
  } catch (err) {
    const e = toPortError(err, signal)
    // connected but not in the peer store yet: identify has not run
    if (e instanceof PortNotFoundError) return true
    throw e
  }
}
