/**
 * What a multi-process testnet's parent and its child processes say to each
 * other over the IPC channel (Node's 'advanced' serialization: structured
 * clone, so Uint8Array and bigint cross as they are). One child hosts many
 * nodes; every request names the node by its index in the testnet and
 * carries an id the answer repeats.
 *
 *   parent → child                         child → parent
 *   start   { nodes: StartSpec[] }         started { nodes: StartedNode[] } | fail { failure }
 *   ask     { node, command, timeoutMs }   reply { value } | fail { failure }
 *   stream  { node, command, timeoutMs }   item { value }… then end | fail
 *   credit  { n }  (a stream may send n more items)
 *   cancel  (an ask or stream the parent gave up: abort it)
 *   watch   { node }  (forward its progress events)   progress { node, event }
 *   stopNode { node }                      reply | fail
 *   fault   { op: FaultOp }                reply { value: FaultReply } | fail
 *   stats                                  reply { value: ProcessStats }
 *   exit    (stop every node, then exit)   the process exits
 *
 * Errors cross as a Failure (plain data: kind, message, field, code and the
 * cause chain) and become the same typed error on the parent's side.
 *
 * Streams are flow-controlled: the child sends at most the credit the parent
 * gave (STREAM_WINDOW at first, then as the parent's reader takes items), so a
 * slow reader never fills the channel.
 */
import type { NodeOptions } from '../create-node.js'
import type { LinkDelay } from '../faults/delay-proxy.js'
import type { FaultOp } from '../faults/child-faults.js'
import type { Failure } from '../../messages/failure.js'

/** items a stream may have in the channel before the parent grants more */
export const STREAM_WINDOW = 64
/** progress events a child keeps for the channel per node before it drops (and counts) them */
export const PROGRESS_BUFFER = 1_024

/** The NodeOptions a child can be given: plain data only (no gaters, sinks, lookups or verifiers). */
export type RemoteNodeOptions = Pick<NodeOptions, 'mode' | 'defaultTimeoutMs' | 'ipns' | 'republish' | 'bootstrapTimeoutMs' | 'traceBufferBytes' | 'routeAround'> & {
  dns?: { servers?: string[], ttlMs?: number, minTtlMs?: number, maxTtlMs?: number, cacheSize?: number, bareDomainFallback?: boolean, maxLookups?: number }
}

export interface StartSpec {
  index: number
  seed?: number
  /** peers (with /p2p/) it joins through; none for the first node */
  bootstrap: string[]
  /** a JSONL trace of this node, written by the child */
  trace?: string
  options: RemoteNodeOptions
  /** put the node behind a delay proxy (faults/delay-proxy.ts) with this delay; none: no proxy, no faults */
  faults?: LinkDelay
}

export interface StartedNode { index: number, peerId: string, multiaddrs: string[] }

/**
 * What one child process uses and holds (the `stats` request): its own
 * resource use, and the sum over its nodes of what their swarm.status
 * reports as open or pending — the numbers a soak watches stay flat.
 */
export interface ProcessStats {
  process: number
  pid: number
  /** process.cpuUsage() since the child started, µs */
  cpu: { user: number, system: number }
  /** process.memoryUsage(), bytes */
  memory: { rss: number, heapUsed: number, heapTotal: number, external: number, arrayBuffers: number }
  /** process.resourceUsage().maxRSS, kilobytes */
  maxRssKb: number
  /** process.getActiveResourcesInfo() counted by kind (e.g. Timeout, TCPSocketWrap) */
  activeResources: Record<string, number>
  /** parent requests (asks, streams) the child is running now */
  inFlight: number
  /** nodes hosted now */
  nodes: number
  /** nodes whose swarm.status did not answer in time (left out of `open`) */
  silentNodes: number
  /** sums over the nodes' swarm.status */
  open: {
    connections: number
    /** swarm asks being served, and libp2p operations still running */
    pendingQueries: number
    runningQueries: number
    /** asks pending in every actor of every node */
    pendingAsks: number
    /** reply ports open in the nodes' actor systems */
    openPorts: number
    /** our DHT requests open and idle pooled streams */
    dhtRequestsOpen: number
    dhtStreamsIdle: number
    /** kad-dht streams peers opened to the nodes, open now */
    inboundStreams: number
    /** messages waiting in actor mailboxes */
    mailboxDepth: number
  }
}

export type ToChild =
  | { t: 'start', id: number, nodes: StartSpec[] }
  | { t: 'ask', id: number, node: number, command: { type: string }, timeoutMs: number }
  | { t: 'stream', id: number, node: number, command: { type: string }, timeoutMs: number }
  | { t: 'credit', id: number, n: number }
  | { t: 'cancel', id: number }
  | { t: 'watch', node: number }
  | { t: 'stopNode', id: number, node: number }
  | { t: 'fault', id: number, op: FaultOp }
  | { t: 'stats', id: number }
  | { t: 'exit' }

export type FromChild =
  | { t: 'ready' }
  | { t: 'started', id: number, nodes: StartedNode[] }
  | { t: 'reply', id: number, value: unknown }
  | { t: 'item', id: number, value: unknown }
  | { t: 'end', id: number }
  | { t: 'fail', id: number, failure: Failure }
  | { t: 'progress', node: number, event: { type: string, actor: string, id?: string, detail?: Record<string, unknown> } }
  | { t: 'dropped', node: number, count: number }
