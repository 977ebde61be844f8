/**
 * Network profiles: what a node's libp2p stack is, as plain data.
 *
 * - `local` (the default): today's node. Listens on 127.0.0.1 (a random
 *   port), one transport, DHT server, dials nothing it was not given; no
 *   AutoNAT, UPnP or identify push. Testnets and the demo use it.
 * - `amino`: a node of the public IPFS DHT (Amino), the way kubo and Helia
 *   configure one: their bootstrap peers, TCP on every interface (port 4001)
 *   plus WebSockets (4002) so browser nodes can reach a server, public
 *   addresses only in and out of the DHT, AutoNAT deciding DHT server or
 *   client mode (kad-dht's own auto mode), identify push, bounded
 *   connections, streams and peer store, kad-dht's reprovider and provider
 *   sweeps at kubo's periods, and the public Delegated Routing endpoint
 *   (https://delegated-ipfs.dev) beside the DHT. UPnP is off unless asked for.
 *
 * Every value is overridden by the node's explicit options (bootstrap,
 * listen, announce, mode, loopback) and by a NetworkSettings object. See
 * docs/network.md.
 */

export type NetworkName = 'local' | 'amino'

/**
 * The public bootstrap peers kubo ships (config/bootstrap_peers.go) and Helia
 * copies (packages/helia/src/utils/bootstrappers.ts): the four
 * bootstrap.libp2p.io nodes and va1 behind /dnsaddr (TXT `_dnsaddr.<name>`
 * records, resolved recursively by libp2p's dialler), and mars.i.ipfs.io's
 * fixed TCP address. (kubo also lists mars over QUIC, a transport this node
 * does not have.)
 */
export const AMINO_BOOTSTRAP: readonly string[] = Object.freeze([
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
  '/dnsaddr/va1.bootstrap.libp2p.io/p2p/12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8',
  '/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ'
])

/**
 * The public Delegated Routing V1 HTTP endpoint kubo (Routing.Type auto) and
 * Helia (@helia/routers delegatedHTTPRouting) ask beside the DHT.
 */
export const AMINO_ROUTERS: readonly string[] = Object.freeze(['https://delegated-ipfs.dev'])

/** kubo's swarm port */
export const AMINO_TCP_PORT = 4001
/** WebSockets beside it (a second listener: @libp2p/tcp and @libp2p/websockets cannot share a port) */
export const AMINO_WS_PORT = 4002

export interface ConnectionLimits {
  /** open connections at most; past it libp2p's pruner closes the least valued (routing-table peers, tagged by kad-dht, are kept) */
  maxConnections: number
  /** inbound connections being upgraded (handshake) at once */
  maxIncomingPendingConnections: number
  /** inbound connections per second from one host */
  inboundConnectionThreshold: number
  /** dials waiting at once */
  maxDialQueueLength: number
  /** addresses tried for one peer */
  maxPeerAddrsToDial: number
}

export interface DhtLimits {
  /** DHT streams a peer may open to us at once, per connection (kad-dht resets the rest) */
  maxInboundStreams: number
  /** DHT streams we open to a peer at once, per connection */
  maxOutboundStreams: number
  /**
   * kad-dht's reprovider, which in 16.4 also sweeps provider records: every
   * `interval` ms it deletes other peers' provider records older than
   * `validity` ms and re-provides ours once they are within `threshold` ms
   * of it; `concurrency` re-provides at once (its `providers` settings are
   * not read by 16.4)
   */
  reprovide?: { interval: number, threshold: number, validity: number, concurrency: number }
  /** how often kad-dht looks itself up to refresh the routing table near its id (ms) */
  querySelfInterval?: number
  /** the largest inbound DHT message read (bytes; larger: the stream is reset at its length prefix); default 64 KiB */
  maxInboundMessageBytes?: number
  /** inbound DHT requests one peer may send a second (more wait); default 50 */
  inboundRequestsPerSecond?: number
  /** requests a peer may save up beyond that rate; default 200 */
  inboundRequestBurst?: number
}

/** the sweep of expired DHT value records from the store (record-sweeper.ts) */
export interface RecordSweepSettings {
  /** time between sweeps (ms) */
  intervalMs: number
  /** a record received longer ago than this is removed (kad-dht serves none older than 48 h) */
  maxAgeMs: number
  /** records read per sweep at most (default 100,000) */
  maxPerSweep?: number
}

export interface NetworkProfile {
  readonly name: NetworkName
  /** peers dialled on start; empty: none */
  readonly bootstrap: readonly string[]
  /** Delegated Routing V1 HTTP endpoints a node asks when createNode is given no `routers.endpoints`; empty: none */
  readonly routers: readonly string[]
  /** TCP listen addresses; `[]` is a dial-only node */
  readonly listen: readonly string[]
  /** WebSockets listen addresses (a second transport); `[]` for none */
  readonly websockets: readonly string[]
  /** addresses never announced (e.g. a private range the host sits on) */
  readonly noAnnounce: readonly string[]
  /** DHT mode: 'auto' leaves it to kad-dht, which serves once the node has a confirmed public address */
  readonly mode: 'server' | 'client' | 'auto'
  /** keep loopback/private addresses in DHT peer records (testnets) */
  readonly loopback: boolean
  /** AutoNAT: ask peers to dial our observed addresses back, confirming the public ones */
  readonly autonat: boolean
  /** UPnP / NAT-PMP port mapping on the gateway */
  readonly upnp: boolean
  /** identify push: tell connected peers at once when our addresses or protocols change */
  readonly identifyPush: boolean
  /** bounds of libp2p's connection manager; undefined: libp2p's own */
  readonly connections?: ConnectionLimits
  readonly dht?: DhtLimits
  /** peer store pruning: addresses expire after maxAddressAge, address-less peers after maxPeerAge (ms) */
  readonly peerStore?: { maxAddressAge: number, maxPeerAge: number }
  /** expired DHT records removed from the store on a schedule; undefined: never (kad-dht drops one only when it is asked for) */
  readonly recordSweep?: RecordSweepSettings
}

/** Settings that adjust a profile; each field replaces the profile's value. */
export interface NetworkSettings {
  /** the profile to start from (default 'local') */
  profile?: NetworkName
  /** TCP port of the default listen addresses (amino: 4001; 0 picks a free one) */
  tcpPort?: number
  /** WebSockets port (amino: 4002), or false for no WebSockets */
  wsPort?: number | false
  /** addresses never announced */
  noAnnounce?: string[]
  autonat?: boolean
  upnp?: boolean
  identifyPush?: boolean
  connections?: Partial<ConnectionLimits>
  dht?: Partial<DhtLimits>
  peerStore?: { maxAddressAge?: number, maxPeerAge?: number }
  /** the expired-record sweep's schedule, or false for none */
  recordSweep?: Partial<RecordSweepSettings> | false
}

const HOUR = 3_600_000

/** libp2p's own defaults for a Node process, but named, so a long-running node's bounds are visible here */
const AMINO_CONNECTIONS: ConnectionLimits = {
  maxConnections: 300,
  maxIncomingPendingConnections: 10,
  inboundConnectionThreshold: 5,
  maxDialQueueLength: 500,
  maxPeerAddrsToDial: 25
}

const AMINO_DHT: DhtLimits = {
  maxInboundStreams: 32,
  maxOutboundStreams: 64,
  // go-libp2p / kubo: provider records live 48 h, are re-provided every 22 h
  reprovide: { interval: HOUR, threshold: 26 * HOUR, validity: 48 * HOUR, concurrency: 10 },
  querySelfInterval: 5 * 60_000,
  // the inbound guard's limits (kad-inbound-guard.ts), named here as for every profile
  maxInboundMessageBytes: 64 * 1024,
  inboundRequestsPerSecond: 50,
  inboundRequestBurst: 200
}

function tcpListen (port: number): string[] {
  return [`/ip4/0.0.0.0/tcp/${port}`, `/ip6/::/tcp/${port}`]
}

function wsListen (port: number): string[] {
  return [`/ip4/0.0.0.0/tcp/${port}/ws`, `/ip6/::/tcp/${port}/ws`]
}

export const LOCAL_PROFILE: NetworkProfile = Object.freeze({
  name: 'local',
  bootstrap: [],
  routers: [],
  listen: ['/ip4/127.0.0.1/tcp/0'],
  websockets: [],
  noAnnounce: [],
  mode: 'server',
  loopback: false,
  autonat: false,
  upnp: false,
  identifyPush: false
})

export const AMINO_PROFILE: NetworkProfile = Object.freeze({
  name: 'amino',
  bootstrap: AMINO_BOOTSTRAP,
  routers: AMINO_ROUTERS,
  listen: tcpListen(AMINO_TCP_PORT),
  websockets: wsListen(AMINO_WS_PORT),
  noAnnounce: [],
  mode: 'auto',
  loopback: false,
  autonat: true,
  upnp: false,
  identifyPush: true,
  connections: AMINO_CONNECTIONS,
  dht: AMINO_DHT,
  peerStore: { maxAddressAge: HOUR, maxPeerAge: 6 * HOUR },
  recordSweep: { intervalMs: HOUR, maxAgeMs: 48 * HOUR }
})

const PROFILES: Record<NetworkName, NetworkProfile> = { local: LOCAL_PROFILE, amino: AMINO_PROFILE }

function checkPort (name: string, port: number | undefined): void {
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    throw new RangeError(`network.${name} must be a port number (0-65535), got ${String(port)}`)
  }
}

function positive (name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`network.${name} must be a positive number, got ${String(value)}`)
  }
}

/** The profile a node runs with: a name, or settings on top of one. Throws RangeError on a malformed setting. */
export function resolveNetworkProfile (network: NetworkName | NetworkSettings | undefined): NetworkProfile {
  const settings: NetworkSettings = typeof network === 'string' || network === undefined ? { profile: network ?? 'local' } : network
  const base = PROFILES[settings.profile ?? 'local']
  if (base === undefined) throw new RangeError(`unknown network profile '${String(settings.profile)}' (expected 'local' or 'amino')`)
  checkPort('tcpPort', settings.tcpPort)
  if (settings.wsPort !== false) checkPort('wsPort', settings.wsPort)
  for (const [k, v] of Object.entries({ ...settings.connections, ...settings.dht, ...settings.peerStore, ...(settings.recordSweep !== false ? settings.recordSweep : {}) })) {
    if (typeof v === 'number') positive(k, v)
  }
  const tcpPort = settings.tcpPort
  const listen = tcpPort === undefined
    ? base.listen
    : base.name === 'local' ? [`/ip4/127.0.0.1/tcp/${tcpPort}`] : tcpListen(tcpPort)
  const websockets = settings.wsPort === false
    ? []
    : settings.wsPort !== undefined
      ? (base.name === 'local' ? [`/ip4/127.0.0.1/tcp/${settings.wsPort}/ws`] : wsListen(settings.wsPort))
      : base.websockets
  const connections = base.connections !== undefined || settings.connections !== undefined
    ? { ...AMINO_CONNECTIONS, ...base.connections, ...settings.connections }
    : undefined
  const dht = base.dht !== undefined || settings.dht !== undefined
    ? { ...AMINO_DHT, ...base.dht, ...settings.dht }
    : undefined
  const peerStore = base.peerStore !== undefined || settings.peerStore !== undefined
    ? { maxAddressAge: HOUR, maxPeerAge: 6 * HOUR, ...base.peerStore, ...settings.peerStore }
    : undefined
  const recordSweep = settings.recordSweep === false
    ? undefined
    : base.recordSweep !== undefined || settings.recordSweep !== undefined
      ? { intervalMs: HOUR, maxAgeMs: 48 * HOUR, ...base.recordSweep, ...settings.recordSweep }
      : undefined
  const { recordSweep: _drop, ...rest } = base
  return Object.freeze({
    ...rest,
    listen,
    websockets,
    noAnnounce: settings.noAnnounce ?? base.noAnnounce,
    autonat: settings.autonat ?? base.autonat,
    upnp: settings.upnp ?? base.upnp,
    identifyPush: settings.identifyPush ?? base.identifyPush,
    ...(connections !== undefined ? { connections } : {}),
    ...(dht !== undefined ? { dht } : {}),
    ...(peerStore !== undefined ? { peerStore } : {}),
    ...(recordSweep !== undefined ? { recordSweep } : {})
  })
}
