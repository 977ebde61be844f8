/**
 * The routers actor against real Delegated Routing V1 servers on 127.0.0.1
 * (test/helpers/routing-v1-server.ts) through the official Helia client
 * (heliaRouterPort), on a real clock, with the verifier actor checking every
 * record: get/put IPNS, providers, peers, a slow endpoint timing out while a
 * second one answers, invalid records refused and counted, 5xx retried and
 * then the breaker opening, de-duplication across endpoints, and an ask's
 * deadline and abort reaching the HTTP request.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { RealClock } from '../../../src/platform/real-clock.js'
import { verifierActor } from '../../../src/actors/verifier/verifier-actor.js'
import { createInlineVerifier } from '../../../src/workers/verify-pool.js'
import { routersActor } from '../../../src/actors/routers/routers-actor.js'
import { heliaRouterPort } from '../../../src/actors/routers/http/helia-router-port.js'
import { createRecord } from '../../../src/records/create.js'
import { startRoutingV1Server } from '../../helpers/routing-v1-server.js'
import type { RoutersSettings } from '../../../src/actors/routers/routers-actor.js'
import type { PeerJson, RoutingV1Server } from '../../helpers/routing-v1-server.js'
import type { RouterPeer } from '../../../src/messages/routers.js'

const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function server (init: Parameters<typeof startRoutingV1Server>[0] = {}): Promise<RoutingV1Server> {
  const s = await startRoutingV1Server(init)
  cleanups.push(async () => { await s.close() })
  return s
}

function system (servers: Array<RoutingV1Server | string>, settings: RoutersSettings = {}): ActorSystem {
  const s = new ActorSystem({ clock: new RealClock(), yieldToHost: fn => { setImmediate(fn) } })
  s.spawn(verifierActor({ verifier: createInlineVerifier() }))
  s.spawn(routersActor({ ...settings, ports: servers.map(x => heliaRouterPort({ url: typeof x === 'string' ? x : x.url })) }))
  cleanups.push(async () => { await s.stop() })
  return s
}

async function signed (sequence: number, value = '/ipfs/bafkqaaa'): Promise<{ name: string, bytes: Uint8Array }> {
  const key = await generateKeyPair('Ed25519')
  const r = await createRecord(key, value, { now: Date.now(), sequence })
  return { name: r.name.format('base36'), bytes: r.bytes }
}

async function collect<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

async function peerJson (addr: string): Promise<PeerJson> {
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  return { Schema: 'peer', ID: id, Addrs: [addr], Protocols: ['transport-bitswap'] }
}

describe('routers actor over HTTP (Helia client, local Routing V1 servers)', () => {
  it('gets and puts IPNS records, verified for the name', async () => {
    const a = await signed(3)
    const srv = await server({ records: new Map([[a.name, a.bytes]]) })
    const sys = system([srv])
    const got = await sys.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })
    expect(got).toMatchObject({ name: a.name, endpoint: srv.url, sequence: 3n, value: '/ipfs/bafkqaaa' })
    expect(got.record).toEqual(a.bytes)

    const b = await signed(7, '/ipfs/bafkqaaa')
    const put = await sys.ask({ type: 'routers.putIpns', name: b.name, record: b.bytes }, { timeoutMs: 5_000 })
    expect(put).toMatchObject({ name: b.name, accepted: 1, outcomes: [{ endpoint: srv.url, ok: true, attempts: 1 }] })
    expect(srv.records.get(b.name)).toEqual(b.bytes)
    expect((await sys.ask({ type: 'routers.getIpns', name: `/ipns/${b.name}` }, { timeoutMs: 5_000 })).sequence).toBe(7n)

    await expect(sys.ask({ type: 'routers.getIpns', name: (await signed(1)).name }, { timeoutMs: 5_000 })).rejects.toMatchObject({ name: 'NotFoundError' })
    const st = await sys.ask({ type: 'routers.status' })
    expect(st.endpoints[0]).toMatchObject({ endpoint: srv.url, breaker: 'closed', requests: 4, ok: 3, notFound: 1, errors: 0, inFlight: 0 })
  })

  it('a PUT the endpoint refuses (a record for another name) fails with each outcome named', async () => {
    const srv = await server()
    const sys = system([srv])
    const a = await signed(1)
    const other = await signed(1)
    await expect(sys.ask({ type: 'routers.putIpns', name: other.name, record: a.bytes }, { timeoutMs: 5_000 })).rejects.toMatchObject({ name: 'FailedError', message: expect.stringContaining(srv.url) })
    // refused (400), not retried
    expect(srv.requests.filter(r => r.method === 'PUT')).toHaveLength(1)
  })

  it('streams providers and peers, de-duplicated across endpoints', async () => {
    const p1 = await peerJson('/ip4/127.0.0.1/tcp/4001')
    const p2 = await peerJson('/ip4/127.0.0.1/tcp/4002')
    const p3 = await peerJson('/ip4/127.0.0.1/tcp/4003')
    const s1 = await server({ providers: new Map([[CID_A, [p1, p2]]]), peers: new Map([[p1.ID, [p1]]]) })
    const s2 = await server({ providers: new Map([[CID_A, [p2, p3]]]), peers: new Map([[p1.ID, [p1]]]) })
    const sys = system([s1, s2])
    const provs = await collect(sys.stream({ type: 'routers.findProviders', cid: CID_A }, { timeoutMs: 5_000 }))
    expect(provs.map(p => p.peerId).sort()).toEqual([p1.ID, p2.ID, p3.ID].sort())
    const p2Item = provs.find(p => p.peerId === p2.ID) as RouterPeer
    expect(p2Item.multiaddrs).toEqual(['/ip4/127.0.0.1/tcp/4002'])
    expect(p2Item.protocols).toEqual(['transport-bitswap'])
    expect([s1.url, s2.url]).toContain(p2Item.endpoint)

    const found = await collect(sys.stream({ type: 'routers.findPeers', peerId: p1.ID }, { timeoutMs: 5_000 }))
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ peerId: p1.ID, multiaddrs: ['/ip4/127.0.0.1/tcp/4001'] })
    // the limit ends the stream early
    expect(await collect(sys.stream({ type: 'routers.findProviders', cid: CID_A, limit: 2 }, { timeoutMs: 5_000 }))).toHaveLength(2)
  })

  it('a stream that trickles past the per-endpoint timeout keeps what it gave, while the other endpoint completes', async () => {
    const list = await Promise.all([4101, 4102, 4103, 4104].map(async port => await peerJson(`/ip4/127.0.0.1/tcp/${port}`)))
    const slow = await server({ providers: new Map([[CID_A, list]]), behaviour: { trickleMs: 250 } })
    const fast = await server({ providers: new Map([[CID_A, [list[3] as PeerJson]]]) })
    const sys = system([slow, fast], { timeoutMs: 600, retries: 2 })
    const t0 = Date.now()
    const got = await collect(sys.stream({ type: 'routers.findProviders', cid: CID_A }, { timeoutMs: 5_000 }))
    expect(Date.now() - t0).toBeLessThan(1_500)
    // the slow one gave its first two before its timeout; the fast one the fourth; nothing twice
    expect(got.map(p => p.peerId).sort()).toEqual([list[0], list[1], list[3]].map(p => p?.ID).sort())
    const st = (await sys.ask({ type: 'routers.status' })).endpoints
    // a stream that gave records is not asked again
    expect(st[0]).toMatchObject({ requests: 1, timeouts: 1, retries: 0 })
    expect(st[1]).toMatchObject({ requests: 1, ok: 1 })
    // the abandoned body is cancelled once its pending read finishes
    await waitFor(() => slow.requests[0]?.abandoned === true)
  })

  it('answers from the fast endpoint while the slow one times out (and is aborted on the wire)', async () => {
    const a = await signed(2)
    const slow = await server({ records: new Map([[a.name, a.bytes]]), behaviour: { delayMs: 3_000 } })
    const fast = await server({ records: new Map([[a.name, a.bytes]]), behaviour: { delayMs: 100 } })
    const sys = system([slow, fast], { timeoutMs: 400, retries: 0 })
    const t0 = Date.now()
    const got = await sys.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })
    expect(got.endpoint).toBe(fast.url)
    expect(Date.now() - t0).toBeLessThan(1_500)
    // the other leg is stopped once an answer is there: the slow request is abandoned
    await waitFor(() => slow.requests[0]?.abandoned === true)

    // alone, the slow endpoint times out by the per-endpoint timeout, well before the ask's deadline
    const only = system([slow], { timeoutMs: 300, retries: 1, backoffMs: 50 })
    const t1 = Date.now()
    await expect(only.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 10_000 })).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(Date.now() - t1).toBeLessThan(2_000)
    const st = (await only.ask({ type: 'routers.status' })).endpoints[0]
    expect(st).toMatchObject({ requests: 2, retries: 1, timeouts: 2, errors: 2 })
    await waitFor(() => slow.requests.length === 3 && slow.requests.every(r => r.abandoned))
  })

  it('refuses and counts invalid records: another name\'s, garbage, while a good endpoint answers', async () => {
    const a = await signed(5)
    const other = await signed(9)
    const liar = await server({ behaviour: { invalidRecord: other.bytes } })
    const junk = await server({ behaviour: { invalidRecord: new Uint8Array([1, 2, 3, 4]) } })
    const sys = system([liar, junk])
    await expect(sys.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })).rejects.toMatchObject({ name: 'NotFoundError', message: expect.stringContaining('no router has a valid record') })
    const st = await sys.ask({ type: 'routers.status' })
    expect(st.endpoints.map(e => e.invalidRecords)).toEqual([1, 1])

    const good = await server({ records: new Map([[a.name, a.bytes]]), behaviour: { delayMs: 150 } })
    const both = system([liar, good])
    const got = await both.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })
    expect(got).toMatchObject({ endpoint: good.url, sequence: 5n })
    expect((await both.ask({ type: 'routers.status' })).endpoints[0]?.invalidRecords).toBe(1)
  })

  it('retries 5xx with backoff, then opens the breaker, and closes it after the cool-down', async () => {
    const a = await signed(1)
    const flaky = await server({ records: new Map([[a.name, a.bytes]]), behaviour: { failFirst: 2 } })
    const sys = system([flaky], { retries: 2, backoffMs: 20 })
    const got = await sys.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })
    expect(got.sequence).toBe(1n)
    expect((await sys.ask({ type: 'routers.status' })).endpoints[0]).toMatchObject({ requests: 3, retries: 2, errors: 2, ok: 1, breaker: 'closed' })

    const down = await server({ behaviour: { status: 503 } })
    const sys2 = system([down], { retries: 1, backoffMs: 10, breakerThreshold: 3, breakerCooldownMs: 400 })
    await expect(sys2.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })).rejects.toMatchObject({ name: 'FailedError' })
    await expect(sys2.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })).rejects.toMatchObject({ name: 'FailedError' })
    let st = (await sys2.ask({ type: 'routers.status' })).endpoints[0]
    // 2 + 1 requests opened it (3 in a row); the 4th request was not made
    expect(st).toMatchObject({ requests: 3, errors: 3, breaker: 'open', opens: 1, skipped: 1 })
    expect(down.requests).toHaveLength(3)
    await expect(sys2.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })).rejects.toMatchObject({ message: expect.stringContaining('circuit open') })
    expect(down.requests).toHaveLength(3)

    // after the cool-down one trial goes through; the endpoint has recovered: closed again
    down.behaviour = {}
    down.records.set(a.name, a.bytes)
    await new Promise(resolve => setTimeout(resolve, 450))
    expect((await sys2.ask({ type: 'routers.status' })).endpoints[0]?.breaker).toBe('half-open')
    expect((await sys2.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })).sequence).toBe(1n)
    st = (await sys2.ask({ type: 'routers.status' })).endpoints[0]
    expect(st).toMatchObject({ breaker: 'closed', consecutiveFailures: 0, ok: 1 })
  })

  it('a closed endpoint is a transient failure; the other endpoint answers', async () => {
    const a = await signed(4)
    const gone = await server()
    const url = gone.url
    await gone.close()
    const good = await server({ records: new Map([[a.name, a.bytes]]) })
    const sys = system([url, good], { backoffMs: 10 })
    expect((await sys.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })).endpoint).toBe(good.url)
    const alone = system([url], { retries: 1, backoffMs: 10 })
    await expect(alone.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 5_000 })).rejects.toMatchObject({ name: 'FailedError' })
    expect((await alone.ask({ type: 'routers.status' })).endpoints[0]).toMatchObject({ requests: 2, retries: 1, errors: 2 })
  })

  it("the ask's deadline and the caller's abort reach the HTTP request", async () => {
    const a = await signed(1)
    const slow = await server({ records: new Map([[a.name, a.bytes]]), behaviour: { delayMs: 5_000 } })
    const sys = system([slow], { timeoutMs: 10_000 })
    await expect(sys.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'TimeoutError' })
    await waitFor(() => slow.requests[0]?.abandoned === true)

    const ctl = new AbortController()
    const p = sys.ask({ type: 'routers.getIpns', name: a.name }, { timeoutMs: 10_000, signal: ctl.signal })
    await waitFor(() => slow.requests.length === 2)
    ctl.abort()
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
    await waitFor(() => slow.requests[1]?.abandoned === true)
    // an abort by the asker does not count against the endpoint
    expect((await sys.ask({ type: 'routers.status' })).endpoints[0]).toMatchObject({ errors: 0, inFlight: 0, breaker: 'closed' })
  })

  it('rejects malformed commands before they are queued', async () => {
    const sys = system([await server()])
    await expect(sys.ask({ type: 'routers.getIpns', name: 'not a name' })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'name' })
    await expect(sys.ask({ type: 'routers.putIpns', name: (await signed(1)).name, record: new Uint8Array(20_000) })).rejects.toMatchObject({ field: 'record' })
    await expect(collect(sys.stream({ type: 'routers.findProviders', cid: 'nope' }))).rejects.toMatchObject({ field: 'cid' })
    await expect(collect(sys.stream({ type: 'routers.findPeers', peerId: 'nope' }))).rejects.toMatchObject({ field: 'peerId' })
  })
})

async function waitFor (check: () => boolean, ms = 3_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
