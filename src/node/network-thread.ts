/**
 * createNode({ networkThread: true }): the node's libp2p port in a worker
 * thread (src/actors/swarm/thread/), so js-libp2p's per-request work (noise,
 * yamux, protobuf, kad-dht's stream plumbing) leaves the host's event loop.
 * The worker builds what is not plain data itself: the default record
 * validators and selectors (its own inline Ed25519 verifier), the
 * lower-sequence guard over its own memory datastore, the inbound guard and
 * the network guard. Options that would have to cross as functions or
 * objects are refused here with a TypeError, as is a directory repo (the
 * worker's DHT records and peer store live in memory for now) and the
 * memory transport (its registry is per thread).
 */
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { createThreadDhtPort } from '../actors/swarm/thread/thread-port.js'
import type { DhtPort } from '../actors/swarm/dht-port.js'
import type { NetworkProfile } from '../actors/swarm/libp2p/profiles.js'
import type { NetworkThreadConfig } from '../actors/swarm/thread/thread-protocol.js'
import type { PrivateKey } from '@libp2p/interface'

/** the NodeOptions a network thread cannot take */
const REFUSED = ['validators', 'selectors', 'connectionGater', 'libp2pMetrics'] as const

export function checkNetworkThreadOptions (options: { repo?: string, transport?: string } & Partial<Record<typeof REFUSED[number], unknown>>): void {
  for (const name of REFUSED) {
    if (options[name] !== undefined) {
      throw new TypeError(`createNode: networkThread: true cannot take \`${name}\` (it would have to cross to the network thread as code); leave networkThread off to use it`)
    }
  }
  if (options.repo !== undefined && options.repo !== 'memory') {
    throw new TypeError('createNode: networkThread: true needs a memory repo for now (the network thread keeps its DHT records and peer store in memory)')
  }
  if (options.transport === 'memory') {
    throw new TypeError('createNode: networkThread: true needs the tcp transport (@libp2p/memory reaches only nodes of its own thread)')
  }
}

export interface NetworkThreadSettings {
  privateKey: PrivateKey
  listen?: string[]
  profile: NetworkProfile
  dnsServers?: string[]
  bootstrap: string[]
  announce?: string[]
  mode?: 'server' | 'client' | 'auto'
  loopback?: boolean
}

/** the swarm actor's port factory: each call (the first start, a restart) starts a new network thread */
export function networkThreadPorts (s: NetworkThreadSettings): () => Promise<DhtPort> {
  const config: NetworkThreadConfig = {
    privateKey: privateKeyToProtobuf(s.privateKey),
    transport: 'tcp',
    profile: s.profile,
    bootstrap: s.bootstrap,
    ...(s.listen !== undefined ? { listen: s.listen } : {}),
    ...(s.dnsServers !== undefined ? { dnsServers: s.dnsServers } : {}),
    ...(s.announce !== undefined ? { announce: s.announce } : {}),
    ...(s.mode !== undefined ? { mode: s.mode } : {}),
    ...(s.loopback !== undefined ? { loopback: s.loopback } : {})
  }
  return async () => await createThreadDhtPort(config)
}
