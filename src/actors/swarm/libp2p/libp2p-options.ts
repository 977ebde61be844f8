/**
 * The js-libp2p configuration behind a Libp2pDhtPort.
 *
 * Only what a DHT node needs: TCP (plus WebSockets when a profile or a listen
 * address asks for it) or in-process memory, noise, yamux, identify, ping and
 * kad-dht; and, when the network profile (profiles.ts) says so, AutoNAT,
 * UPnP and identify push. Nothing here reaches the internet on its own: the
 * default profile has no bootstrap list, no mDNS, UPnP, relays or AutoNAT,
 * and bootstrap peers are dialled only when the port's bootstrap() is
 * called.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { autoNAT } from '@libp2p/autonat'
import { identify, identifyPush } from '@libp2p/identify'
import { uPnPNAT } from '@libp2p/upnp-nat'
import { webSockets } from '@libp2p/websockets'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { RealClock } from '../../../platform/real-clock.js'
import { keyCachingNoiseCrypto } from '../tweaks/noise-crypto.js'
import { withPeerInfoCache } from '../tweaks/peer-info-cache.js'
import { withFreshDialBack } from '../tweaks/autonat-dial-back.js'
import type { CachedPeerStore, PeerInfoCacheLimits } from '../tweaks/peer-info-cache.js'
import type { Clock } from '../../runtime/clock.js'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, Ed25519PrivateKey, PrivateKey } from '@libp2p/interface'
import type { KadDHT, Selectors, Validators } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import { PortInvalidParametersError } from '../port-errors.js'
import { LOCAL_PROFILE } from './profiles.js'
import { inboundLimitsOf, KadInboundGuard, withKadInboundGuard } from './kad-inbound-guard.js'
import type { RefusalStatus } from '../../../messages/swarm.js'
import type { NetworkProfile } from './profiles.js'
import type { DNS } from '@multiformats/dns'
import type { Datastore } from 'interface-datastore'
import type { Libp2pOptions } from 'libp2p'

/** The standard IPFS (Amino) DHT protocol. */
export const DEFAULT_KAD_PROTOCOL = '/ipfs/kad/1.0.0'
export const DEFAULT_TCP_LISTEN = '/ip4/127.0.0.1/tcp/0'

/** Connections from these networks bypass the per-host inbound rate limit and pending-upgrade cap. */
export const LOOPBACK_ALLOW = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']

/**
 * kad-dht pings a new contact before adding it to its routing table, gives
 * up after 5 s, and never retries. In a one-process testnet every node shares
 * one event loop, and while a mesh is being built that ping can wait longer
 * than 5 s behind handshakes: the peer would be left out for good. Testnets
 * give it longer (kad-dht's own timer; the port still sets none).
 */
export const LOOPBACK_KAD_TIMEOUTS = {
  pingNewContactTimeout: { minTimeout: 15_000, maxTimeout: 30_000 },
  onPeerConnectTimeout: 30_000
}

export interface Libp2pDhtPortOptions {
  /** libp2p's peer store and kad-dht's records and provider records live here. */
  datastore: Datastore
  /** The node's identity; see ed25519KeyFromSeed for stable test peer ids. */
  privateKey: PrivateKey
  /**
   * Listen multiaddrs. Default the profile's (local: `/ip4/127.0.0.1/tcp/0`;
   * amino: TCP 4001 and WebSockets 4002 on every interface); a fresh
   * `/memory/<name>` is required for memory. `[]` is a dial-only node (a DHT
   * client unless `mode` says otherwise).
   */
  listen?: string[]
  /** the network profile (profiles.ts); default local. The options here override its values. */
  profile?: NetworkProfile
  /** resolver of /dnsaddr (and /dns) addresses when dialling; default libp2p's (the system's DNS servers) */
  dns?: DNS
  /** Default 'tcp'. 'memory' is @libp2p/memory: in-process only, addresses `/memory/<name>`. */
  transport?: 'tcp' | 'memory'
  /** Multiaddrs (with /p2p/<peerId>) dialled by bootstrap(). */
  bootstrap?: string[]
  /**
   * 'server' answers DHT queries, 'client' only asks, 'auto' leaves it to
   * kad-dht (client until the node has a confirmed public address, e.g. by
   * AutoNAT, then server, and back). Default the profile's (local: server;
   * amino: auto); a dial-only node: client.
   */
  mode?: 'server' | 'client' | 'auto'
  /**
   * Testnet mode: keep loopback/private addresses in DHT peer records
   * (passthroughMapper) and allow-list loopback in the connection manager.
   */
  loopback?: boolean
  /** Record namespace (`/<ns>/…`) → validator, e.g. `ipns`. kad-dht refuses keys without one. */
  validators?: Validators
  /** Record namespace → selector used to pick the best of several records. Required for every validator namespace. */
  selectors?: Selectors
  /** counts of records the validators refused, reported in status() */
  rejections?: () => Record<string, number>
  /**
   * The guard in front of kad-dht's inbound handler (message size limit,
   * per-peer request rate, malformed-message and stream counts:
   * kad-inbound-guard.ts); default a fresh one with the default limits that
   * counts into no RejectionCounter.
   */
  inboundGuard?: KadInboundGuard
  /** refusals by reason and inbound stream counts, reported in status() as `refusals` */
  refusals?: () => RefusalStatus
  /** DHT protocol id; default `/ipfs/kad/1.0.0`. */
  kadProtocol?: string
  /** Addresses announced (identify, peer records) instead of the listen ones; default none (announce what we listen on). */
  announce?: string[]
  /** libp2p's connection gater (default: allow everything). Benches and tests use it to keep peers apart. */
  connectionGater?: ConnectionGater
  /**
   * How get() finds values: 'direct' (default) walks toward the key with this
   * port's own GET_VALUE requests (value-lookup.ts); 'kad-dht' runs kad-dht's
   * query. Kept so tests and benches can compare the two.
   */
  valueLookup?: 'direct' | 'kad-dht'
  /**
   * Route around frozen peers (default true): our lookups stop waiting on
   * stalled requests, make peers that fail them suspects, and closestPeers
   * walks with our own FIND_NODE requests (dht-client/route-around.ts,
   * kad-walk.ts). `false`: lookups wait on every request, and closestPeers
   * runs kad-dht's query. Kept so benches can compare the two.
   */
  routeAround?: boolean
  /**
   * kad-dht reads the peers it names in answers through a read cache
   * (peer-info-cache.ts): limits, or `false` to read the peer store itself.
   */
  peerInfoCache?: PeerInfoCacheLimits | false
  /** Time for the port's caches and idle streams; default the real clock. */
  clock?: Clock
  /** Receives kad-dht's cached peer store once libp2p builds it (status, tests). */
  onPeerInfoCache?: (store: CachedPeerStore) => void
  /** libp2p's metrics implementation (e.g. @libp2p/prometheus-metrics), passed to createLibp2p as `metrics`; default none */
  metrics?: Libp2pOptions['metrics']
}

/** The peer-info policy for peers learned over the DHT: keep loopback/private addresses only in testnets. */
export function peerInfoMapperFor (options: Pick<Libp2pDhtPortOptions, 'loopback' | 'transport'>): typeof passthroughMapper {
  return options.loopback === true || options.transport === 'memory' ? passthroughMapper : removePrivateAddressesMapper
}

export interface PortServices extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  dht: KadDHT
}

/** Derives an Ed25519 key (and so a stable peer id) from a 32-byte seed. */
export async function ed25519KeyFromSeed (seed: Uint8Array): Promise<Ed25519PrivateKey> {
  if (seed.byteLength !== 32) {
    throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.byteLength}`)
  }
  return generateKeyPairFromSeed('Ed25519', seed)
}

function listenFor (options: Libp2pDhtPortOptions): string[] {
  const profile = options.profile ?? LOCAL_PROFILE
  return options.listen ?? [...profile.listen, ...profile.websockets]
}

/** the DHT mode setting a port runs with: the option, else the profile's; a dial-only node is a client (nobody can dial it) */
export function modeFor (options: Libp2pDhtPortOptions): 'server' | 'client' | 'auto' {
  if (options.mode !== undefined) return options.mode
  if (listenFor(options).length === 0 && options.announce === undefined) return 'client'
  return (options.profile ?? LOCAL_PROFILE).mode
}

export function buildLibp2pOptions (options: Libp2pDhtPortOptions): Libp2pOptions<PortServices> {
  const transport = options.transport ?? 'tcp'
  const profile = options.profile ?? LOCAL_PROFILE
  if (transport === 'memory' && options.listen === undefined) {
    throw new RangeError('a memory-transport port needs listen: [\'/memory/<name>\'] (or [] for a dial-only node)')
  }
  const listen = listenFor(options)
  const websockets = transport === 'tcp' && (profile.websockets.length > 0 || listen.some(a => /\/wss?(\/|$)/.test(a)))
  const loopback = options.loopback ?? profile.loopback
  const mode = modeFor(options)
  const cacheLimits = options.peerInfoCache ?? {}
  const clock = options.clock ?? new RealClock()
  const kadProtocol = options.kadProtocol ?? DEFAULT_KAD_PROTOCOL
  const inboundGuard = options.inboundGuard ?? new KadInboundGuard({ clock, ...inboundLimitsOf(profile) })
  const withCache = (factory: ReturnType<typeof kadDHT>): ReturnType<typeof kadDHT> => withKadInboundGuard(
    cacheLimits === false ? factory : withPeerInfoCache(factory, clock, cacheLimits, options.onPeerInfoCache), kadProtocol, inboundGuard)
  for (const ns of Object.keys(options.validators ?? {})) {
    if (options.selectors?.[ns] === undefined) {
      // kad-dht 16.4's get() asks the selector even for a single record and
      // would end every get of such a key with MissingSelectorError
      throw new PortInvalidParametersError(`record namespace "${ns}" has a validator but no selector`)
    }
  }
  const extra: Record<string, unknown> = {
    ...(profile.identifyPush ? { identifyPush: identifyPush() } : {}),
    // dial-backs on a fresh connection, or no js-libp2p peer can confirm another's address (tweaks/autonat-dial-back.ts)
    ...(profile.autonat ? { autoNAT: withFreshDialBack(autoNAT()) } : {}),
    ...(profile.upnp ? { upnp: uPnPNAT() } : {})
  }
  const services = {
    identify: identify(),
    ping: ping(),
    ...extra,
    dht: withCache(kadDHT({
      protocol: kadProtocol,
      // undefined: kad-dht's auto mode (server once self:peer:update shows a public address)
      ...(mode === 'auto' ? {} : { clientMode: mode === 'client' }),
      validators: options.validators ?? {},
      selectors: options.selectors ?? {},
      // With an empty routing table kad-dht would otherwise wait (until the
      // caller's signal fires) for a first peer and for its initial
      // self-query; the port must end such queries at once instead.
      allowQueryWithZeroPeers: true,
      // The default strips private (incl. loopback) addresses from peers
      // learned over the DHT and from newly connected peers, so a loopback
      // testnet would never fill a routing table.
      peerInfoMapper: peerInfoMapperFor({ loopback, transport }),
      ...(profile.dht ?? {}),
      ...(loopback ? LOOPBACK_KAD_TIMEOUTS : {})
    }))
  } as Libp2pOptions<PortServices>['services']
  const announce = options.announce ?? undefined
  return {
    privateKey: options.privateKey,
    datastore: options.datastore,
    start: true,
    addresses: {
      listen,
      ...(announce !== undefined ? { announce } : {}),
      ...(profile.noAnnounce.length > 0 ? { noAnnounce: [...profile.noAnnounce] } : {})
    },
    ...(options.connectionGater !== undefined ? { connectionGater: options.connectionGater } : {}),
    ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    ...(options.dns !== undefined ? { dns: options.dns } : {}),
    transports: transport === 'tcp' ? [tcp(), ...(websockets ? [webSockets()] : [])] : [memory()],
    // noise's own cipher and handshake, with one key object per session key (noise-crypto.ts)
    connectionEncrypters: [noise({ crypto: keyCachingNoiseCrypto() })],
    streamMuxers: [yamux()],
    connectionManager: { ...profile.connections, ...(loopback ? { allow: LOOPBACK_ALLOW } : {}) },
    ...(profile.peerStore !== undefined ? { peerStore: { ...profile.peerStore } } : {}),
    // The connection monitor pings every connection every 10 s over
    // /ipfs/ping, which allows one outbound stream per connection: a
    // heartbeat in flight makes kad-dht's ping of a new contact fail
    // (TooManyOutboundProtocolStreamsError) and kad-dht then leaves that peer
    // out of its routing table for good; under load a slow heartbeat even
    // aborts the connection. Loopback connections die visibly (socket close),
    // so testnets run without it.
    ...(loopback ? { connectionMonitor: { enabled: false } } : {}),
    services
  }
}
