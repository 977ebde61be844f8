/**
 * Protocol of the swarm actor: the DHT (dht.*) and the node's connectivity
 * (swarm.*). Byte fields are Uint8Array; a string key is taken as UTF-8.
 * Peer ids are base58btc strings, CIDs and multiaddrs are their string forms.
 */

import type { RepublishStatus } from './republish.js'
import type { RoutersStatusReply } from './routers.js'
import type { ActorStatus } from './system.js'

export interface PeerInfo {
  peerId: string
  multiaddrs: string[]
}

export interface DhtPut { type: 'dht.put', key: Uint8Array | string, value: Uint8Array }
/** the most peers one dht.putTo addresses (k) */
export const MAX_PUT_TO_PEERS = 20
/**
 * Store a value at the named peers only (PUT_VALUE to each, no lookup): what
 * an IPNS resolve's entry correction sends to the peers that answered with an
 * older record. This node's own id among them updates its own DHT record store.
 */
export interface DhtPutTo { type: 'dht.putTo', key: Uint8Array | string, value: Uint8Array, peers: string[] }
export interface DhtGet { type: 'dht.get', key: Uint8Array | string }
export interface DhtProvide { type: 'dht.provide', cid: string }
export interface DhtFindProviders { type: 'dht.findProviders', cid: string, limit?: number }
export interface DhtFindPeer { type: 'dht.findPeer', peerId: string }
export interface DhtClosestPeers { type: 'dht.closestPeers', key: Uint8Array | string }
export interface SwarmDial { type: 'swarm.dial', multiaddr: string }
export interface SwarmPeers { type: 'swarm.peers' }
export interface SwarmBootstrap { type: 'swarm.bootstrap' }

/** a bootstrap peer the node could not reach, and why */
export interface BootstrapFailure { addr: string, error: string }

export interface BootstrapReply {
  /** bootstrap peers dialled */
  connected: number
  routingTableSize: number
  /** the bootstrap peers that could not be reached, each with its error */
  failed: BootstrapFailure[]
}

/** How the node's joining of the network stands (the `bootstrap` section of swarm.status). */
export interface BootstrapStatus {
  /**
   * 'idle' (no bootstrap run yet, or none configured), 'joined' (the last run
   * reached a peer), 'alone' (it reached none and the node does not retry),
   * 'retrying' (waiting for the next try), 'trying' (a background try runs)
   */
  state: 'idle' | 'joined' | 'alone' | 'retrying' | 'trying'
  /** background tries so far */
  retries: number
  /** peers the last run reached */
  connected: number
  /** why the last run reached none */
  lastError?: string
  /** date (ms since the epoch) of the next background try */
  nextRetryAt?: number
}
export interface SwarmStatus { type: 'swarm.status' }

export interface ConnectionInfo {
  peerId: string
  remoteAddr: string
  direction: 'inbound' | 'outbound'
}

export interface DhtRequestStats {
  /** streams opened for our requests */
  streamsOpened: number
  /** requests sent on a stream that had carried one before */
  streamsReused: number
  /** reused streams that failed at once and were replaced by a fresh one */
  streamsRetried: number
  /** streams idle in the pool now */
  streamsIdle: number
  /** stream opens that failed (refused, reset, or over the 4 s open limit): each makes its peer a suspect */
  openFailed: number
  /** requests open now */
  open: number
  /** requests waiting for a peer's slot now */
  waiting: number
  /** requests written on a stream whose peer then answered nothing for the stall time (lookups stopped waiting on them) */
  stalls: number
  /** of those, answered while their lookup still ran (their answer counted) */
  lateAnswers: number
  /** peers suspect now: asked on the side, never waited for (docs/dht.md) */
  suspects: number
  /** times a peer was made suspect, since start */
  suspected: number
}

/** kad-dht's reads of peers through the port's cache (peer-info-cache.ts) */
export interface PeerInfoCacheStats { hits: number, misses: number, invalidations: number, size: number }

/** where the node stands on its network (docs/network.md); also the detail of `swarm:mode` progress events */
export interface NetworkStatus {
  /** the network profile the node runs: 'local' or 'amino' */
  profile: string
  /** the DHT mode setting: fixed, or 'auto' (kad-dht decides from the node's confirmed addresses) */
  modeSetting: 'server' | 'client' | 'auto'
  /** the mode now */
  mode: 'server' | 'client'
  /** 'public' when the node announces an address that is not private (others can dial it), else 'private' */
  reachability: 'public' | 'private'
  /** those public addresses (at most 8) */
  publicAddresses: string[]
  /** DHT mode switches since the node started */
  modeChanges: number
  autonat: boolean
  upnp: boolean
  /** the sweep of expired DHT records (absent when off) */
  recordSweep?: RecordSweepStats
}

/** sweeps of expired DHT value records from the store */
export interface RecordSweepStats {
  runs: number
  removed: number
  failed: number
  /** wall time of the last finished sweep */
  lastRunAt?: number
  lastError?: string
}

/**
 * One leaf bucket of kad-dht's routing table, a binary trie on kad ids
 * (src/actors/swarm/libp2p/routing-buckets.ts reads it).
 */
export interface RoutingBucket {
  /** the kad-id bits its peers share ('' while the table is one bucket) */
  prefix: string
  depth: number
  /** peers in it */
  size: number
  /** this node's own kad id falls under the prefix (the bucket that splits) */
  self: boolean
  /** its peers (at most MAX_BUCKET_PEERS), each with when kad-dht last checked it (ms since the epoch; 0: added without a ping) */
  peers: Array<{ peerId: string, lastPing: number }>
}

/** bad input this node's DHT refused, each under one reason (docs/hostile-peers.md) */
export interface RefusalCounts {
  /** a request that is not a DHT protobuf, a PUT_VALUE without a libp2p record, a record that does not parse */
  malformed: number
  /** a message over the inbound limit, a record over 10 KiB */
  tooLarge: number
  /** a record whose signature does not verify */
  invalidSignature: number
  expired: number
  /** a record ranking below the one stored for the name */
  lowerSequence: number
  /** a record whose key is not the name it is stored or found under */
  wrongKey: number
}

/** kad-dht's inbound DHT streams, as the inbound guard sees them */
export interface KadInboundStats {
  /** open now */
  open: number
  /** the most open at once */
  peak: number
  /** opened in all */
  opened: number
  /** complete messages received */
  messages: number
  /** messages refused for their announced length */
  tooLarge: number
  /** messages that do not decode */
  malformed: number
  /** times a stream's requests were held back because its peer sent more than its rate allows */
  rateLimited: number
  /** the limit in force (bytes) */
  maxMessageBytes: number
  /** the per-peer request rate in force */
  requestsPerSecond: number
}

/** what the node refused (by reason) and its inbound DHT streams */
export interface RefusalStatus {
  byReason: RefusalCounts
  inbound: KadInboundStats
}

export interface SwarmStatusReply {
  peerId: string
  multiaddrs: string[]
  mode: 'client' | 'server'
  connections: number
  routingTableSize: number
  /** the routing table's buckets (at most 256; absent without libp2p) */
  buckets?: RoutingBucket[]
  /** records the DHT's validators refused (peers' answers and PUTs), by namespace/rule, e.g. 'ipns/expired' */
  recordsRejected: Record<string, number>
  /** refusals by reason and kad-dht's inbound streams (absent without libp2p) */
  refusals?: RefusalStatus
  /** our own DHT requests (value lookups, dht.putTo): streams opened and reused, requests open and waiting (absent without libp2p) */
  dhtRequests?: DhtRequestStats
  /** kad-dht's reads of the peers it names in answers, served by the port's cache (absent when off) */
  peerInfoCache?: PeerInfoCacheStats
  /** profile, mode setting, reachability (absent without libp2p) */
  network?: NetworkStatus
  /** asks the swarm actor is serving now (each with its own deadline) */
  pendingQueries: number
  /** libp2p operations still running (an answered or cancelled query stays here until libp2p has stopped it) */
  runningQueries: number
  /** commands held while the libp2p node (re)starts */
  heldCommands: number
  /** how joining the network stands: the last bootstrap run and any background retries */
  bootstrap: BootstrapStatus
  /** every actor of the node with mailbox depth, pending asks and per-type counters */
  actors: ActorStatus[]
  deadLetters: { total: number, byReason: Record<string, number> }
  /** reply ports open in the whole system */
  openPorts: number
  /** the IPNS republisher: last and next run, counts, failures by reason, in flight (absent when the node runs none) */
  republish?: RepublishStatus
  /** the Delegated Routing V1 endpoints: counters and breaker per endpoint (absent when the node has none; docs/routing.md) */
  routers?: RoutersStatusReply
}

declare module './commands.js' {
  interface CommandMap {
    'dht.put': { command: DhtPut, reply: { peers: number } }
    'dht.putTo': { command: DhtPutTo, reply: { peers: number } }
    'dht.get': { command: DhtGet, reply: { value: Uint8Array, from: string } }
    'dht.provide': { command: DhtProvide, reply: { peers: number } }
    'dht.findPeer': { command: DhtFindPeer, reply: PeerInfo }
    'swarm.dial': { command: SwarmDial, reply: { peerId: string } }
    'swarm.peers': { command: SwarmPeers, reply: { peers: ConnectionInfo[] } }
    'swarm.bootstrap': { command: SwarmBootstrap, reply: BootstrapReply }
    'swarm.status': { command: SwarmStatus, reply: SwarmStatusReply }
  }
  interface StreamMap {
    'dht.findProviders': { command: DhtFindProviders, item: PeerInfo }
    'dht.closestPeers': { command: DhtClosestPeers, item: PeerInfo }
  }
}

/** the largest `want` of dht.getValues: requests one lookup keeps in flight */
export const MAX_GET_VALUES_WANT = 32

export interface DhtGetValues {
  type: 'dht.getValues'
  key: Uint8Array | string
  /**
   * How many values the asker needs (e.g. the IPNS quorum): the lookup keeps
   * that many requests in flight, 1–32 (default 10). The stream still
   * delivers every value until the asker leaves it or the lookup ends.
   */
  want?: number
}

declare module './commands.js' {
  interface StreamMap {
    /** every value peers return for the key, as they arrive, until the query ends */
    'dht.getValues': { command: DhtGetValues, item: { value: Uint8Array, from: string } }
  }
}
