/**
 * The messages between the main-thread proxy DhtPort (thread-port.ts) and the
 * worker thread that owns the libp2p node (network-worker.ts), over the
 * worker's MessagePort. Everything here is plain data (structured clone):
 * errors cross as WirePortError (wire-errors.ts), keys and values as
 * Uint8Array.
 *
 * Each operation has a call id chosen by the host. A one-shot op ends with
 * `result` or `error`; a stream op sends `item`s, each spending one credit
 * (the host grants `STREAM_CREDIT` at the start and more as its consumer
 * takes items, so at most that many wait in the host's buffer), then `end`
 * or `error`. `cancel` aborts the worker-side AbortController of a call.
 * Progress events are batched per turn of the worker's loop and bounded per
 * call (MAX_PROGRESS_PER_CALL; the rest are counted and dropped).
 */
import type { NetworkStatus } from '../../../messages/swarm.js'
import type { NetworkProfile } from '../libp2p/profiles.js'
import type { DhtConnection, DhtGetValue, DhtPeerInfo, DhtPortStatus, DhtProgress } from '../dht-port.js'
import type { NetworkViolation } from '../../../node/network-guard.js'
import type { WirePortError } from './wire-errors.js'

/** items a stream may send ahead of its consumer */
export const STREAM_CREDIT = 16
/** progress events forwarded per call; the swarm actor keeps fewer */
export const MAX_PROGRESS_PER_CALL = 512
/** how often the worker pushes a status snapshot when something changed */
export const SNAPSHOT_INTERVAL_MS = 250
/**
 * The network thread's nice value by default, as the verify pool's: the
 * kernel serves the host's event loop first when both want a core. Measured
 * (docs/benchmarks.md, 100 concurrent resolves, alternating rounds of one
 * run): loop p99 2.7 and 5.5 ms at 10 against 11.7 and 14.8 ms at 0.
 */
export const DEFAULT_NETWORK_THREAD_NICE = 10

/** What the worker needs to build its port: plain data only (validators, datastore, gater are built in the worker). */
export interface NetworkThreadConfig {
  /** the node's private key, protobuf-encoded (privateKeyToProtobuf) */
  privateKey: Uint8Array
  /** tcp only: @libp2p/memory's registry is per thread */
  transport: 'tcp'
  listen?: string[]
  profile: NetworkProfile
  /** DNS servers for /dnsaddr dials (dns-resolver.ts); default the system's */
  dnsServers?: string[]
  bootstrap?: string[]
  announce?: string[]
  mode?: 'server' | 'client' | 'auto'
  loopback?: boolean
  valueLookup?: 'direct' | 'kad-dht'
  /** the thread's nice value, 0–19 (default DEFAULT_NETWORK_THREAD_NICE); Linux applies it to this thread only */
  nice?: number
}

export interface ThreadSnapshot {
  multiaddrs: string[]
  connections: DhtConnection[]
  status: DhtPortStatus
}

export type OneShotOp =
  | { op: 'put', key: Uint8Array, value: Uint8Array }
  | { op: 'putTo', key: Uint8Array, value: Uint8Array, peers: string[], now: number }
  | { op: 'provide', cid: string }
  | { op: 'findPeer', peerId: string }
  | { op: 'dial', multiaddr: string }
  | { op: 'bootstrap' }

export type StreamOp =
  | { op: 'get', key: Uint8Array, want?: number }
  | { op: 'findProviders', cid: string }
  | { op: 'closestPeers', key: Uint8Array }

export type StreamItem = DhtGetValue | DhtPeerInfo

export type HostMessage =
  | { t: 'call', id: number, call: OneShotOp, progress: boolean }
  | { t: 'stream', id: number, call: StreamOp, progress: boolean, credit: number }
  | { t: 'credit', id: number, n: number }
  | { t: 'cancel', id: number }
  | { t: 'stop' }

export type WorkerMessage =
  | { t: 'ready', peerId: string, snapshot: ThreadSnapshot }
  | { t: 'init-failed', error: WirePortError }
  | { t: 'result', id: number, value: unknown, snapshot?: ThreadSnapshot }
  | { t: 'error', id: number, error: WirePortError }
  | { t: 'item', id: number, item: StreamItem }
  | { t: 'end', id: number }
  | { t: 'progress', batch: Array<[id: number, events: DhtProgress[]]> }
  | { t: 'snapshot', snapshot: ThreadSnapshot }
  | { t: 'net', status: NetworkStatus }
  | { t: 'violation', violation: NetworkViolation }
  | { t: 'stopped', error?: WirePortError }
