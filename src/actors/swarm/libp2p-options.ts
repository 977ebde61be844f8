/**
 * The js-libp2p configuration behind a Libp2pDhtPort.
 *
 * Only what a DHT node needs: one transport (TCP or in-process memory),
 * noise, yamux, identify, ping and kad-dht. Nothing here reaches the
 * internet on its own: no default bootstrap list, no mDNS, UPnP, relays or
 * AutoNAT. Bootstrap peers are dialled only when the port's bootstrap() is
 * called.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import type { Identify } from '@libp2p/identify'
import type { Ed25519PrivateKey, PrivateKey } from '@libp2p/interface'
import type { KadDHT, Selectors, Validators } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Datastore } from 'interface-datastore'
import type { Libp2pOptions } from 'libp2p'

/** The standard IPFS (Amino) DHT protocol. */
export const DEFAULT_KAD_PROTOCOL = '/ipfs/kad/1.0.0'
export const DEFAULT_TCP_LISTEN = '/ip4/127.0.0.1/tcp/0'

/** Connections from these networks bypass the per-host inbound rate limit and pending-upgrade cap. */
export const LOOPBACK_ALLOW = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']

export interface Libp2pDhtPortOptions {
  /** libp2p's peer store and kad-dht's records and provider records live here. */
  datastore: Datastore
  /** The node's identity; see ed25519KeyFromSeed for stable test peer ids. */
  privateKey: PrivateKey
  /** Listen multiaddrs. Default `/ip4/127.0.0.1/tcp/0` (tcp) or a fresh `/memory/<name>` is required for memory. */
  listen?: string[]
  /** Default 'tcp'. 'memory' is @libp2p/memory: in-process only, addresses `/memory/<name>`. */
  transport?: 'tcp' | 'memory'
  /** Multiaddrs (with /p2p/<peerId>) dialled by bootstrap(). */
  bootstrap?: string[]
  /** 'server' answers DHT queries (default), 'client' only asks. */
  mode?: 'server' | 'client'
  /**
   * Testnet mode: keep loopback/private addresses in DHT peer records
   * (passthroughMapper) and allow-list loopback in the connection manager.
   */
  loopback?: boolean
  /** Record namespace (`/<ns>/…`) → validator, e.g. `ipns`. kad-dht refuses keys without one. */
  validators?: Validators
  /** Record namespace → selector used to pick the best of several records. */
  selectors?: Selectors
  /** DHT protocol id; default `/ipfs/kad/1.0.0`. */
  kadProtocol?: string
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

export function buildLibp2pOptions (options: Libp2pDhtPortOptions): Libp2pOptions<PortServices> {
  const transport = options.transport ?? 'tcp'
  const listen = options.listen ?? (transport === 'tcp' ? [DEFAULT_TCP_LISTEN] : [])
  if (listen.length === 0) {
    throw new RangeError('a memory-transport port needs listen: [\'/memory/<name>\']')
  }
  const loopback = options.loopback === true
  return {
    privateKey: options.privateKey,
    datastore: options.datastore,
    start: true,
    addresses: { listen },
    transports: [transport === 'tcp' ? tcp() : memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: loopback ? { allow: LOOPBACK_ALLOW } : {},
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: options.kadProtocol ?? DEFAULT_KAD_PROTOCOL,
        clientMode: (options.mode ?? 'server') === 'client',
        validators: options.validators ?? {},
        selectors: options.selectors ?? {},
        // With an empty routing table kad-dht would otherwise wait (until the
        // caller's signal fires) for a first peer and for its initial
        // self-query; the port must end such queries at once instead.
        allowQueryWithZeroPeers: true,
        // The default strips private (incl. loopback) addresses from peers
        // learned over the DHT and from newly connected peers, so a loopback
        // testnet would never fill a routing table.
        peerInfoMapper: loopback || transport === 'memory' ? passthroughMapper : removePrivateAddressesMapper
      })
    }
  }
}
