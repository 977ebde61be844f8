/**
 * The reference stack, for the IPNS bench and the Helia interop test:
 * @helia/ipns 10.1 over a plain js-libp2p node running kad-dht — what
 * createHelia would give IPNS, without the blockstore, bitswap and HTTP
 * routers it does not use.
 *
 * The libp2p node is configured like a swarmbus testnet node, written out here
 * rather than shared, so the interop test does not lean on our own config:
 * TCP on 127.0.0.1, noise, yamux, identify, ping, kad-dht on /ipfs/kad/1.0.0
 * with `passthroughMapper` (the default mapper strips loopback addresses and
 * a loopback testnet never fills), the loopback allow-list (the per-host
 * inbound rate limit resets loopback dials) and no connection monitor.
 * kad-dht gets @helia/ipns's own validator and selector, exactly as
 * `ipns(helia)` installs them on a Helia node.
 *
 * IPNS routing is what Helia's `Routing` does with one libp2p router:
 * put/get go to `libp2p.contentRouting`, i.e. kad-dht's put and get (get
 * returns once the whole query is over). Only put and get are provided: they
 * are all @helia/ipns calls. Both are counted, so a bench can say how many DHT
 * queries its resolves caused.
 *
 * Only the bench and the tests import this file (its packages are
 * devDependencies).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ipns, ipnsSelector, ipnsValidator, IPNSEntry } from '@helia/ipns'
import { ecdsaCrypto, ed25519Crypto, rsaCrypto } from '@ipshipyard/crypto'
import { keychain as createKeychain } from '@ipshipyard/keychain'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { defaultLogger } from '@libp2p/logger'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { TypedEventEmitter } from 'main-event'
import { setTimeout as sleep } from 'node:timers/promises'
import { routingTableOf } from '../src/actors/swarm/libp2p/routing-table.js'
import type { HeliaEvents, Routing } from '@helia/interface'
import type { IPNS } from '@helia/ipns'
import type { Crypto } from '@ipshipyard/crypto'
import type { Keychain } from '@ipshipyard/keychain'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, RoutingOptions } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'

export const HELIA_KAD_PROTOCOL = '/ipfs/kad/1.0.0'

export interface HeliaNode {
  readonly peerId: string
  /** listen addresses including /p2p/<peerId> */
  readonly multiaddrs: string[]
  readonly libp2p: Libp2p<{ identify: Identify, ping: Ping, dht: KadDHT }>
  /** @helia/ipns bound to this node */
  readonly name: IPNS
  readonly keychain: Keychain
  /** routing calls @helia/ipns made: every get is one whole kad-dht GET query */
  readonly routingCalls: { get: number, put: number }
  stop(): Promise<void>
}

export interface HeliaNodeOptions {
  /** deterministic libp2p identity */
  seed?: number
  /** kad-dht client: asks, never answers or stores (default false) */
  clientMode?: boolean
  /** listen addresses (default /ip4/127.0.0.1/tcp/0) */
  listen?: string[]
  /** addresses announced instead of the listen ones (libp2p addresses.announce) */
  announce?: string[]
  /** libp2p connection gater (default: allow everything) */
  connectionGater?: ConnectionGater
}

const cryptos: Crypto[] = [ed25519Crypto(), rsaCrypto(), ecdsaCrypto()]

function getCrypto (codeOrName: number | string): Crypto {
  const found = cryptos.find(c => c.code === codeOrName || c.type === codeOrName)
  if (found === undefined) throw new Error(`no crypto for key type ${String(codeOrName)}`)
  return found
}

function seedBytes (seed: number): Uint8Array {
  const out = new Uint8Array(32)
  new DataView(out.buffer).setUint32(0, seed >>> 0)
  out[31] = 0x4e // apart from swarmbus seeds
  return out
}

export async function createHeliaNode (options: HeliaNodeOptions = {}): Promise<HeliaNode> {
  const datastore = new MemoryDatastore()
  const logger = defaultLogger()
  const keychain = createKeychain()({ datastore, getCrypto })
  const privateKey = options.seed !== undefined
    ? await generateKeyPairFromSeed('Ed25519', seedBytes(options.seed))
    : await generateKeyPair('Ed25519')
  const libp2p = await createLibp2p({
    privateKey,
    datastore,
    start: true,
    addresses: { listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'], ...(options.announce !== undefined ? { announce: options.announce } : {}) },
    ...(options.connectionGater !== undefined ? { connectionGater: options.connectionGater } : {}),
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'] },
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: HELIA_KAD_PROTOCOL,
        clientMode: options.clientMode === true,
        peerInfoMapper: passthroughMapper,
        validators: { ipns: async (key, value) => { await ipnsValidator(key, value, keychain) } },
        selectors: { ipns: (key, values) => ipnsSelector(key, values.map(v => IPNSEntry.decode(v))) },
        pingNewContactTimeout: { minTimeout: 15_000, maxTimeout: 30_000 },
        onPeerConnectTimeout: 30_000
      })
    }
  })
  const routingCalls = { get: 0, put: 0 }
  const routing = {
    put: async (key: Uint8Array, value: Uint8Array, opts?: RoutingOptions): Promise<void> => {
      routingCalls.put++
      await libp2p.contentRouting.put(key, value, opts)
    },
    get: async (key: Uint8Array, opts?: RoutingOptions): Promise<Uint8Array> => {
      routingCalls.get++
      return await libp2p.contentRouting.get(key, opts)
    }
  }
  const events = new TypedEventEmitter<HeliaEvents>()
  // @helia/ipns uses routing.put/get only; the rest of Helia's Routing is not needed
  const name = ipns({ datastore, routing: routing as unknown as Routing, logger, keychain, events })
  let stopping: Promise<void> | undefined
  return {
    peerId: libp2p.peerId.toString(),
    get multiaddrs () { return libp2p.getMultiaddrs().map(a => a.toString()) },
    libp2p,
    name,
    keychain,
    routingCalls,
    stop: async () => {
      stopping ??= Promise.resolve(libp2p.stop())
      await stopping
    }
  }
}

export interface HeliaTestnet {
  nodes: HeliaNode[]
  report: { settled: boolean, elapsedMs: number, dials: number, failedDials: number, refreshes: number, routingTableSizes: number[] }
  stop(): Promise<void>
}

/**
 * N Helia nodes meshed the way createTestnet meshes swarmbus nodes: started
 * in batches of 4, every pair dialled (8 dials in flight), then — bounded in
 * time — a wait until every routing table holds N - 1 peers, with one self
 * lookup for each node still short after 500 ms.
 */
export async function createHeliaTestnet (options: {
  nodes?: number
  seed?: number
  settleTimeoutMs?: number
  /** as createTestnet's reachAt: the address the others must dial node i at; such a node never dials in the mesh */
  reachAt?: (node: HeliaNode, index: number) => Promise<string | undefined>
  /** as createTestnet's nodeAt: options for node i only (listen, announce, connectionGater) */
  nodeAt?: (index: number) => Promise<Omit<HeliaNodeOptions, 'seed' | 'clientMode'>>
} = {}): Promise<HeliaTestnet> {
  const count = options.nodes ?? 20
  const nodes: HeliaNode[] = []
  const stop = async (): Promise<void> => { await Promise.allSettled(nodes.map(async node => { await node.stop() })) }
  try {
    for (let i = 0; i < count; i += 4) {
      nodes.push(...await Promise.all(Array.from({ length: Math.min(4, count - i) }, async (_, j) =>
        await createHeliaNode({ ...(await options.nodeAt?.(i + j)), ...(options.seed !== undefined ? { seed: options.seed + i + j } : {}) }))))
    }
    const start = performance.now()
    const reach = await Promise.all(nodes.map(async (node, i) => await options.reachAt?.(node, i)))
    const pairs: Array<[HeliaNode, HeliaNode, string | undefined]> = []
    for (let a = 0; a < count; a++) {
      for (let b = a + 1; b < count; b++) {
        const [x, y] = reach[a] !== undefined && reach[b] === undefined ? [b, a] : [a, b]
        pairs.push([nodes[x] as HeliaNode, nodes[y] as HeliaNode, reach[y]])
      }
    }
    let next = 0
    let dials = 0
    let failedDials = 0
    await Promise.all(Array.from({ length: Math.min(8, Math.max(1, pairs.length)) }, async () => {
      while (next < pairs.length) {
        const [from, to, at] = pairs[next++] as [HeliaNode, HeliaNode, string | undefined]
        dials++
        await from.libp2p.dial(at !== undefined ? multiaddr(at) : to.libp2p.getMultiaddrs(), { signal: AbortSignal.timeout(10_000) }).catch(() => { failedDials++ })
      }
    }))
    const tables = nodes.map(node => routingTableOf(node.libp2p.services.dht))
    const target = count - 1
    const timeoutMs = options.settleTimeoutMs ?? 30_000
    const refreshed = new Set<number>()
    const lookups: Array<Promise<void>> = []
    const done = new AbortController()
    let sizes: number[] = []
    for (let round = 0; round < 2_000; round++) {
      sizes = tables.map(t => t.size)
      if (sizes.every(s => s >= target)) break
      const elapsed = performance.now() - start
      if (elapsed > timeoutMs) break
      if (elapsed > 500) {
        sizes.forEach((size, i) => {
          if (size >= target || refreshed.has(i)) return
          refreshed.add(i)
          const node = nodes[i] as HeliaNode
          lookups.push((async () => {
            try {
              for await (const _ of node.libp2p.services.dht.getClosestPeers(node.libp2p.peerId.toMultihash().bytes, { signal: AbortSignal.any([done.signal, AbortSignal.timeout(10_000)]) })) {
                // every responder is offered to the routing table
              }
            } catch {
              // a failed lookup only means this node fills more slowly
            }
          })())
        })
      }
      await sleep(20)
    }
    done.abort()
    await Promise.all(lookups)
    return {
      nodes,
      report: { settled: sizes.every(s => s >= target), elapsedMs: performance.now() - start, dials, failedDials, refreshes: refreshed.size, routingTableSizes: sizes },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
