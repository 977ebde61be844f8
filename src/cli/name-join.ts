/**
 * The bounded wait of a `swarmbus name` / `dht` command's node until its
 * routing table has peers (name-node.ts's withJoinedNode).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { formatDuration } from './record-duration.js'
import type { CommandProgress } from './name-progress.js'
import type { Network } from './name-node.js'
import type { SwarmNode } from '../index.js'

/** once the routing table has a peer, wait at most this long for the other connected peers to enter it */
const SETTLE_MS = 500

/** how the join is named in progress and errors */
export function joinLabel (net: Network): string {
  if (net.profile === 'amino') return net.bootstrapFromProfile ? 'the public network (amino)' : `amino through ${net.bootstrap.length} bootstrap peer${net.bootstrap.length === 1 ? '' : 's'}`
  return `${net.bootstrap.length} bootstrap peer${net.bootstrap.length === 1 ? '' : 's'}`
}

/**
 * Waits until the routing table has a peer: swarm.bootstrap may return before
 * identify has run and kad-dht has added anyone. Then up to SETTLE_MS more
 * while connected peers are still missing from the table. The node itself
 * bootstraps again while it reached nobody (bootstrapRetry). TimeoutError at
 * `until` with an empty table.
 */
export async function join (node: SwarmNode, net: Network, started: number, until: number, progress: CommandProgress): Promise<{ routingTableSize: number, connections: number, ms: number }> {
  const t0 = performance.now()
  const label = joinLabel(net)
  let firstPeerAt: number | undefined
  for (;;) {
    const left = until - performance.now()
    const s = await node.ask({ type: 'swarm.status' }, { timeoutMs: Math.max(1_000, left) })
    progress.joining(label, s.connections, s.routingTableSize)
    if (s.routingTableSize > 0) {
      // peers that are connected but not yet in the table (identify still running)
      // would be missing from the query: give them a moment, no more
      firstPeerAt ??= performance.now()
      const now = performance.now()
      if (s.routingTableSize >= s.connections || now - firstPeerAt >= SETTLE_MS || now >= until) {
        return { routingTableSize: s.routingTableSize, connections: s.connections, ms: now - t0 }
      }
      await sleep(Math.max(1, Math.min(25, until - now)))
      continue
    }
    if (performance.now() >= until) {
      const { TimeoutError } = await import('../index.js')
      const shown = net.bootstrap.length > 3 ? `${net.bootstrap.slice(0, 3).join(', ')}, … (${net.bootstrap.length})` : net.bootstrap.join(', ')
      throw new TimeoutError(`joined no peer ${formatDuration(performance.now() - started)} after the start: the routing table is empty ` +
        `(${s.connections} connection${s.connections === 1 ? '' : 's'}; ${net.profile === 'amino' ? 'amino, ' : ''}bootstrap ${shown}` +
        `${s.bootstrap.lastError !== undefined ? `; ${s.bootstrap.lastError}` : ''}; ${s.bootstrap.retries} retr${s.bootstrap.retries === 1 ? 'y' : 'ies'})`)
    }
    await sleep(Math.max(1, Math.min(50, until - performance.now())))
  }
}
