/**
 * Protocol of the routers actor: IPNS records, providers and peers through
 * Delegated Routing V1 HTTP endpoints (docs/routing.md). Every IPNS record an
 * endpoint returns is verified for the name asked before it is answered;
 * providers and peers are de-duplicated across endpoints.
 */
import type { FailureKind } from './failure.js'

export interface RoutersGetIpns {
  type: 'routers.getIpns'
  /** the IPNS name (k51…, bafz…, a base58 peer id, or /ipns/<name>) */
  name: string
}

export interface RoutersIpnsReply {
  /** the name, base36 (k51…) */
  name: string
  /** the record as the endpoint returned it, verified for `name` */
  record: Uint8Array
  /** the endpoint that gave it */
  endpoint: string
  value: string
  sequence: bigint
  /** EOL, RFC 3339 */
  validity: string
}

export interface RoutersPutIpns {
  type: 'routers.putIpns'
  /** the IPNS name the record is for */
  name: string
  /** a marshalled IpnsEntry (at most 10 KiB) */
  record: Uint8Array
}

export interface RouterPutOutcome {
  endpoint: string
  ok: boolean
  /** when not ok: the failure's kind and message ('overloaded' / 'circuit open' when the endpoint was not tried) */
  kind?: FailureKind
  error?: string
  /** requests made (1 + retries) */
  attempts: number
}

export interface RoutersPutReply {
  name: string
  /** endpoints that answered 200 */
  accepted: number
  outcomes: RouterPutOutcome[]
}

export interface RoutersFindProviders {
  type: 'routers.findProviders'
  /** a CID string */
  cid: string
  /** most distinct providers yielded (default 100, at most 1,000) */
  limit?: number
}

export interface RoutersFindPeers {
  type: 'routers.findPeers'
  /** base58btc peer id (12D3Koo…) */
  peerId: string
  /** most distinct records yielded (default 100, at most 1,000) */
  limit?: number
}

/** a peer record (Peer schema) from an endpoint */
export interface RouterPeer {
  /** base58btc peer id */
  peerId: string
  /** multiaddr strings */
  multiaddrs: string[]
  /** transfer protocols it announced (transport-bitswap, …) */
  protocols: string[]
  /** the endpoint that named it first */
  endpoint: string
}

export interface RoutersStatus {
  type: 'routers.status'
}

/**
 * Providers of a CID from every source at once: the DHT (dht.findProviders)
 * and every HTTP router (routers.findProviders), each peer id once (the first
 * source to name it wins), up to `limit`; the stream ends when every source
 * has ended.
 */
export interface RoutingFindProviders {
  type: 'routing.findProviders'
  /** a CID string */
  cid: string
  /** most distinct providers yielded (default 100, at most 1,000) */
  limit?: number
}

/**
 * A peer's addresses from every source at once: the DHT (dht.findPeer) and
 * every HTTP router (routers.findPeers). Each item holds the addresses no
 * earlier item gave (an answer with nothing new yields nothing).
 */
export interface RoutingFindPeer {
  type: 'routing.findPeer'
  /** base58btc peer id (12D3Koo…, Qm…) */
  peerId: string
  /** most items yielded (default 100, at most 1,000) */
  limit?: number
}

/** a peer found through the DHT or an HTTP router */
export interface RoutedPeer {
  /** base58btc peer id */
  peerId: string
  /** multiaddr strings (for routing.findPeer: only the ones no earlier item had) */
  multiaddrs: string[]
  /** transfer protocols a router announced for it (none from the DHT) */
  protocols: string[]
  /** 'dht', or the router endpoint that named it */
  from: string
}

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface RouterEndpointStatus {
  endpoint: string
  breaker: BreakerState
  /** failures in a row (a success resets it) */
  consecutiveFailures: number
  /** times the breaker opened */
  opens: number
  /** requests running now */
  inFlight: number
  /** requests made (retries included) */
  requests: number
  ok: number
  notFound: number
  /** failed requests (timeouts included) */
  errors: number
  timeouts: number
  retries: number
  /** records that failed verification (dropped) */
  invalidRecords: number
  /** requests not made: the endpoint had its in-flight limit running */
  overloaded: number
  /** requests not made: the breaker was open */
  skipped: number
}

export interface RoutersStatusReply {
  endpoints: RouterEndpointStatus[]
  /** operations being served */
  pending: number
}

declare module './commands.js' {
  interface CommandMap {
    /** the first valid record an endpoint returns; not-found when none has one */
    'routers.getIpns': { command: RoutersGetIpns, reply: RoutersIpnsReply }
    /** to every endpoint at once; fails unless at least one accepted it */
    'routers.putIpns': { command: RoutersPutIpns, reply: RoutersPutReply }
    'routers.status': { command: RoutersStatus, reply: RoutersStatusReply }
  }
  interface StreamMap {
    'routers.findProviders': { command: RoutersFindProviders, item: RouterPeer }
    'routers.findPeers': { command: RoutersFindPeers, item: RouterPeer }
    /** the DHT and every HTTP router at once, each provider once */
    'routing.findProviders': { command: RoutingFindProviders, item: RoutedPeer }
    /** the DHT and every HTTP router at once, each address once */
    'routing.findPeer': { command: RoutingFindPeer, item: RoutedPeer }
  }
}
