/**
 * The demo's DHT steps: put/get of a /swarmbus/… record between two nodes,
 * provide and findProviders, findPeer, and closestPeers checked against the
 * true closest peers of the testnet (computed from every node's id).
 */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { shortId } from './format.js'
import { check, kadId, plural, STEP_TIMEOUT_MS, xor } from './demo-report.js'
import type { DemoHost } from './demo-report.js'
import type { PeerInfo } from '../index.js'

/** kad-dht's k: closestPeers returns at most this many */
const K = 20

export async function demoPutGet (host: DemoHost, tag: string): Promise<void> {
  const a = host.node(0)
  const b = host.node(1)
  const key = `/swarmbus/demo/${tag}`
  const value = new TextEncoder().encode(`hello from ${host.label(a)} (${tag})`)
  let stored = false
  await host.step('dht.put', async note => {
    note(`${host.label(a)} put ${key} (${value.byteLength} B)`)
    const { peers } = await a.ask({ type: 'dht.put', key, value }, { timeoutMs: STEP_TIMEOUT_MS })
    check(peers > 0, 'no peer accepted the record')
    stored = true
    return { what: `${host.label(a)} put ${key} (${value.byteLength} B) → stored on ${plural(peers, 'peer')}`, data: { node: host.label(a), key, value, peers } }
  })
  await host.step('dht.get', async note => {
    note(`${host.label(b)} get ${key}`)
    check(stored, 'skipped: the put failed')
    const got = await b.ask({ type: 'dht.get', key }, { timeoutMs: STEP_TIMEOUT_MS })
    const from = host.nodes.find(x => x.peerId === got.from)
    const source = from === b ? 'its own store (the put replicated it there)' : from !== undefined ? host.label(from) : shortId(got.from)
    const what = `${host.label(b)} got ${got.value.byteLength} B from ${source}`
    note(what)
    check(Buffer.from(got.value).equals(Buffer.from(value)), `the value got differs from the value put ('${Buffer.from(got.value).toString('utf8').slice(0, 40)}')`)
    return { what: `${what}: equals the value put`, data: { node: host.label(b), key, value: got.value, from: got.from } }
  })
}

export async function demoProvideFind (host: DemoHost, rnd: Buffer): Promise<void> {
  const c = host.node(2)
  const d = host.node(3)
  const cid = CID.createV1(raw.code, await sha256.digest(rnd)).toString()
  let provided = false
  await host.step('dht.provide', async note => {
    note(`${host.label(c)} provide ${cid.slice(0, 16)}…`)
    const { peers } = await c.ask({ type: 'dht.provide', cid }, { timeoutMs: STEP_TIMEOUT_MS })
    check(peers > 0, 'no peer took the provider record')
    provided = true
    return { what: `${host.label(c)} provides ${cid.slice(0, 16)}… → told ${plural(peers, 'peer')}`, data: { node: host.label(c), cid, peers } }
  })
  await host.step('dht.findProviders', async note => {
    note(`${host.label(d)} findProviders ${cid.slice(0, 16)}… (stream, limit 1)`)
    check(provided, 'skipped: the provide failed')
    const found: PeerInfo[] = []
    for await (const p of d.stream({ type: 'dht.findProviders', cid, limit: 1 }, { timeoutMs: STEP_TIMEOUT_MS })) found.push(p)
    const first = found[0]
    check(first !== undefined, 'the stream ended without a provider')
    check(first.peerId === c.peerId, `found ${shortId(first.peerId)}, not the providing node ${host.label(c)} (${shortId(c.peerId)})`)
    return {
      what: `${host.label(d)} found provider ${host.label(c)} (${shortId(first.peerId)}) at ${first.multiaddrs[0] ?? 'no address'}`,
      data: { node: host.label(d), cid, providers: found }
    }
  })
}

export async function demoFindPeer (host: DemoHost): Promise<void> {
  const e = host.node(4)
  const target = host.node(5)
  await host.step('dht.findPeer', async note => {
    note(`${host.label(e)} findPeer ${host.label(target)}`)
    const info = await e.ask({ type: 'dht.findPeer', peerId: target.peerId }, { timeoutMs: STEP_TIMEOUT_MS })
    check(info.peerId === target.peerId, `answered for ${shortId(info.peerId)}`)
    const listen = target.multiaddrs.map(a => a.replace(/\/p2p\/[^/]+$/, ''))
    const known = info.multiaddrs.filter(a => listen.includes(a))
    check(known.length > 0, `none of the addresses found (${info.multiaddrs.join(', ') || 'none'}) is one ${host.label(target)} listens on`)
    return { what: `${host.label(e)} found ${host.label(target)} (${shortId(target.peerId)}) at ${known[0] ?? ''}`, data: { node: host.label(e), peer: info } }
  })
}

export async function demoClosestPeers (host: DemoHost, tag: string): Promise<void> {
  const g = host.node(6)
  const key = `/swarmbus/demo/closest/${tag}`
  await host.step('dht.closestPeers', async note => {
    note(`${host.label(g)} closestPeers ${key} (stream)`)
    const found: PeerInfo[] = []
    for await (const p of g.stream({ type: 'dht.closestPeers', key }, { timeoutMs: STEP_TIMEOUT_MS })) found.push(p)
    const ids = found.map(p => p.peerId)
    check(ids.length > 0, 'the stream ended without a peer')
    check(new Set(ids).size === ids.length, 'a peer came twice')
    const strangers = ids.filter(id => !host.nodes.some(x => x.peerId === id))
    check(strangers.length === 0, `${strangers.length} peers are not testnet nodes`)
    // the true k closest by XOR distance between sha256 ids (kad-dht's keyspace)
    const target = createHash('sha256').update(key).digest()
    const others = host.nodes.filter(x => x !== g).map(x => ({ node: x, d: xor(target, kadId(x.peerId)) }))
    others.sort((x, y) => Buffer.compare(x.d, y.d))
    const expected = others.slice(0, K).map(x => x.node.peerId)
    const nearest = others[0]?.node
    const overlap = expected.filter(id => ids.includes(id)).length
    check(nearest !== undefined && ids.includes(nearest.peerId), `the nearest node ${nearest !== undefined ? host.label(nearest) : ''} is missing`)
    return {
      what: `${host.label(g)} got ${plural(ids.length, 'peer')}; ${overlap}/${expected.length} of the true ${Math.min(K, others.length)} closest by XOR, nearest ${host.label(nearest)}`,
      data: { node: host.label(g), key, peers: ids, expected, overlap }
    }
  })
}

/**
 * IPNS across the testnet: n1 publishes a name, every other node resolves
 * it (over the DHT, then from its cache), n1 publishes again (the next
 * sequence) and every other node resolves with nocache. The lifecycle of
 * the publishes and of n2's resolves is shown as the machine went through
 * it, from the ipns:* progress events.
 */
