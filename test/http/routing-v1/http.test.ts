/**
 * The Routing V1 server on the wire, with plain fetch: status codes, content
 * types, boxo's cache headers, CORS, content negotiation and bad input
 * (400 / 406 / 413), NDJSON line by line, and the IPNS headers computed from
 * a record's TTL and validity. Same 4-node loopback testnet as the client test.
 */
import { createHash } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRecord } from '../../../src/records/create.js'
import { generateEd25519Signer } from '../../../src/records/ed25519.js'
import { nameFromPublicKey } from '../../../src/records/name.js'
import { ipnsCacheHeaders } from '../../../src/http/routing-v1/ipns.js'
import { CACHE_NO_RESULTS, CACHE_RESULTS } from '../../../src/http/routing-v1/respond.js'
import { startRoutingServer } from './support.js'
import type { RoutingServer } from './support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'

const SEED = 72_000
const IPNS = 'application/vnd.ipfs.ipns-record'

async function cidOf (label: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`routing-v1-http/${label}`)))
}

describe('Routing V1 server over plain HTTP', () => {
  let s: RoutingServer
  let n: SwarmNode[]
  let provided: CID
  const get = async (path: string, headers: Record<string, string> = {}): Promise<Response> => await fetch(new URL(path, s.url), { headers })

  beforeAll(async () => {
    s = await startRoutingServer(SEED)
    n = s.net.nodes
    provided = await cidOf('provided')
    await (n[1] as SwarmNode).ask({ type: 'dht.provide', cid: provided.toString() }, { timeoutMs: 20_000 })
  }, 60_000)

  afterAll(async () => { await s?.stop() }, 30_000)

  it('providers as JSON (no Accept, */*, application/json): Providers, cache headers for results, Vary', async () => {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const res = await get(`routing/v1/providers/${provided.toString()}`, accept === undefined ? {} : { accept })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      expect(res.headers.get('cache-control')).toBe(CACHE_RESULTS)
      expect(res.headers.get('vary')).toBe('Accept')
      expect(Math.abs(Date.parse(res.headers.get('last-modified') ?? '') - Date.now())).toBeLessThan(60_000)
      const body = await res.json() as { Providers: Array<{ Schema: string, ID: string, Addrs: string[] }> }
      expect(body.Providers.find(p => p.ID === (n[1] as SwarmNode).peerId)).toMatchObject({ Schema: 'peer' })
    }
  })

  it('providers as NDJSON: one record per line; none found is 200, empty, max-age=15', async () => {
    const res = await get(`routing/v1/providers/${provided.toString()}`, { accept: 'application/x-ndjson' })
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const lines = (await res.text()).split('\n').filter(l => l.length > 0).map(l => JSON.parse(l) as { ID: string })
    expect(lines.map(l => l.ID)).toContain((n[1] as SwarmNode).peerId)

    const none = await get(`routing/v1/providers/${(await cidOf('nobody')).toString()}`, { accept: 'application/x-ndjson' })
    expect(none.status).toBe(200)
    expect(none.headers.get('cache-control')).toBe(CACHE_NO_RESULTS)
    expect(await none.text()).toBe('')
    const json = await get(`routing/v1/providers/${(await cidOf('nobody')).toString()}`)
    expect(await json.json()).toEqual({ Providers: [] })
    expect(json.headers.get('cache-control')).toBe(CACHE_NO_RESULTS)
  }, 30_000)

  it('providers: a CIDv0 and a base32 CIDv1 of the same content both work; a bad CID is 400 text', async () => {
    const v0 = CID.createV0(await sha256.digest(new TextEncoder().encode('v0')))
    expect((await get(`routing/v1/providers/${v0.toString()}`)).status).toBe(200)
    const bad = await get('routing/v1/providers/not-a-cid')
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(await bad.text()).toMatch(/unable to parse CID/)
  })

  it('an Accept the server cannot answer is 400; an over-long filter is 400', async () => {
    expect((await get(`routing/v1/providers/${provided.toString()}`, { accept: 'text/html' })).status).toBe(400)
    expect((await get(`routing/v1/providers/${provided.toString()}?filter-protocols=${'x'.repeat(64)}`)).status).toBe(400)
  })

  it('peers: base58 and base32 CID forms; a non-libp2p-key CID is 400; filters in the query', async () => {
    const target = n[2] as SwarmNode
    const asCid = peerIdFromString(target.peerId).toCID().toString(base32)
    for (const form of [target.peerId, asCid]) {
      const res = await get(`routing/v1/peers/${form}`)
      expect(res.status).toBe(200)
      const body = await res.json() as { Peers: Array<{ ID: string, Addrs: string[] }> }
      expect(body.Peers.map(p => p.ID)).toEqual([target.peerId])
    }
    const filtered = await get(`routing/v1/peers/${asCid}?filter-addrs=!tcp`)
    expect(await filtered.json()).toEqual({ Peers: [] })
    expect(filtered.headers.get('cache-control')).toBe(CACHE_NO_RESULTS)
    expect((await get(`routing/v1/peers/${provided.toString()}`)).status).toBe(400)
  })

  it('closest peers: JSON, at most 20, sorted; a peer id key works too', async () => {
    const closestKey = await cidOf('closest')
    const res = await get(`routing/v1/dht/closest/peers/${closestKey.toString()}`)
    expect(res.status).toBe(200)
    const body = await res.json() as { Peers: Array<{ ID: string, Addrs: string[] }> }
    expect(body.Peers.length).toBeGreaterThanOrEqual(2)
    expect(body.Peers.length).toBeLessThanOrEqual(20)
    // closest first: XOR of sha256(key) and sha256(peer id multihash), as Kademlia measures
    const target = createHash('sha256').update(closestKey.multihash.bytes).digest()
    const dist = (id: string): Buffer => {
      const h = createHash('sha256').update(base58btc.baseDecode(id)).digest()
      return Buffer.from(h.map((b, i) => b ^ (target[i] as number)))
    }
    const ds = body.Peers.map(p => dist(p.ID))
    for (let i = 1; i < ds.length; i++) expect(Buffer.compare(ds[i - 1] as Buffer, ds[i] as Buffer)).toBeLessThan(0)
    // each with the addresses the node knows for it
    for (const p of body.Peers) expect(p.Addrs.length, p.ID).toBeGreaterThan(0)
    const byId = await get(`routing/v1/dht/closest/peers/${(n[3] as SwarmNode).peerId}`, { accept: 'application/x-ndjson' })
    expect(byId.status).toBe(200)
    expect(byId.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
  })

  it('CORS: every answer allows any origin; OPTIONS preflight is 204 with GET, PUT, OPTIONS', async () => {
    const res = await get(`routing/v1/providers/${provided.toString()}`, { origin: 'https://example.test' })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const pre = await fetch(new URL('routing/v1/ipns/anything', s.url), {
      method: 'OPTIONS',
      headers: { origin: 'https://example.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' }
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, PUT, OPTIONS')
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type')
  })

  it('CORS: the IPNS routes\' answers carry it too, errors and not-found included', async () => {
    const expose = 'Cache-Control, Content-Type, Etag, Expires, Last-Modified, Vary'
    const answers = [
      await get('routing/v1/ipns/nonsense', { accept: 'application/vnd.ipfs.ipns-record' }), // 400
      await get('routing/v1/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8', { accept: 'application/json' }), // 406
      await fetch(new URL('routing/v1/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8', s.url), { method: 'HEAD', headers: { accept: 'application/json' } }),
      await fetch(new URL('routing/v1/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8', s.url), { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' }), // 406
      await get('routing/v1/providers/nonsense') // 400
    ]
    expect(answers.map(r => r.status)).toEqual([400, 406, 406, 406, 400])
    for (const r of answers) {
      expect(r.headers.get('access-control-allow-origin'), `${r.url} ${r.status}`).toBe('*')
      expect(r.headers.get('access-control-expose-headers'), `${r.url} ${r.status}`).toBe(expose)
      await r.body?.cancel()
    }
  })

  it('ipns GET: the record with its content type, Etag, Expires, Cache-Control from TTL and validity', async () => {
    const publisher = n[1] as SwarmNode
    const published = await publisher.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa', ttlMs: 42_000 }, { timeoutMs: 20_000 })
    const name = CID.parse(published.name, base36)
    const res = await get(`routing/v1/ipns/${name.toString()}`, { accept: IPNS })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(IPNS)
    expect(res.headers.get('vary')).toBe('Accept')
    expect(res.headers.get('etag')).toMatch(/^".+"$/)
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${published.name}.ipns-record"`)
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=42, stale-while-revalidate=\d+, stale-if-error=\d+$/)
    const swr = Number(/stale-while-revalidate=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1])
    expect(Math.abs(swr - 48 * 3600)).toBeLessThan(60)
    expect(Math.abs(Date.parse(res.headers.get('expires') ?? '') - (Date.now() + 48 * 3600_000))).toBeLessThan(60_000)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(published.record)
    // the base32 form of the same name works too; the same bytes, the same Etag
    const again = await get(`routing/v1/ipns/${name.toString(base32)}`, { accept: IPNS })
    expect(again.headers.get('etag')).toBe(res.headers.get('etag'))
  })

  it('ipns GET: no Accept is 406; a base58 peer id or a non-key CID is 400; not found is 200 text/plain', async () => {
    const nobody = nameFromPublicKey(generateEd25519Signer(new Uint8Array(32).fill(9)).publicKey)
    expect((await get(`routing/v1/ipns/${nobody.toString()}`)).status).toBe(406)
    expect((await get(`routing/v1/ipns/${nobody.format('base58btc')}`, { accept: IPNS })).status).toBe(400)
    expect((await get(`routing/v1/ipns/${provided.toString()}`, { accept: IPNS })).status).toBe(400)
    const missing = await get(`routing/v1/ipns/${nobody.toString()}`, { accept: IPNS })
    expect(missing.status).toBe(200)
    expect(missing.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(await missing.text()).toMatch(/routing: not found/)
  }, 30_000)

  it('ipns PUT: 200 empty; wrong content type 406; over 10 KiB 413; wrong name, garbage and a lower sequence 400', async () => {
    const signer = generateEd25519Signer(new Uint8Array(32).fill(10))
    const name = nameFromPublicKey(signer.publicKey).toString()
    const put = async (body: Uint8Array, type = IPNS, to = name): Promise<Response> =>
      await fetch(new URL(`routing/v1/ipns/${to}`, s.url), { method: 'PUT', headers: { 'content-type': type }, body: Buffer.from(body) })
    const rec = await createRecord(signer, '/ipfs/bafkqaaa', { now: Date.now(), sequence: 3 })
    const ok = await put(rec.bytes)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe('*')
    expect(await ok.text()).toBe('')
    expect((await put(rec.bytes, 'application/octet-stream')).status).toBe(406)
    expect((await put(new Uint8Array(10 * 1024 + 1))).status).toBe(413)
    const other = nameFromPublicKey(generateEd25519Signer(new Uint8Array(32).fill(11)).publicKey).toString()
    const wrong = await put(rec.bytes, IPNS, other)
    expect(wrong.status).toBe(400)
    expect(await wrong.text()).toMatch(/provided record is invalid/)
    expect((await put(new Uint8Array([0xff, 0x00, 0x01]))).status).toBe(400)
    const lower = await put((await createRecord(signer, '/ipfs/bafkqaaa', { now: Date.now(), sequence: 2 })).bytes)
    expect(lower.status).toBe(400)
    expect(await lower.text()).toMatch(/sequence 2 is below the 3/)
    const expired = await put((await createRecord(signer, '/ipfs/bafkqaaa', { now: Date.now() - 3 * 3600_000, lifetimeMs: 3600_000, sequence: 9 })).bytes)
    expect(expired.status).toBe(400)
  })

  it('ipns cache headers: max-age capped at the remaining validity, no-store once expired', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(ipnsCacheHeaders({ ttl: 300_000_000_000n, validity: '2026-01-01T00:01:00Z' }, now)).toEqual({
      cacheControl: 'public, max-age=60, stale-while-revalidate=60, stale-if-error=60', expires: 'Thu, 01 Jan 2026 00:01:00 GMT'
    })
    expect(ipnsCacheHeaders({ ttl: 0n, validity: '2026-01-01T01:00:00Z' }, now).cacheControl).toBe('public, max-age=0, stale-while-revalidate=3600, stale-if-error=3600')
    expect(ipnsCacheHeaders({ ttl: 300_000_000_000n, validity: '2025-12-31T23:59:59Z' }, now)).toEqual({ cacheControl: 'no-store', expires: 'Wed, 31 Dec 2025 23:59:59 GMT' })
    expect(ipnsCacheHeaders({ ttl: 1n, validity: '' }, now)).toEqual({ cacheControl: 'no-store' })
  })

  it('an unknown Routing V1 path is 404 (as boxo\'s router answers)', async () => {
    expect((await get('routing/v1/nothing/here')).status).toBe(404)
  })
})
