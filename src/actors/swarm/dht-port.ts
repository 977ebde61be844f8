/**
 * DhtPort: the narrow seam between the swarm actor and js-libp2p + kad-dht.
 *
 * The swarm actor only talks to the network through this interface, which is
 * what makes fault tests (a fake port) and deterministic replay (a recorded
 * port) possible. Every operation takes an AbortSignal that the swarm actor
 * derives from its own clock-driven deadline; implementations must pass it
 * all the way into libp2p so an abort really stops the query.
 *
 * Values crossing this seam are plain data (strings, numbers, Uint8Array) so
 * they can be recorded into a JSONL trace and replayed.
 *
 * Errors are a closed union (port-errors.ts), each class a `DhtPortError`
 * (itself a SwarmbusError) told apart by class or by its `reason`, never by
 * `name`; what libp2p threw is kept as `cause`. Each becomes one Failure kind
 * (errorToFailure), as docs/messages.md says:
 *
 *   class                        reason               Failure kind     when
 *   PortAbortError               aborted              aborted          the signal fired (always this then, whatever libp2p reported)
 *   PortTimeoutError             timeout              timeout          a libp2p timer of its own ran out (a dial timeout)
 *   PortNotFoundError            not-found            not-found        findPeer found no one; a peer-store miss
 *   PortNotStartedError          not-started          failed           used after stop()
 *   PortInvalidParametersError   invalid-parameters   failed           a key / CID / peer id / multiaddr libp2p refuses; no validator
 *   PortInvalidRecordError       invalid-record       invalid-record   a validator refused the record (`code` when it named a rule)
 *   PortOverloadedError          overloaded           overloaded       too many requests waiting for a peer's slot
 *   PortFailedError              failed               failed           anything else (its `name` is libp2p's error's, e.g. 'DialError')
 *
 * Streams end after at most a bounded number of items (the libp2p
 * implementation: 256) and stop their query then.
 */
import type { DhtRequestStats, NetworkStatus, PeerInfoCacheStats, RefusalStatus, RoutingBucket } from '../../messages/swarm.js'
import type { Failure } from '../../messages/failure.js'

export interface DhtPeerInfo {
  /** base58btc peer id (12D3Koo… / Qm…) */
  peerId: string
  /** multiaddr strings, without the /p2p/ suffix */
  multiaddrs: string[]
}

/** A kad-dht progress event reduced to plain data. */
export interface DhtProgress {
  /** e.g. 'kad-dht:query:send-query', 'kad-dht:query:peer-response', 'kad-dht:query:query-error' */
  type: string
  /** peer the event is about, when there is one */
  peer?: string
  /** short human detail (error message, message type, …) */
  detail?: string
}

export interface DhtOpOptions {
  /** Aborts the libp2p operation. Always provided by the swarm actor. */
  signal: AbortSignal
  /** Receives kad-dht progress events while the operation runs. */
  onProgress?: (event: DhtProgress) => void
  /** get only: how many values the caller needs; the lookup keeps that many requests in flight */
  want?: number
}

export interface DhtGetValue {
  value: Uint8Array
  /** peer id that returned the value (this node's own id for a local hit) */
  from: string
}

export interface DhtConnection {
  peerId: string
  remoteAddr: string
  direction: 'inbound' | 'outbound'
}

export interface DhtPortStatus {
  peerId: string
  multiaddrs: string[]
  connections: number
  routingTableSize: number
  mode: 'client' | 'server'
  /** records this node's DHT validators refused (from peers' answers and PUTs), by namespace and rule */
  recordsRejected?: Record<string, number>
  /** refusals by reason and kad-dht's inbound streams (docs/hostile-peers.md) */
  refusals?: RefusalStatus
  /** our own GET_VALUE/PUT_VALUE requests: streams opened and reused, requests open and waiting for a peer's slot */
  dhtRequests?: DhtRequestStats
  /** kad-dht's reads of the peers it names in answers, through the port's cache */
  peerInfoCache?: PeerInfoCacheStats
  /** profile, DHT mode setting and reachability */
  network?: NetworkStatus
  buckets?: RoutingBucket[]
  /**
   * a port in a network thread (thread/thread-port.ts): the calls running in
   * the worker now (a cancelled call counts until its libp2p op has ended),
   * and the thread's nice value as the kernel reports it
   */
  thread?: { calls: number, nice?: number }
}


export interface DhtPort {
  readonly peerId: string
  /** Listen addresses including /p2p/<peerId>. */
  multiaddrs(): string[]

  /** Store a value at the closest peers; resolves with how many peers accepted it. */
  put(key: Uint8Array, value: Uint8Array, options: DhtOpOptions): Promise<{ peers: number }>
  /**
   * Store a value at these peers only (base58 ids; this node's own id: its own
   * record store, stamped received at `now`, ms since the epoch), no lookup;
   * resolves with how many accepted it.
   */
  putTo(key: Uint8Array, value: Uint8Array, peers: string[], now: number, options: DhtOpOptions): Promise<{ peers: number }>
  /**
   * Stream every validated value for key as it arrives (not buffered until the
   * query ends): this node's own copy first when it has one (`from` = own id),
   * then one per peer that returned one. Ends when the query ends.
   */
  get(key: Uint8Array, options: DhtOpOptions): AsyncIterable<DhtGetValue>
  /** Announce this node as a provider of cid (a CID string); resolves with how many peers were told. */
  provide(cid: string, options: DhtOpOptions): Promise<{ peers: number }>
  /** Stream providers of cid as they are found. */
  findProviders(cid: string, options: DhtOpOptions): AsyncIterable<DhtPeerInfo>
  /** Find a peer's addresses (the peer store first, then the DHT). Rejects with PortNotFoundError when not found. */
  findPeer(peerId: string, options: DhtOpOptions): Promise<DhtPeerInfo>
  /**
   * Stream the peers closest to key, de-duplicated. kad-dht only knows them
   * once the lookup has converged, so they arrive together near the end.
   */
  closestPeers(key: Uint8Array, options: DhtOpOptions): AsyncIterable<DhtPeerInfo>

  /** Dial a multiaddr (must include /p2p/<peerId>); resolves with the remote peer id. */
  dial(multiaddr: string, options: DhtOpOptions): Promise<{ peerId: string }>
  /** Currently open connections. */
  connections(): DhtConnection[]
  /** Dial the configured bootstrap peers and refresh the routing table. */
  bootstrap(options: DhtOpOptions): Promise<{ connected: number, routingTableSize: number, failed?: Array<{ addr: string, error: string }> }>
  status(): DhtPortStatus
  /**
   * Calls fn whenever the DHT mode or the reachability changes (a node in
   * 'auto' mode switching); returns its unsubscribe. Optional: a port
   * without a network to watch has none.
   */
  onNetworkChange?(fn: (status: NetworkStatus) => void): () => void
  /**
   * Calls fn once if the port fails for good while it runs (a network
   * thread that exited or threw: thread/thread-port.ts), with what failed as
   * plain data (a 'failed' Failure, its cause kept); every pending and later
   * call has failed too by then. Not called for stop(). Returns its
   * unsubscribe. Optional: a port that cannot die on its own has none.
   */
  onFailure?(fn: (failure: Failure) => void): () => void

  stop(): Promise<void>
}
