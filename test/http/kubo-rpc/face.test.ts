/**
 * The kubo RPC face driven by the real kubo-rpc-client 7 against real nodes
 * (a 4-node TCP testnet on 127.0.0.1): every endpoint of the naming and
 * routing subset, its errors (unknown key, a name nobody published, a bad
 * CID, a bad multiaddr), the streams, and the transport rules (methods,
 * unknown commands and parameters, the error body, stream headers).
 */
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { nameFromPublicKey } from '../../../src/records/name.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { inspectRecord } from '../../../src/cli/record-inspect.js'
import { all, failure, post, startFace } from './support.js'
import type { Face } from './support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { Testnet } from '../../../src/node/create-testnet.js'

const SEED = 77_000
const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const CID_B = 'bafkreidon73zkcrwdb5iafqtijxildoonbwnpv7dyd6ef3qdgads2jc4su'

describe('kubo RPC face with kubo-rpc-client on a 4-node testnet', () => {
  let net: Testnet
  let n: SwarmNode[]
  let f0: Face
  let f1: Face
  const node = (i: number): SwarmNode => n[i] as SwarmNode

  beforeAll(async () => {
    net = await createTestnet({ nodes: 4, seed: SEED, settleTimeoutMs: 15_000 })
    n = net.nodes
    f0 = await startFace(node(0))
    f1 = await startFace(node(1))
  }, 40_000)

  afterAll(async () => {
    await f0?.close()
    await f1?.close()
    await net?.stop()
  }, 20_000)

  it('version and id', async () => {
    const v = await f0.client.version()
    expect(v.version).toBe('0.1.0')
    expect(v.system).toMatch(/\//)
    const id = await f0.client.id()
    expect(id.id.toString()).toBe(node(0).peerId)
    expect(id.addresses.map(a => a.toString())).toEqual(node(0).multiaddrs)
    expect(id.agentVersion).toBe('swarmbus/0.1.0')
    // the Ed25519 public key protobuf, as kubo gives it: 36 bytes, inlined in the peer id
    expect(Buffer.from(id.publicKey, 'base64').byteLength).toBe(36)
    const other = await f0.client.id({ peerId: node(2).peerId as never })
    expect(other.id.toString()).toBe(node(2).peerId)
    expect(other.addresses.length).toBeGreaterThan(0)
  })

  it('key gen, list, rename (also over an existing key with force), rm, and their errors', async () => {
    const k1 = await f0.client.key.gen('k1')
    expect(k1.name).toBe('k1')
    expect(k1.id).toMatch(/^k51/)
    const listed = await f0.client.key.list()
    expect(listed.map(k => k.name)).toEqual(['self', 'k1'])
    expect(listed[1]?.id).toBe(k1.id)
    const base58 = await post(f0, 'key/list', [['ipns-base', 'base58btc']])
    expect(((await base58.json()) as { Keys: Array<{ Id: string }> }).Keys[1]?.Id).toMatch(/^12D3/)
    expect(await (await post(f0, 'key/ls')).json()).toEqual({ Keys: listed.map(k => ({ Name: k.name, Id: k.id })) })

    const renamed = await f0.client.key.rename('k1', 'k2')
    expect(renamed).toEqual({ was: 'k1', now: 'k2', id: k1.id, overwrite: false })
    await f0.client.key.gen('k3')
    const forced = await post(f0, 'key/rename', [['arg', 'k3'], ['arg', 'k2'], ['force', 'true']])
    expect(await forced.json()).toMatchObject({ Was: 'k3', Now: 'k2', Overwrite: true })

    const removed = await f0.client.key.rm('k2')
    expect(removed.name).toBe('k2')
    expect((await f0.client.key.list()).map(k => k.name)).toEqual(['self'])

    const unknown = await failure(f0.client.key.rm('nope'))
    expect(unknown.message).toMatch(/no key named 'nope'/)
    expect(unknown.response?.status).toBe(500)
    const self = await failure(f0.client.key.gen('self'))
    expect(self.response?.status).toBe(400)
    const badType = await failure(f0.client.key.gen('x', { type: 'dsa' as never }))
    expect(badType.message).toMatch(/unrecognized key type/)
  })

  it('key import: a swarmbus export document and its passphrase (as kubo-rpc-client sends them: pem, password), and kubo\'s cleartext protobuf', async () => {
    const made = await node(2).ask({ type: 'key.generate', name: 'travel' })
    const { data } = await node(2).ask({ type: 'key.export', name: 'travel', passphrase: 'export pass' })
    const imported = await f0.client.key.import('arrived', data, 'export pass')
    expect(imported).toEqual({ name: 'arrived', id: made.ipnsName })
    const wrong = await failure(f0.client.key.import('again', data, 'wrong'))
    expect(wrong.response?.status).toBe(400)
    // multipart, as kubo takes it; a cleartext key is refused with 400
    const form = new FormData()
    form.append('file', new Blob([data]), 'key')
    const multi = await post(f0, 'key/import', [['arg', 'again'], ['password', 'export pass']], { body: form })
    expect(await multi.json()).toEqual({ Name: 'again', Id: made.ipnsName })
    // kubo's default format: the cleartext libp2p protobuf, sealed before it reaches the bus
    const key = await generateKeyPair('Ed25519')
    const clear = async (query: Array<[string, string]>, bytes: Uint8Array): Promise<Response> => {
      const form = new FormData()
      form.append('file', new Blob([bytes]), 'key')
      return await post(f0, 'key/import', query, { body: form })
    }
    const expected = nameFromPublicKey(key.publicKey).format('base36')
    const explicit = await clear([['arg', 'clear'], ['format', 'libp2p-protobuf-cleartext']], privateKeyToProtobuf(key))
    expect(await explicit.json()).toEqual({ Name: 'clear', Id: expected })
    const secp = await generateKeyPair('secp256k1')
    const byDefault = await clear([['arg', 'clear2']], privateKeyToProtobuf(secp))
    expect(await byDefault.json()).toEqual({ Name: 'clear2', Id: nameFromPublicKey(secp.publicKey).format('base36') })
    const listed = await f0.client.key.list()
    expect(listed.find(k => k.name === 'clear')?.id).toBe(expected)
    // junk, and a format swarmbus does not read: 400
    const junk = await clear([['arg', 'junk'], ['format', 'libp2p-protobuf-cleartext']], new Uint8Array([8, 1, 18, 64]))
    expect(junk.status).toBe(400)
    expect(await junk.json()).toMatchObject({ Code: 1, Type: 'error' })
    expect((await clear([['arg', 'pem'], ['format', 'pem-pkcs8-cleartext']], new TextEncoder().encode('-----BEGIN PRIVATE KEY-----'))).status).toBe(400)
  })

  it('name publish on one node, resolve through another (the client\'s stream), with options and sub-paths', async () => {
    const pub = await f0.client.name.publish(`/ipfs/${CID_A}`)
    const self = (await node(0).ask({ type: 'key.list' })).keys[0]?.ipnsName
    expect(pub).toEqual({ name: self, value: `/ipfs/${CID_A}` })
    const paths = await all(f1.client.name.resolve(pub.name, { nocache: true }))
    expect(paths).toEqual([`/ipfs/${CID_A}`])
    // a bare CID is normalised to /ipfs/<cid>; lifetime, ttl and key are passed on
    await f0.client.key.gen('site')
    const site = await f0.client.name.publish(CID_B, { key: 'site', lifetime: '2h', ttl: '1m' })
    expect(site.value).toBe(`/ipfs/${CID_B}`)
    // options the client's types do not list, which it sends all the same (kebab-cased)
    const extraOptions = { nocache: true, dhtRecordCount: 2, dhtTimeout: '10s' }
    const sub = await all(f1.client.name.resolve(`/ipns/${site.name}/docs/a.txt`, extraOptions))
    expect(sub).toEqual([`/ipfs/${CID_B}/docs/a.txt`])
    // without stream: one JSON document
    const plain = await post(f1, 'name/resolve', [['arg', site.name], ['r', 'false']])
    expect(plain.headers.get('x-chunked-output')).toBeNull()
    expect(await plain.json()).toEqual({ Path: `/ipfs/${CID_B}` })
    // ipns-base on publish
    const b58 = await post(f0, 'name/publish', [['arg', `/ipfs/${CID_A}`], ['key', 'site'], ['ipns-base', 'base58btc']])
    expect(((await b58.json()) as { Name: string }).Name).toMatch(/^12D3/)
  })

  it('name resolve of a name nobody published, and a bad name', async () => {
    const fresh = await node(3).ask({ type: 'key.generate', name: 'unpublished' })
    const shortDht = { nocache: true, dhtTimeout: '5s' }
    const err = await failure(all(f1.client.name.resolve(fresh.ipnsName, shortDht)))
    expect(err.message).toMatch(/no valid record found/)
    expect(err.response?.status).toBe(500)
    const bad = await failure(all(f1.client.name.resolve('not-a-name!')))
    expect(bad.response?.status).toBe(400)
  })

  it('name inspect (multipart record) with and without verify', async () => {
    const pub = await node(0).ask({ type: 'ipns.publish', value: `/ipfs/${CID_A}/x`, ttlMs: 60_000 }, { timeoutMs: 20_000 })
    const send = async (query: Array<[string, string]>): Promise<Response> => {
      const form = new FormData()
      form.append('file', new Blob([pub.record]), 'record')
      return await post(f1, 'name/inspect', query, { body: form })
    }
    const res = await send([])
    const body = await res.json() as Record<string, unknown> & { Entry: Record<string, unknown>, HexDump: string }
    expect(body.Entry).toEqual({ Value: `/ipfs/${CID_A}/x`, ValidityType: 0, Validity: expect.stringMatching(/^\d{4}-/), Sequence: Number(pub.sequence), TTL: 60_000_000_000 })
    expect(body.PbSize).toBe(pub.record.byteLength)
    expect(body.SignatureType).toBe('V1+V2')
    expect(body.HexDump.split('\n')[0]).toMatch(/^00000000 {2}([0-9a-f]{2} ){8} ([0-9a-f]{2} ){8} \|.{16}\|$/)
    expect(body.Validation).toBeNull()
    const ok = await (await send([['verify', node(0).peerId]])).json() as { Validation: unknown }
    expect(ok.Validation).toEqual({ Valid: true, Reason: '', Name: pub.name })
    const other = (await node(1).ask({ type: 'key.list' })).keys[0]?.ipnsName as string
    const no = await (await send([['verify', other]])).json() as { Validation: { Valid: boolean, Reason: string } }
    expect(no.Validation.Valid).toBe(false)
    expect(no.Validation.Reason).not.toBe('')
    // no file, or a file that is not a record: 400
    expect((await post(f1, 'name/inspect')).status).toBe(400)
    const junk = new FormData()
    junk.append('file', new Blob([new Uint8Array([0xff, 0xff, 0xff])]), 'record')
    expect((await post(f1, 'name/inspect', [], { body: junk })).status).toBe(400)
    // over the 10 KiB record bound: 400
    const big = new FormData()
    big.append('file', new Blob([new Uint8Array(11 * 1024)]), 'record')
    const tooBig = await post(f1, 'name/inspect', [], { body: big })
    expect(tooBig.status).toBe(400)
    expect(((await tooBig.json()) as { Message: string }).Message).toMatch(/larger than 10240 bytes/)
  })

  it('routing get and put of an IPNS record; not found; a key outside the validated namespaces', async () => {
    const pub = await node(0).ask({ type: 'ipns.publish', value: `/ipfs/${CID_B}` }, { timeoutMs: 20_000 })
    const events = await all(f1.client.routing.get(`/ipns/${pub.name}`))
    expect(events).toHaveLength(1)
    const ev = events[0] as { name: string, value: Uint8Array }
    expect(ev.name).toBe('VALUE')
    expect(inspectRecord(ev.value, Date.now()).value).toBe(`/ipfs/${CID_B}`)

    const put = await all(f1.client.routing.put(`/ipns/${pub.name}`, ev.value))
    expect(put.map(e => e.name)).toEqual(['VALUE'])

    const fresh = await node(3).ask({ type: 'key.generate', name: 'nothing-here' })
    const missing = await failure(all(f1.client.routing.get(`/ipns/${fresh.ipnsName}`)))
    expect(missing.message).toMatch(/not found/)
    const outside = await failure(all(f1.client.routing.get('/elsewhere/x')))
    expect(outside.response?.status).toBe(400)
    const badName = await failure(all(f1.client.routing.get('/ipns/nope')))
    expect(badName.response?.status).toBe(400)
  })

  it('routing provide, then findprovs streams the provider (NDJSON); a bad CID is 400', async () => {
    const provided = await all(f0.client.routing.provide(CID.parse(CID_A)))
    expect(provided).toHaveLength(1)
    expect(provided[0]?.name).toBe('FINAL_PEER')
    const events = await all(f1.client.routing.findProvs(CID.parse(CID_A), { numProviders: 5 }))
    const providers = events.flatMap(e => e.name === 'PROVIDER' ? e.providers : [])
    expect(providers.map(p => p.id.toString())).toContain(node(0).peerId)
    expect(providers.find(p => p.id.toString() === node(0).peerId)?.multiaddrs.length).toBeGreaterThan(0)

    const raw = await post(f1, 'routing/findprovs', [['arg', CID_A]])
    expect(raw.headers.get('x-chunked-output')).toBe('1')
    expect(raw.headers.get('trailer')).toMatch(/X-Stream-Error/i)
    const lines = (await raw.text()).trim().split('\n').map(l => JSON.parse(l) as { Type: number, Responses: unknown[] })
    expect(lines.every(l => l.Type === 4 && Array.isArray(l.Responses))).toBe(true)

    const bad = await failure(all(f1.client.routing.findProvs('not-a-cid' as never)))
    expect(bad.response?.status).toBe(400)
    const badBody = await post(f1, 'routing/findprovs', [['arg', 'not-a-cid']])
    expect(await badBody.json()).toEqual({ Message: expect.stringMatching(/cid/i), Code: 1, Type: 'error' })
  })

  it('routing findpeer (base58 and CID forms), dht query, and errors', async () => {
    const events = await all(f0.client.routing.findPeer(node(3).peerId as never))
    const final = events.find(e => e.name === 'FINAL_PEER')
    if (final?.name !== 'FINAL_PEER') throw new Error('no FINAL_PEER')
    expect(final.peer.id.toString()).toBe(node(3).peerId)
    expect(final.peer.multiaddrs.length).toBeGreaterThan(0)
    const asCid = (await node(3).ask({ type: 'key.list' })).keys[0]?.ipnsName as string
    const viaCid = await (await post(f0, 'routing/findpeer', [['arg', asCid]])).text()
    expect(JSON.parse(viaCid.trim())).toMatchObject({ Type: 2, Responses: [{ ID: node(3).peerId }] })
    const bad = await failure(all(f0.client.routing.findPeer('xyz' as never)))
    expect(bad.response?.status).toBe(400)

    const query = await all(f0.client.dht.query(node(2).peerId as never))
    const ids = query.flatMap(e => e.name === 'FINAL_PEER' ? [String(e.peer.id)] : [])
    expect(ids.length).toBeGreaterThan(0)
    const known = new Set(n.map(x => x.peerId))
    expect(ids.every(id => known.has(id))).toBe(true)
  })

  it('swarm peers and connect; a multiaddr without /p2p/ is 400', async () => {
    const peers = await f0.client.swarm.peers()
    const ids = peers.map(p => p.peer.toString())
    for (const i of [1, 2, 3]) expect(ids).toContain(node(i).peerId)
    expect(peers[0]?.addr.toString()).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\//)
    const verbose = await (await post(f0, 'swarm/peers', [['verbose', 'true']])).json() as { Peers: Array<{ Direction: number }> }
    expect(verbose.Peers.every(p => p.Direction === 1 || p.Direction === 2)).toBe(true)
    const connect = await f0.client.swarm.connect(node(3).multiaddrs[0] as never)
    expect(connect).toEqual([`connect ${node(3).peerId} success`])
    const bad = await failure(f0.client.swarm.connect('/ip4/127.0.0.1/tcp/1' as never))
    expect(bad.response?.status).toBe(400)
  })

  it('transport: POST only, OPTIONS 204, unknown command 404, unknown parameters ignored, timeout as a deadline', async () => {
    const get = await fetch(`${f0.url}/api/v0/version`)
    expect(get.status).toBe(405)
    const options = await fetch(`${f0.url}/api/v0/version`, { method: 'OPTIONS' })
    expect(options.status).toBe(204)
    expect(options.headers.get('allow')).toBe('OPTIONS, POST')
    expect((await post(f0, 'key/export', [['arg', 'self']])).status).toBe(404)
    expect((await post(f0, 'no/such')).status).toBe(404)
    const extra = await post(f0, 'key/list', [['headers', '[object Object]'], ['whatever', '1']])
    expect(extra.status).toBe(200)
    expect(extra.headers.get('content-type')).toMatch(/^application\/json/)
    expect(extra.headers.get('access-control-expose-headers')).toContain('X-Chunked-Output')
    expect((await post(f0, 'key/list', [['timeout', 'soon']])).status).toBe(400)
    // a deadline too short for a DHT lookup: kubo's words, which the client turns into its TimeoutError
    const fresh = await node(3).ask({ type: 'key.generate', name: 'late' })
    const slow = await post(f1, 'name/resolve', [['arg', fresh.ipnsName], ['nocache', 'true'], ['timeout', '1ms']])
    expect(slow.status).toBe(500)
    expect(((await slow.json()) as { Message: string }).Message).toMatch(/context deadline exceeded/)
    const viaClient = await failure(all(f1.client.name.resolve(fresh.ipnsName, { nocache: true, searchParams: { timeout: '1ms' } } as never)))
    expect(viaClient.name).toBe('TimeoutError')
  })
})
