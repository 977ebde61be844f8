/**
 * The Routing V1 server against the real @helia/delegated-routing-v1-http-api-client
 * (v9), on a 4-node loopback testnet: providers, peers, closest peers and IPNS
 * GET/PUT, in both content types the client reads, with IPIP-484 filters.
 * The server runs on node 0; the work it reports is done by the others.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRecord } from '../../../src/records/create.js'
import { generateEd25519Signer } from '../../../src/records/ed25519.js'
import { nameFromPublicKey } from '../../../src/records/name.js'
import { collect, startRoutingServer } from './support.js'
import type { RoutingServer } from './support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'

const SEED = 71_000

async function cidOf (label: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`routing-v1/${label}`)))
}

const ids = (records: Array<{ ID: CID }>): string[] => records.map(r => peerIdFromString(r.ID.toString()).toString())

describe('Routing V1 server with the Helia client', () => {
  let s: RoutingServer
  let n: SwarmNode[]

  beforeAll(async () => {
    s = await startRoutingServer(SEED)
    n = s.net.nodes
  }, 60_000)

  afterAll(async () => { await s?.stop() }, 30_000)

  it('providers: a CID provided by another node is found, with its addresses (NDJSON)', async () => {
    const cid = await cidOf('provided')
    await (n[2] as SwarmNode).ask({ type: 'dht.provide', cid: cid.toString() }, { timeoutMs: 20_000 })
    const found = await collect(s.client.getProviders(cid))
    expect(ids(found)).toContain((n[2] as SwarmNode).peerId)
    const rec = found.find(r => peerIdFromString(r.ID.toString()).toString() === (n[2] as SwarmNode).peerId)
    expect(rec?.Schema).toBe('peer')
    expect(rec?.Addrs.length).toBeGreaterThan(0)
    expect(rec?.Addrs.every(a => a.toString().startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
  })

  it('providers: filters narrow and drop records as IPIP-484 says', async () => {
    const cid = await cidOf('provided')
    const provider = (n[2] as SwarmNode).peerId
    // every address is /ip4/…/tcp/…: kept by tcp, all gone with !tcp (and the record with them) unless unknown is listed
    expect(ids(await collect(s.client.getProviders(cid, { filterAddrs: ['tcp'] })))).toContain(provider)
    expect(ids(await collect(s.client.getProviders(cid, { filterAddrs: ['!tcp'] })))).not.toContain(provider)
    const unknown = await collect(s.client.getProviders(cid, { filterAddrs: ['!tcp', 'unknown'] }))
    expect(ids(unknown)).toContain(provider)
    expect(unknown.find(r => peerIdFromString(r.ID.toString()).toString() === provider)?.Addrs).toEqual([])
    // the DHT says nothing of transfer protocols: 'unknown' keeps the record, a named protocol drops it
    expect(ids(await collect(s.client.getProviders(cid, { filterProtocols: ['transport-bitswap'] })))).not.toContain(provider)
    expect(ids(await collect(s.client.getProviders(cid, { filterProtocols: ['transport-bitswap', 'UNKNOWN'] })))).toContain(provider)
  })

  it('providers: a CID nobody provides gives no records', async () => {
    expect(await collect(s.client.getProviders(await cidOf('nobody')))).toEqual([])
  })

  it('peers: another node found by its CID, with its addresses', async () => {
    const target = n[3] as SwarmNode
    const found = await collect(s.client.getPeers(peerIdFromString(target.peerId).toCID()))
    expect(ids(found)).toEqual([target.peerId])
    expect(found[0]?.Addrs.map(a => a.toString())).toEqual(target.multiaddrs.map(a => a.replace(/\/p2p\/.*$/, '')))
    // a filter that takes every address away drops the record
    expect(await collect(s.client.getPeers(peerIdFromString(target.peerId).toCID(), { filterAddrs: ['webtransport'] }))).toEqual([])
  })

  it('peers: an unknown peer gives no records', async () => {
    const stranger = nameFromPublicKey(generateEd25519Signer(new Uint8Array(32).fill(3)).publicKey)
    expect(await collect(s.client.getPeers(stranger.toCID()))).toEqual([])
  }, 30_000)

  it('closest peers: the other nodes, closest first', async () => {
    const found = await collect(s.client.getClosestPeers(await cidOf('closest')))
    const others = n.slice(1).map(x => x.peerId)
    expect(found.length).toBeGreaterThanOrEqual(2)
    expect(found.length).toBeLessThanOrEqual(20)
    expect(ids(found).filter(id => others.includes(id)).length).toBeGreaterThanOrEqual(2)
  })

  it('ipns: a name published by another node comes back as that record', async () => {
    const publisher = n[1] as SwarmNode
    const value = `/ipfs/${(await cidOf('ipns-get')).toString()}`
    const published = await publisher.ask({ type: 'ipns.publish', value }, { timeoutMs: 20_000 })
    const bytes = await s.client.getIPNS(CID.parse(published.name, base36))
    expect(new Uint8Array(bytes)).toEqual(published.record)
  })

  it('ipns: a name nobody published is NotFound', async () => {
    const nobody = nameFromPublicKey(generateEd25519Signer(new Uint8Array(32).fill(4)).publicKey)
    await expect(s.client.getIPNS(nobody.toCID())).rejects.toMatchObject({ name: 'NotFoundError' })
  }, 30_000)

  it('ipns: PUT a record signed elsewhere, then GET it, and other nodes resolve it', async () => {
    const signer = generateEd25519Signer(new Uint8Array(32).fill(5))
    const name = nameFromPublicKey(signer.publicKey)
    const value = `/ipfs/${(await cidOf('ipns-put')).toString()}`
    const created = await createRecord(signer, value, { now: Date.now(), sequence: 7 })
    await s.client.putIPNS(name.toCID(), created.bytes)
    expect(new Uint8Array(await s.client.getIPNS(name.toCID()))).toEqual(created.bytes)
    // it went to the DHT: a node that never saw it resolves it from there
    const got = await (n[3] as SwarmNode).ask({ type: 'ipns.resolve', name: name.toString(), nocache: true }, { timeoutMs: 20_000 })
    expect(got).toMatchObject({ value, sequence: 7n, source: 'dht' })

    // a higher one replaces it, and the server's own answer cache does not hide it
    const newer = await createRecord(signer, `${value}/v2`, { now: Date.now(), sequence: 8 })
    await s.client.putIPNS(name.toCID(), newer.bytes)
    expect(new Uint8Array(await s.client.getIPNS(name.toCID()))).toEqual(newer.bytes)
    // a lower one is refused (the client sees a status other than 200)
    await expect(s.client.putIPNS(name.toCID(), created.bytes)).rejects.toMatchObject({ name: 'BadResponseError' })
  })

  it('ipns: PUT of a record for another name, or of garbage, is refused', async () => {
    const signer = generateEd25519Signer(new Uint8Array(32).fill(6))
    const other = nameFromPublicKey(generateEd25519Signer(new Uint8Array(32).fill(8)).publicKey)
    const created = await createRecord(signer, '/ipfs/bafkqaaa', { now: Date.now() })
    await expect(s.client.putIPNS(other.toCID(), created.bytes)).rejects.toMatchObject({ name: 'BadResponseError' })
    await expect(s.client.putIPNS(other.toCID(), new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ name: 'BadResponseError' })
  })
})
