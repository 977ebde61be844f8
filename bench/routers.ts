/**
 * The composite router against its parts and against Helia (`npm run bench
 * -- routers`). One 20-node swarmbus testnet on TCP loopback whose nodes
 * 16–19 sit behind TCP proxies (bench/tcp-proxy.ts, set up as ipns-slow
 * does: each announces only its proxy's address, every other member's
 * connection gater refuses their real ports), and one local Delegated
 * Routing V1 server that answers every request after 50 ms
 * (bench/routing-v1-server.ts). The names are published from healthy
 * members (every node stores every record) and put on the router; then the
 * four proxies freeze (sockets open, nothing moves) and six resolvers, none
 * of them a testnet member, resolve uncached (nocache), serially, in turn:
 *
 * - `dht`: a swarmbus DHT client joined to the testnet, no routers;
 * - `http`: a swarmbus node with the router and no DHT peers;
 * - `composite`: a swarmbus DHT client joined to the testnet, with the
 *   router (settle time `settleMs`, default 300 ms);
 * - `helia`: @helia/ipns 10.1 on a js-libp2p kad-dht client joined to the
 *   same testnet (bench/helia-reference.ts), with the same router through
 *   the Helia delegated-routing client as one of its IPNS routers;
 * - `dht-no-ra`, `composite-no-ra`: `dht` and `composite` created with
 *   `routeAround: false` (every request waited on), for the same-run
 *   comparison with routing around frozen peers.
 *
 * Every resolve has the same deadline (5 s: the ask's deadline, Helia's
 * signal). A resolve that fails counts in `failed` and, for the latency, at
 * the time it failed (Helia's resolve waits for every router, so a DHT query
 * stalled by a frozen peer holds it to the deadline). Targets: composite
 * p95 at most a fifth of Helia's, and composite p50/p95 at most the faster
 * single router's plus the settle time.
 */
import { availableParallelism } from 'node:os'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { delegatedRoutingV1HttpApiClient } from '@helia/delegated-routing-v1-http-api-client'
import { ipns } from '@helia/ipns'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { TypedEventEmitter } from 'main-event'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'
import * as Digest from 'multiformats/hashes/digest'
import { createNode } from '../src/node/create-node.js'
import { createTestnet } from '../src/node/create-testnet.js'
import { createHeliaNode } from './helia-reference.js'
import { FreezableProxy, listenLoopback, tcpPort } from './tcp-proxy.js'
import { startBenchRoutingServer } from './routing-v1-server.js'
import { Errors, bounded, cidFor, errName, load1m, pool } from './ipns.js'
import { round, summarize } from './stats.js'
import type { HeliaEvents, Routing } from '@helia/interface'
import type { ConnectionGater, RoutingOptions } from '@libp2p/interface'
import type { SwarmNode } from '../src/node/create-node.js'
import type { Testnet } from '../src/node/create-testnet.js'
import type { HeliaNode } from './helia-reference.js'
import type { Rec } from './ipns.js'

export interface RoutersBenchOptions {
  nodes?: number
  /** names published; one is resolved per sample and resolver */
  names?: number
  /** serial uncached resolves per resolver (default 15, at most one per healthy member) */
  samples?: number
  /** per-resolve deadline, every resolver (default 5 s) */
  timeoutMs?: number
  /** the testnet members behind frozen proxies (default 16–19) */
  frozen?: number[]
  /** the router's answer delay (default 50 ms) */
  routerDelayMs?: number
  /** the composite's settle time (default 300 ms, the node default) */
  settleMs?: number
  seed?: number
}

/** dht-no-ra, composite-no-ra: the same as dht and composite, created with `routeAround: false` (waits on every request) */
type Label = 'dht' | 'http' | 'composite' | 'helia' | 'dht-no-ra' | 'composite-no-ra'
const LABELS: Label[] = ['dht', 'http', 'composite', 'helia', 'dht-no-ra', 'composite-no-ra']
const portOf = (addr: string): number => { try { return tcpPort(addr) } catch { return -1 } }

async function freePort (): Promise<number> {
  const server = net.createServer()
  const port = await listenLoopback(server)
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  return port
}

/** /ipns/<multihash> → the libp2p-key CID the Routing V1 client asks for (as @helia/routers' delegated routing does) */
function ipnsCidOf (routingKey: Uint8Array): CID {
  return CID.createV1(0x72, Digest.decode(routingKey.subarray('/ipns/'.length)))
}

export async function benchRouters (options: RoutersBenchOptions = {}): Promise<Rec> {
  const nodes = options.nodes ?? 20
  const names = options.names ?? 15
  const samples = Math.min(options.samples ?? 15, names)
  const timeoutMs = options.timeoutMs ?? 5_000
  const frozen = new Set(options.frozen ?? [16, 17, 18, 19])
  const routerDelayMs = options.routerDelayMs ?? 50
  const settleMs = options.settleMs ?? 300
  const seed = options.seed ?? 9_300
  if ([...frozen].some(i => i < 1 || i >= nodes)) throw new RangeError('frozen nodes must be testnet members other than node 0')

  const watchdog = setTimeout(() => {
    process.stderr.write('routers bench: still running after 4 minutes, giving up\n')
    process.exit(3)
  }, 240_000)
  watchdog.unref()
  const started = performance.now()
  const load: Record<string, number> = { start: load1m() }

  const srv = await startBenchRoutingServer(routerDelayMs)
  // the proxies, and the gate every other node and resolver gets (ipns-slow.ts has the reasoning)
  const proxies = new Map<number, FreezableProxy>()
  const realPorts = new Set<number>()
  const proxyPorts = new Set<number>()
  const proxyPortOf = new Map<string, number>()
  const refused = { dialsToRealPort: 0, inboundFromProxied: 0, outboundNotThroughProxy: 0 }
  const gate: ConnectionGater = {
    denyDialMultiaddr: ma => { const d = realPorts.has(portOf(ma.toString())); if (d) refused.dialsToRealPort++; return d },
    denyInboundEncryptedConnection: peer => { const d = proxyPortOf.has(peer.toString()); if (d) refused.inboundFromProxied++; return d },
    denyOutboundEncryptedConnection: (peer, maConn) => {
      const p = proxyPortOf.get(peer.toString())
      const d = p !== undefined && portOf(maConn.remoteAddr.toString()) !== p
      if (d) refused.outboundNotThroughProxy++
      return d
    }
  }
  const proxiedGate: ConnectionGater = { denyDialMultiaddr: ma => !proxyPorts.has(portOf(ma.toString())) }

  let testnet: Testnet | undefined
  const resolvers: SwarmNode[] = []
  let helia: HeliaNode | undefined
  let heliaRouterClient: { stop: () => Promise<void> } | undefined
  try {
    testnet = await bounded('testnet', 120_000, createTestnet({
      nodes,
      seed,
      settleTimeoutMs: 45_000,
      node: { republish: false },
      nodeAt: async i => {
        if (!frozen.has(i)) return { connectionGater: gate }
        const real = await freePort()
        realPorts.add(real)
        const proxy = await new FreezableProxy(real).listen()
        proxies.set(i, proxy)
        proxyPorts.add(proxy.port)
        return { listen: [`/ip4/127.0.0.1/tcp/${real}`], announce: [`/ip4/127.0.0.1/tcp/${proxy.port}`], connectionGater: proxiedGate }
      },
      reachAt: async (node, i) => {
        const proxy = proxies.get(i)
        if (proxy === undefined) return undefined
        proxyPortOf.set(node.peerId, proxy.port)
        return `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${node.peerId}`
      }
    }))
    const members = testnet.nodes
    const entry = (members[1] as SwarmNode).multiaddrs[0] ?? ''
    load.testnetUp = load1m()

    // the resolvers: none is a member; the DHT ones join as clients through one healthy member
    const joinSelf = async (n: SwarmNode): Promise<void> => {
      try {
        for await (const _ of n.stream({ type: 'dht.closestPeers', key: peerIdFromString(n.peerId).toMultihash().bytes }, { timeoutMs: 15_000 })) {
          // every responder is offered to the routing table
        }
      } catch { /* a short table only slows it */ }
    }
    const routers = { endpoints: [srv.url], retries: 0, settleMs }
    const dht = await createNode({ loopback: true, mode: 'client', seed: seed + 500, bootstrap: [entry], connectionGater: gate, republish: false })
    resolvers.push(dht)
    const http = await createNode({ loopback: true, seed: seed + 501, routers, republish: false })
    resolvers.push(http)
    const composite = await createNode({ loopback: true, mode: 'client', seed: seed + 502, bootstrap: [entry], connectionGater: gate, routers, republish: false })
    resolvers.push(composite)
    const dhtNoRa = await createNode({ loopback: true, mode: 'client', seed: seed + 504, bootstrap: [entry], connectionGater: gate, republish: false, routeAround: false })
    resolvers.push(dhtNoRa)
    const compositeNoRa = await createNode({ loopback: true, mode: 'client', seed: seed + 505, bootstrap: [entry], connectionGater: gate, routers, republish: false, routeAround: false })
    resolvers.push(compositeNoRa)
    await Promise.all([joinSelf(dht), joinSelf(composite), joinSelf(dhtNoRa), joinSelf(compositeNoRa)])

    // Helia: @helia/ipns over a kad-dht client of the same testnet, the same router through the Helia client
    const h = await createHeliaNode({ seed: seed + 503, clientMode: true, connectionGater: gate })
    helia = h
    await h.libp2p.dial(multiaddr(entry), { signal: AbortSignal.timeout(10_000) })
    await sleep(200)
    try {
      for await (const _ of h.libp2p.services.dht.getClosestPeers(h.libp2p.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(15_000) })) {
        // fills its routing table
      }
    } catch { /* a short table only slows it */ }
    const client = delegatedRoutingV1HttpApiClient({ url: srv.url, cacheTTL: 0 })({ logger: defaultLogger() })
    await client.start()
    heliaRouterClient = client
    const dhtRouting = {
      put: async (key: Uint8Array, value: Uint8Array, opts?: RoutingOptions) => { await h.libp2p.contentRouting.put(key, value, opts) },
      get: async (key: Uint8Array, opts?: RoutingOptions) => await h.libp2p.contentRouting.get(key, opts)
    }
    const heliaName = ipns({ datastore: new MemoryDatastore(), routing: dhtRouting as unknown as Routing, logger: defaultLogger(), keychain: h.keychain, events: new TypedEventEmitter<HeliaEvents>() }, {
      routers: [{
        put: async (key, record, opts) => { await client.putIPNS(ipnsCidOf(key), record, opts) },
        get: async (key, opts) => await client.getIPNS(ipnsCidOf(key), opts)
      }]
    })
    load.resolversUp = load1m()

    // publish from healthy members (one name each: its self key), while every peer answers; the router gets each record too
    const healthy = members.filter((_, i) => i > 0 && !frozen.has(i))
    const count = Math.min(names, healthy.length)
    const published: Array<{ name: string, value: string, sequence: bigint } | undefined> = new Array(count).fill(undefined)
    const pubErrors = new Errors()
    await pool(count, 4, async j => {
      try {
        const value = `/ipfs/${(await cidFor(seed, j)).toString()}`
        const pub = await bounded('publish', 40_000, (healthy[j] as SwarmNode).ask({ type: 'ipns.publish', value }, { timeoutMs: 30_000 }))
        published[j] = { name: pub.name, value: pub.value, sequence: pub.sequence }
        srv.records.set(pub.name, pub.record)
      } catch (err) { pubErrors.add(err) }
    })
    const targets = published.filter(x => x !== undefined).slice(0, samples)
    load.afterPublish = load1m()

    for (const p of proxies.values()) p.freeze()
    const bytes0 = new Map([...proxies].map(([i, p]) => [i, p.bytes]))

    const resolveWith: Record<Label, (name: string) => Promise<{ value: string, sequence: bigint, source?: string }>> = {
      dht: async name => await dht.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs }),
      http: async name => await http.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs }),
      composite: async name => await composite.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs }),
      'dht-no-ra': async name => await dhtNoRa.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs }),
      'composite-no-ra': async name => await compositeNoRa.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs }),
      helia: async name => {
        const mh = CID.parse(name, base36).multihash
        let last: { value: string, sequence: bigint } | undefined
        for await (const r of heliaName.resolve(mh as never, { nocache: true, signal: AbortSignal.timeout(timeoutMs) })) {
          last = { value: r.value, sequence: r.record.sequence ?? -1n }
        }
        if (last === undefined) throw new Error('no result')
        return last
      }
    }
    const lat = new Map<Label, number[]>(LABELS.map(l => [l, []]))
    const failedAt = new Map<Label, number[]>(LABELS.map(l => [l, []]))
    const wrong = new Map<Label, number>(LABELS.map(l => [l, 0]))
    const sources = new Map<Label, Record<string, number>>(LABELS.map(l => [l, {}]))
    const errors = new Map<Label, Errors>(LABELS.map(l => [l, new Errors()]))
    // when the composite's router answer came (ipns:resolve:router), to split its latency: router, then the settle time or the DHT
    let routerAt = NaN
    // and, per sample, when its routers actor sent the request and had the verified record
    let requestAt = NaN
    let verifiedAt = NaN
    const offRouter = composite.on('progress', e => {
      if (e.type === 'ipns:resolve:router' && e.detail?.sequence !== undefined) routerAt = performance.now()
      if (e.type === 'routers:request') requestAt = performance.now()
      if (e.type === 'routers:answer' && e.detail?.outcome === 'record') verifiedAt = performance.now()
    })
    const compositeTimeline: Array<{ answerMs: number, requestMs?: number, verifiedMs?: number, ipnsGotMs?: number }> = []
    const compositeRouterMs: number[] = []
    const compositeAfterRouterMs: number[] = []
    const samplesMs = new Map<Label, number[]>(LABELS.map(l => [l, []]))
    const measuringFrom = performance.now()
    for (let j = 0; j < targets.length; j++) {
      const t = targets[j] as { name: string, value: string, sequence: bigint }
      // a different resolver goes first each round
      const order = LABELS.map((_, k) => LABELS[(k + j) % LABELS.length] as Label)
      for (const label of order) {
        const t0 = performance.now()
        routerAt = NaN
        requestAt = NaN
        verifiedAt = NaN
        try {
          const r = await bounded('resolve', timeoutMs + 5_000, resolveWith[label](t.name))
          const took = performance.now() - t0
          lat.get(label)?.push(took)
          samplesMs.get(label)?.push(Math.round(took))
          const rel = (x: number): number | undefined => Number.isFinite(x) ? Math.round(x - t0) : undefined
          if (label === 'composite') compositeTimeline.push({ answerMs: Math.round(took), requestMs: rel(requestAt), verifiedMs: rel(verifiedAt), ipnsGotMs: rel(routerAt) })
          if (label === 'composite' && Number.isFinite(routerAt)) {
            compositeRouterMs.push(routerAt - t0)
            compositeAfterRouterMs.push(t0 + took - routerAt)
          }
          if (r.value !== t.value || r.sequence !== t.sequence) wrong.set(label, (wrong.get(label) ?? 0) + 1)
          const src = sources.get(label) as Record<string, number>
          src[r.source ?? 'helia'] = (src[r.source ?? 'helia'] ?? 0) + 1
        } catch (err) {
          const took = performance.now() - t0
          lat.get(label)?.push(took)
          samplesMs.get(label)?.push(Math.round(took))
          failedAt.get(label)?.push(took)
          errors.get(label)?.add(err)
        }
      }
    }
    offRouter()
    load.end = load1m()
    const out: Record<string, Rec> = {}
    for (const l of LABELS) {
      out[l] = {
        ms: summarize(lat.get(l) ?? []),
        failed: (failedAt.get(l) ?? []).length,
        wrong: wrong.get(l),
        ...(l !== 'helia' ? { sources: sources.get(l) } : {}),
        ...(l === 'composite' ? { routerAnsweredMs: summarize(compositeRouterMs), answerAfterRouterMs: summarize(compositeAfterRouterMs), timeline: compositeTimeline } : {}),
        samplesMs: samplesMs.get(l),
        errors: errors.get(l)?.list()
      }
    }
    const p = (l: Label, q: 'p50' | 'p95'): number => (out[l]?.ms as Record<string, number>)[q] ?? NaN
    const fasterSingle = { p50: Math.min(p('dht', 'p50'), p('http', 'p50')), p95: Math.min(p('dht', 'p95'), p('http', 'p95')) }
    const routerStatus = await composite.ask({ type: 'routers.status' })
    return {
      setup: {
        nodes, frozen: [...frozen], names: targets.length, samples: targets.length, timeoutMs, routerDelayMs, settleMs,
        testnetSettled: testnet.report.settled,
        publishErrors: pubErrors.list(),
        resolvers: 'dht: swarmbus DHT client, no routers; http: swarmbus node with the router, no DHT peers; composite: swarmbus DHT client with the router; dht-no-ra, composite-no-ra: the same two created with routeAround: false; helia: @helia/ipns 10.1 on a kad-dht client of the same testnet, IPNS routers = [libp2p.contentRouting (kad-dht), the Helia Routing V1 client on the same router]',
        note: 'uncached (nocache), serial, a different resolver first each round; a failed resolve counts at the time it failed'
      },
      machine: { cpus: availableParallelism(), loadAverage1m: load, measuredS: round((performance.now() - measuringFrom) / 1000, 1), wallS: round((performance.now() - started) / 1000, 1) },
      frozenPeers: {
        refusedByGates: refused,
        bytesWhileFrozen: Object.fromEntries([...proxies].map(([i, px]) => [i, px.bytes - (bytes0.get(i) ?? 0)]))
      },
      routerRequests: { ...srv.served, compositeEndpoint: routerStatus.endpoints[0] },
      resolve: out,
      medians: Object.fromEntries(LABELS.map(l => [l, p(l, 'p50')])),
      p95: Object.fromEntries(LABELS.map(l => [l, p(l, 'p95')])),
      verdicts: {
        compositeP95AtMostFifthOfHelia: { ok: p('composite', 'p95') * 5 <= p('helia', 'p95'), composite: p('composite', 'p95'), helia: p('helia', 'p95'), ratio: round(p('composite', 'p95') / p('helia', 'p95'), 3) },
        compositeWithinSettleOfFasterSingle: {
          ok: p('composite', 'p50') <= fasterSingle.p50 + settleMs && p('composite', 'p95') <= fasterSingle.p95 + settleMs,
          composite: { p50: p('composite', 'p50'), p95: p('composite', 'p95') },
          fasterSingle,
          settleMs,
          marginMs: { p50: round(fasterSingle.p50 + settleMs - p('composite', 'p50'), 1), p95: round(fasterSingle.p95 + settleMs - p('composite', 'p95'), 1) }
        }
      }
    }
  } catch (err) {
    process.stderr.write(`routers bench failed: ${errName(err)}\n`)
    process.exitCode = 1
    return { error: errName(err) }
  } finally {
    await bounded('stopping', 30_000, Promise.allSettled([
      ...resolvers.map(async r => { await r.stop() }),
      helia?.stop(),
      heliaRouterClient?.stop(),
      testnet?.stop()
    ])).catch(() => {})
    await Promise.allSettled([...proxies.values()].map(async px => { await px.close() }))
    await srv.close()
    clearTimeout(watchdog)
  }
}
