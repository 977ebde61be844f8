/**
 * A Helia IPNS node (@helia/ipns 10) whose only router is our Routing V1
 * server, through the Helia client's own content-routing adapter
 * (delegatedRoutingV1HttpApiClientContentRouting): it resolves a name a
 * swarmbus node published on the testnet, and its publish goes through the
 * server's PUT to the DHT, where swarmbus nodes resolve it. No libp2p at all
 * on the Helia side: HTTP is its only way to the network.
 */
import { delegatedRoutingV1HttpApiClientContentRouting } from '@helia/delegated-routing-v1-http-api-client'
import { ipns } from '@helia/ipns'
import { ecdsaCrypto, ed25519Crypto, rsaCrypto } from '@ipshipyard/crypto'
import { keychain as createKeychain } from '@ipshipyard/keychain'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { TypedEventEmitter } from 'main-event'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRoutingServer } from './support.js'
import type { HeliaEvents, Routing } from '@helia/interface'
import type { IPNS } from '@helia/ipns'
import type { Crypto } from '@ipshipyard/crypto'
import type { RoutingServer } from './support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'

const SEED = 73_000
const cryptos: Crypto[] = [ed25519Crypto(), rsaCrypto(), ecdsaCrypto()]

function getCrypto (codeOrName: number | string): Crypto {
  const found = cryptos.find(c => c.code === codeOrName || c.type === codeOrName)
  if (found === undefined) throw new Error(`no crypto for key type ${String(codeOrName)}`)
  return found
}

async function cidOf (label: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`routing-v1-helia/${label}`)))
}

describe('Helia with our Routing V1 server as its only router', () => {
  let s: RoutingServer
  let name: IPNS
  let routing: ReturnType<ReturnType<typeof delegatedRoutingV1HttpApiClientContentRouting>>

  beforeAll(async () => {
    s = await startRoutingServer(SEED)
    const datastore = new MemoryDatastore()
    const logger = defaultLogger()
    routing = delegatedRoutingV1HttpApiClientContentRouting({ url: s.url, cacheTTL: 0 })({ logger })
    await (routing as unknown as { start: () => Promise<void> }).start()
    name = ipns({ datastore, routing: routing as unknown as Routing, logger, keychain: createKeychain()({ datastore, getCrypto }), events: new TypedEventEmitter<HeliaEvents>() })
  }, 60_000)

  afterAll(async () => {
    await (routing as unknown as { stop: () => Promise<void> } | undefined)?.stop()
    await s?.stop()
  }, 30_000)

  it('resolves a name a swarmbus node published (value and sequence)', async () => {
    const publisher = s.net.nodes[2] as SwarmNode
    const first = await cidOf('first')
    const second = await cidOf('second')
    await publisher.ask({ type: 'ipns.publish', value: `/ipfs/${first.toString()}` }, { timeoutMs: 20_000 })
    const published = await publisher.ask({ type: 'ipns.publish', value: `/ipfs/${second.toString()}` }, { timeoutMs: 20_000 })
    const results = []
    for await (const r of name.resolve(peerIdFromString(publisher.peerId).toMultihash(), { nocache: true, signal: AbortSignal.timeout(20_000) })) results.push(r)
    expect(results).toHaveLength(1)
    expect(results[0]?.value).toBe(`/ipfs/${second.toString()}`)
    expect(results[0]?.record.sequence).toBe(published.sequence)
  })

  it('publishes through the server: swarmbus nodes resolve the name from the DHT', async () => {
    const value = await cidOf('helia')
    const published = await name.publish('helia-key', value, { signal: AbortSignal.timeout(20_000) })
    const k51 = published.publicKey.toCID().toString(base36)
    const resolver = s.net.nodes[3] as SwarmNode
    const got = await resolver.ask({ type: 'ipns.resolve', name: k51, nocache: true }, { timeoutMs: 20_000 })
    expect(got).toMatchObject({ value: `/ipfs/${value.toString()}`, sequence: published.record.sequence, source: 'dht' })
  })
})
