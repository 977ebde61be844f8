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
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { TypedEventEmitter } from 'main-event'
import type { HeliaEvents, Routing } from '@helia/interface'
import type { IPNS } from '@helia/ipns'
import type { Crypto } from '@ipshipyard/crypto'
import type { Keychain } from '@ipshipyard/keychain'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, RoutingOptions } from '@libp2p/interface'
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
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
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
        clientMode: false,
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
