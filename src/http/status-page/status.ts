/**
 * `GET /api/status`: what the status page shows, as one JSON document built
 * from two bus asks (swarm.status and swarm.peers) and the ring of recent
 * IPNS operations (operations.ts), and the IPNS latency histograms of the
 * metrics registry when there is one (histograms.ts). Read-only; it carries no key, passphrase
 * or config: only what swarm.status reports, minus the actors' free-form
 * details and the routers' endpoints (URLs may hold tokens). Lists are cut
 * (MAX_* below), each with its full count beside it.
 */
import { DURATION_BOUNDS_MS, durationHistograms } from './operations.js'
import { latencyHistograms } from './histograms.js'
import type { LatencyHistogram } from './histograms.js'
import type { Registry } from 'prom-client'
import type { DurationHistogram, OperationRing, OperationsSnapshot } from './operations.js'
import type { SwarmNode } from '../../node/create-node.js'
import type { BootstrapStatus, ConnectionInfo, NetworkStatus, RoutingBucket } from '../../messages/swarm.js'
import type { RepublishStatus } from '../../messages/republish.js'

export const MAX_CONNECTIONS_SHOWN = 500
export const MAX_ADDRESSES_SHOWN = 32
/** how long one /api/status may wait for the bus */
export const STATUS_TIMEOUT_MS = 5_000

export interface CommandLatency {
  actor: string
  command: string
  served: number
  failed: number
  meanMs: number
  maxMs: number
}

export interface PageStatus {
  /** wall time the document was built (ms since the epoch) */
  generatedAt: number
  node: {
    peerId: string
    multiaddrs: string[]
    mode: 'client' | 'server'
    connections: number
    routingTableSize: number
    pendingQueries: number
    runningQueries: number
  }
  network: NetworkStatus | null
  bootstrap: BootstrapStatus
  peers: {
    /** distinct peers connected */
    count: number
    /** open connections (all of them; `list` holds the first MAX_CONNECTIONS_SHOWN) */
    connections: number
    list: ConnectionInfo[]
  }
  /** the routing table's leaf buckets; null when the DHT does not expose them */
  buckets: RoutingBucket[] | null
  republish: RepublishStatus | null
  actors: Array<{ name: string, state: string, mailboxDepth: number, mailboxCapacity: number, pending: number, restarts: number }>
  /** per actor and command type: counts and latency (mean and max since start) */
  commands: CommandLatency[]
  deadLetters: { total: number, byReason: Record<string, number> }
  operations: OperationsSnapshot
  /** IPNS durations of the operations in the ring, by kind and outcome */
  durations: { boundsMs: number[], histograms: DurationHistogram[] }
  /** IPNS latency since start from the metrics registry (histograms.ts); null without one */
  latency: LatencyHistogram[] | null
}

export async function pageStatus (node: SwarmNode, ring: OperationRing, registry?: Registry, signal?: AbortSignal): Promise<PageStatus> {
  const options = { timeoutMs: STATUS_TIMEOUT_MS, ...(signal !== undefined ? { signal } : {}) }
  const [s, p, latency] = await Promise.all([
    node.ask({ type: 'swarm.status' }, options),
    node.ask({ type: 'swarm.peers' }, options),
    registry !== undefined ? latencyHistograms(registry) : null
  ])
  const operations = ring.snapshot()
  const commands: CommandLatency[] = []
  for (const a of s.actors) {
    for (const [command, c] of Object.entries(a.commands)) {
      commands.push({ actor: a.name, command, served: c.served, failed: c.failed, meanMs: c.meanMs, maxMs: c.maxMs })
    }
  }
  return {
    generatedAt: Date.now(),
    node: {
      peerId: s.peerId,
      multiaddrs: s.multiaddrs.slice(0, MAX_ADDRESSES_SHOWN),
      mode: s.mode,
      connections: s.connections,
      routingTableSize: s.routingTableSize,
      pendingQueries: s.pendingQueries,
      runningQueries: s.runningQueries
    },
    network: s.network ?? null,
    bootstrap: s.bootstrap,
    peers: {
      count: new Set(p.peers.map(c => c.peerId)).size,
      connections: p.peers.length,
      list: p.peers.slice(0, MAX_CONNECTIONS_SHOWN).map(c => ({ peerId: c.peerId, remoteAddr: c.remoteAddr, direction: c.direction }))
    },
    buckets: s.buckets ?? null,
    republish: s.republish ?? null,
    actors: s.actors.map(a => ({ name: a.name, state: a.state, mailboxDepth: a.mailbox.depth, mailboxCapacity: a.mailbox.capacity, pending: a.pending, restarts: a.restarts })),
    commands,
    deadLetters: s.deadLetters,
    operations,
    durations: { boundsMs: DURATION_BOUNDS_MS, histograms: durationHistograms(operations.operations) },
    latency
  }
}
