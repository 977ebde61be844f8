/**
 * IPNS on a real 20-node TCP loopback testnet, swarmbus and the reference
 * stack (@helia/ipns 10.1 over js-libp2p + kad-dht, src/bench/helia-reference.ts)
 * measured in the same run, one after the other, in this process:
 *
 * - publish p50/p95: serial publishes of distinct names from testnet members;
 * - uncached resolve p50/p95 (nocache on both stacks), from two resolvers:
 *   a testnet member that published nothing, and a DHT client joined to the
 *   testnet. At <= 20 nodes (k = 20) every DHT server stores every record, so
 *   the member holds each record in its own DHT record store: kad-dht's get
 *   yields that copy first (1 answer of the 16 the quorum needs; Helia's get
 *   mixes it into the best-of). The client stores nothing: every answer
 *   comes from the network. What each resolver had locally is counted
 *   (answers from its own store), not assumed;
 * - cached resolve p50/p95 in µs: swarmbus through node.ask (the IPNS
 *   actor's cache); Helia through name.resolve without nocache (its local
 *   store, which validates the record on every hit);
 * - wall time of 100 concurrent uncached resolves of 100 distinct names;
 * - DHT queries caused by concurrent uncached resolves of one name: swarmbus
 *   from swarm.status (the swarm actor's dht.getValues counter) for 1,000;
 *   Helia (no single flight: one whole kad-dht GET per resolve) counted at
 *   its routing for a smaller number, since 1,000 whole queries would take
 *   this machine minutes;
 * - CPU time of the process per publish, per serial resolve and for the 100
 *   concurrent resolves: in a one-process testnet it counts both ends of every
 *   RPC, and it stretches far less than wall time when the host is loaded;
 * - RSS, heap and the load average before and after each stack.
 *
 * Every step is bounded, with a 15-minute backstop; the run takes about
 * 3 minutes on 2 idle cores, 5–6 at a load average of 14.
 */
import { availableParallelism, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { createNode } from '../node/create-node.js'
import { createTestnet } from '../node/create-testnet.js'
import { round, summarize } from './stats.js'
import type { SwarmNode } from '../node/create-node.js'
import type { HeliaNode } from './helia-reference.js'
import type { PublicKey } from '@libp2p/interface'

export interface IpnsBenchOptions {
  /** testnet size (default 20) */
  nodes?: number
  /** distinct names published (default 100) */
  names?: number
  /** serial publishes and uncached resolves timed per resolver (default 20) */
  samples?: number
  /** cached resolves timed (default 20,000 swarmbus, 2,000 Helia) */
  cachedSamples?: number
  heliaCachedSamples?: number
  /** concurrent resolves of one name (default 1,000 swarmbus, 10 Helia) */
  sameName?: number
  heliaSameName?: number
  /** also run the reference stack (default true) */
  helia?: boolean
  seed?: number
}

const gc = (globalThis as { gc?: () => void }).gc
const settleMemory = async (): Promise<void> => { for (let i = 0; i < 3; i++) { gc?.(); await sleep(20) } }
const rssMB = (): number => round(process.memoryUsage().rss / 2 ** 20, 1)
const load1m = (): number => round(loadavg()[0] ?? NaN, 2)
const ms = (x: number): number => Math.round(x)
const heapMB = (): number => round(process.memoryUsage().heapUsed / 2 ** 20, 1)
/**
 * CPU time of the whole process (main thread and workers, user + system) over
 * fn, in ms: on a loaded host wall time stretches with the load, CPU time
 * much less, so it is the steadier figure to compare stacks with.
 */
async function cpuOf<T> (fn: () => Promise<T>): Promise<{ value: T, cpuMs: number }> {
  const c = process.cpuUsage()
  const value = await fn()
  const d = process.cpuUsage(c)
  return { value, cpuMs: (d.user + d.system) / 1000 }
}

async function cidFor (seed: number, j: number): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`swarmbus-bench/ipns/${seed}/${j}`)))
}

/** Rejects when the promise has not settled after `ms` (the work itself is left to its own deadline). */
async function bounded<T> (what: string, timeoutMs: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${what} took more than ${timeoutMs} ms`)) }, timeoutMs)
    })])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs fn over 0..n-1, at most `width` at once. */
async function pool (n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) await fn(next++)
  }))
}

const errName = (err: unknown): string => err instanceof Error ? `${err.name}: ${err.message.slice(0, 120)}` : String(err)

/** distinct error messages, counted, at most 5 */
function errorLog (): { add: (err: unknown) => void, list: () => Record<string, number> } {
  const seen: Record<string, number> = {}
  return {
    add: err => {
      const k = errName(err)
      if (k in seen || Object.keys(seen).length < 5) seen[k] = (seen[k] ?? 0) + 1
    },
    list: () => ({ ...seen })
  }
}

// ───────────────────────────── swarmbus ─────────────────────────────

async function getValuesCount (node: SwarmNode): Promise<{ getValues: number, pending: number, ipnsDhtQueries: number, ipnsShared: number, inFlight: number }> {
  const st = await node.ask({ type: 'swarm.status' })
  const gv = st.actors.find(a => a.name === 'swarm')?.commands['dht.getValues']
  const ipns = st.actors.find(a => a.name === 'ipns')?.detail ?? {}
  return {
    getValues: (gv?.served ?? 0) + (gv?.failed ?? 0),
    pending: st.pendingQueries,
    ipnsDhtQueries: Number(ipns.dhtQueries ?? 0),
    ipnsShared: Number(ipns.shared ?? 0),
    inFlight: Number(ipns.inFlight ?? 0)
  }
}

async function benchSwarmbus (o: Required<IpnsBenchOptions>): Promise<Record<string, unknown>> {
  const loadStart = load1m()
  await settleMemory()
  const rssBefore = rssMB()
  const heapBefore = heapMB()
  const t0 = performance.now()
  const net = await bounded('swarmbus testnet', 120_000, createTestnet({ nodes: o.nodes, seed: o.seed, settleTimeoutMs: 45_000 }))
  let client: SwarmNode | undefined
  try {
    const setupMs = performance.now() - t0
    const n = net.nodes
    const resolver = n[0] as SwarmNode
    client = await bounded('swarmbus client', 30_000, createNode({ loopback: true, mode: 'client', seed: o.seed + 500, bootstrap: [(n[1] as SwarmNode).multiaddrs[0] ?? ''] }))
    // one self lookup after bootstrap, as for the Helia client
    try {
      const self = peerIdFromString(client.peerId).toMultihash().bytes
      for await (const _ of client.stream({ type: 'dht.closestPeers', key: self }, { timeoutMs: 15_000 })) {
        // kad-dht offers every responder to the routing table
      }
    } catch { /* a short table only slows the client */ }
    const clientTable = (await client.ask({ type: 'swarm.status' })).routingTableSize

    // names: key bench-j on member 1 + j % (N - 1); member 0 publishes nothing
    const publisherOf = (j: number): SwarmNode => n[1 + (j % (o.nodes - 1))] as SwarmNode
    const values = await Promise.all(Array.from({ length: o.names }, async (_, j) => `/ipfs/${(await cidFor(o.seed, j)).toString()}`))
    const keyErrors = errorLog()
    await pool(o.names, 8, async j => {
      await publisherOf(j).ask({ type: 'key.generate', name: `bench-${j}` }, { timeoutMs: 30_000 }).catch(keyErrors.add)
    })
    const names: string[] = new Array<string>(o.names).fill('')
    const sequences: bigint[] = new Array<bigint>(o.names).fill(-1n)
    const peersAcked: number[] = []
    const publishErrors = errorLog()
    const publishMs: number[] = []
    const publish = async (j: number, timed: boolean): Promise<void> => {
      const t = performance.now()
      try {
        const r = await publisherOf(j).ask({ type: 'ipns.publish', key: `bench-${j}`, value: values[j] as string }, { timeoutMs: 30_000 })
        if (timed) publishMs.push(performance.now() - t)
        names[j] = r.name
        sequences[j] = r.sequence
        peersAcked.push(r.peers)
      } catch (err) {
        publishErrors.add(err)
      }
    }
    const publishCpu = await cpuOf(async () => { for (let j = 0; j < o.samples; j++) await publish(j, true) })
    const tRest = performance.now()
    await pool(o.names - o.samples, 8, async i => { await publish(o.samples + i, false) })
    const publishRestMs = performance.now() - tRest
    const published = names.filter(x => x !== '').length

    // uncached resolves, serial, from a member and from the client. What the
    // resolver had locally: kad-dht yields its own store's copy before it asks
    // anyone, so that value event is among a query's first progress events
    // (the bus forwards at most 256 per query: a count of all answers of a
    // 20-node query would be cut short, so none is reported)
    const uncached = async (node: SwarmNode): Promise<Record<string, unknown>> => {
      const lat: number[] = []
      const own: number[] = []
      const errors = errorLog()
      let wrong = 0
      let counted = { own: 0 }
      const off = node.on('progress', e => {
        if (e.type === 'kad-dht:query:value' && e.detail?.peer === node.peerId) counted.own++
      })
      const c0 = process.cpuUsage()
      try {
        for (let j = 0; j < o.samples; j++) {
          if (names[j] === '') continue
          counted = { own: 0 }
          const t = performance.now()
          try {
            const r = await node.ask({ type: 'ipns.resolve', name: names[j] as string, nocache: true }, { timeoutMs: 30_000 })
            lat.push(performance.now() - t)
            if (r.value !== values[j] || r.sequence !== sequences[j] || r.source !== 'dht') wrong++
            own.push(counted.own)
          } catch (err) {
            errors.add(err)
          }
        }
      } finally {
        off()
      }
      const cpu = process.cpuUsage(c0)
      return {
        ms: summarize(lat),
        cpuMsPerResolve: round((cpu.user + cpu.system) / 1000 / Math.max(1, lat.length), 1),
        wrong,
        errors: errors.list(),
        answersFromOwnDhtStorePerResolve: summarize(own)
      }
    }
    const fromMember = await uncached(resolver)
    const fromClient = await uncached(client)

    // cached, through node.ask: the first resolve of name 0 above filled the cache
    const first = await resolver.ask({ type: 'ipns.resolve', name: names[0] as string }, { timeoutMs: 30_000 })
    for (let i = 0; i < 2_000; i++) await resolver.ask({ type: 'ipns.resolve', name: names[0] as string })
    // interleaved with a system.ping through the same node's bus: the floor any ask pays here
    const cachedUs: number[] = []
    const pingUs: number[] = []
    for (let i = 0; i < o.cachedSamples; i++) {
      let t = performance.now()
      await resolver.ask({ type: 'ipns.resolve', name: names[0] as string })
      cachedUs.push((performance.now() - t) * 1000)
      if (i % 4 !== 0) continue
      t = performance.now()
      await resolver.ask({ type: 'system.ping' })
      pingUs.push((performance.now() - t) * 1000)
    }

    // 100 concurrent uncached resolves of 100 distinct names, from the member
    const distinct = names.map((name, j) => ({ name, j })).filter(x => x.name !== '')
    const concErrors = errorLog()
    let concWrong = 0
    const tc = performance.now()
    const concCpu = await cpuOf(async () => await Promise.all(distinct.map(async ({ name, j }) => {
      try {
        const r = await resolver.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 60_000 })
        if (r.value !== values[j] || r.sequence !== sequences[j]) concWrong++
      } catch (err) {
        concErrors.add(err)
      }
    })))
    const concurrentMs = performance.now() - tc

    // 1,000 concurrent uncached resolves of one name: DHT queries they cause
    const sameName = names[o.names - 1] !== '' ? names[o.names - 1] as string : distinct[0]?.name ?? ''
    const before = await getValuesCount(resolver)
    const sameErrors = errorLog()
    let sameOk = 0
    const ts = performance.now()
    await Promise.all(Array.from({ length: o.sameName }, async () => {
      try {
        await resolver.ask({ type: 'ipns.resolve', name: sameName, nocache: true }, { timeoutMs: 60_000 })
        sameOk++
      } catch (err) {
        sameErrors.add(err)
      }
    }))
    const sameMs = performance.now() - ts
    let after = await getValuesCount(resolver)
    for (let i = 0; i < 100 && (after.pending > 0 || after.inFlight > 0); i++) {
      await sleep(50)
      after = await getValuesCount(resolver)
    }
    const rssWithTestnet = rssMB()
    await settleMemory()
    const heapWithTestnet = heapMB()
    const loadBeforeStop = load1m()

    return {
      nodes: o.nodes,
      testnet: { setupMs: ms(setupMs), settled: net.report.settled, routingTables: `${Math.min(...net.report.routingTableSizes)}–${Math.max(...net.report.routingTableSizes)}`, clientRoutingTable: clientTable },
      keys: { generated: o.names, errors: keyErrors.list() },
      publish: { ms: summarize(publishMs), cpuMsPerPublish: round(publishCpu.cpuMs / Math.max(1, publishMs.length), 1), published, of: o.names, restConcurrent8Ms: ms(publishRestMs), peersAcked: summarize(peersAcked), errors: publishErrors.list() },
      uncachedResolve: {
        fromMember: { ...fromMember, note: 'a testnet member that published nothing; as a DHT server it holds every record (k = 20 >= N), and kad-dht yields that copy first' },
        fromClient: { ...fromClient, note: 'a DHT client joined to the testnet: it stores no records, every answer comes from the network' }
      },
      cachedResolveUs: { ...summarize(cachedUs), source: first.source, systemPingSameBusUs: summarize(pingUs) },
      concurrentDistinct: { resolves: distinct.length, wallMs: ms(concurrentMs), cpuMs: ms(concCpu.cpuMs), wrong: concWrong, errors: concErrors.list() },
      concurrentSameName: {
        resolves: o.sameName,
        ok: sameOk,
        wallMs: ms(sameMs),
        dhtGetValuesQueries: after.getValues - before.getValues,
        ipnsDhtQueries: after.ipnsDhtQueries - before.ipnsDhtQueries,
        sharedFlights: after.ipnsShared - before.ipnsShared,
        errors: sameErrors.list()
      },
      rssMB: { before: rssBefore, withTestnetAfterWork: rssWithTestnet },
      heapUsedMB: { before: heapBefore, withTestnetAfterWork: heapWithTestnet },
      loadAverage1m: { start: loadStart, end: loadBeforeStop }
    }
  } finally {
    await bounded('swarmbus stop', 30_000, Promise.allSettled([client?.stop(), net.stop()])).catch(() => {})
  }
}

// ───────────────────────────── Helia ─────────────────────────────

async function benchHelia (o: Required<IpnsBenchOptions>): Promise<Record<string, unknown>> {
  const { createHeliaNode, createHeliaTestnet } = await import('./helia-reference.js')
  const loadStart = load1m()
  await settleMemory()
  const rssBefore = rssMB()
  const heapBefore = heapMB()
  const t0 = performance.now()
  const net = await bounded('Helia testnet', 120_000, createHeliaTestnet({ nodes: o.nodes, seed: o.seed + 1_000, settleTimeoutMs: 45_000 }))
  let client: HeliaNode | undefined
  try {
    const setupMs = performance.now() - t0
    const n = net.nodes
    const resolver = n[0] as HeliaNode
    // a kad-dht client joined like the swarmbus one: one dial, one self lookup
    client = await createHeliaNode({ seed: o.seed + 1_500, clientMode: true })
    const c = client
    await c.libp2p.dial((n[1] as HeliaNode).libp2p.getMultiaddrs(), { signal: AbortSignal.timeout(10_000) }).catch(() => {})
    await sleep(200)
    try {
      for await (const _ of c.libp2p.services.dht.getClosestPeers(c.libp2p.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(15_000) })) {
        // fills the client's routing table
      }
    } catch { /* a short table only slows the client */ }
    const { routingTableOf } = await import('../actors/swarm/routing-table.js')
    const clientTable = routingTableOf(c.libp2p.services.dht).size

    const publisherOf = (j: number): HeliaNode => n[1 + (j % (o.nodes - 1))] as HeliaNode
    const cids = await Promise.all(Array.from({ length: o.names }, async (_, j) => await cidFor(o.seed, j)))
    const values = cids.map(cid => `/ipfs/${cid.toString()}`)
    const keyErrors = errorLog()
    await pool(o.names, 8, async j => {
      await publisherOf(j).keychain.generateKey(`bench-${j}`).catch(keyErrors.add)
    })
    const keys: Array<PublicKey | undefined> = new Array<PublicKey | undefined>(o.names).fill(undefined)
    const sequences: bigint[] = new Array<bigint>(o.names).fill(-1n)
    const publishErrors = errorLog()
    const publishMs: number[] = []
    const publish = async (j: number, timed: boolean): Promise<void> => {
      const t = performance.now()
      try {
        const r = await publisherOf(j).name.publish(`bench-${j}`, cids[j] as CID, { signal: AbortSignal.timeout(30_000) })
        if (timed) publishMs.push(performance.now() - t)
        keys[j] = r.publicKey as unknown as PublicKey
        sequences[j] = r.record.sequence ?? -1n
      } catch (err) {
        publishErrors.add(err)
      }
    }
    const publishCpu = await cpuOf(async () => { for (let j = 0; j < o.samples; j++) await publish(j, true) })
    const tRest = performance.now()
    await pool(o.names - o.samples, 8, async i => { await publish(o.samples + i, false) })
    const publishRestMs = performance.now() - tRest
    const published = keys.filter(k => k !== undefined).length

    const resolveOnce = async (node: HeliaNode, j: number, nocache: boolean, timeoutMs: number, onValue?: (from: string) => void): Promise<{ value: string, sequence: bigint | undefined }> => {
      const key = keys[j]
      if (key === undefined) throw new Error(`name ${j} was not published`)
      const onProgress = onValue === undefined
        ? undefined
        : (e: { type: string, detail?: unknown }): void => {
            const from = (e.detail as { from?: { toString: () => string } } | undefined)?.from
            if (e.type === 'kad-dht:query:value' && from !== undefined) onValue(from.toString())
          }
      let last: { value: string, sequence: bigint | undefined } | undefined
      for await (const r of node.name.resolve(key.toMultihash(), { nocache, signal: AbortSignal.timeout(timeoutMs), ...(onProgress !== undefined ? { onProgress } : {}) })) {
        last = { value: r.value, sequence: r.record.sequence }
      }
      if (last === undefined) throw new Error('no result')
      return last
    }

    const uncached = async (node: HeliaNode): Promise<Record<string, unknown>> => {
      const lat: number[] = []
      const own: number[] = []
      const answers: number[] = []
      const errors = errorLog()
      let wrong = 0
      const c0 = process.cpuUsage()
      for (let j = 0; j < o.samples; j++) {
        if (keys[j] === undefined) continue
        const counted = { own: 0, all: 0 }
        const t = performance.now()
        try {
          const r = await resolveOnce(node, j, true, 30_000, from => {
            counted.all++
            if (from === node.peerId) counted.own++
          })
          lat.push(performance.now() - t)
          if (r.value !== values[j] || r.sequence !== sequences[j]) wrong++
          own.push(counted.own)
          answers.push(counted.all)
        } catch (err) {
          errors.add(err)
        }
      }
      const cpu = process.cpuUsage(c0)
      return {
        ms: summarize(lat),
        cpuMsPerResolve: round((cpu.user + cpu.system) / 1000 / Math.max(1, lat.length), 1),
        wrong,
        errors: errors.list(),
        answersPerResolve: summarize(answers),
        answersFromOwnDhtStorePerResolve: summarize(own)
      }
    }
    const fromMember = await uncached(resolver)
    const fromClient = await uncached(c)

    // cached: the local store (which is the DHT record store) answers until received + TTL
    const getsBefore = resolver.routingCalls.get
    for (let i = 0; i < 200; i++) await resolveOnce(resolver, 0, false, 10_000)
    const cachedUs: number[] = []
    for (let i = 0; i < o.heliaCachedSamples; i++) {
      const t = performance.now()
      await resolveOnce(resolver, 0, false, 10_000)
      cachedUs.push((performance.now() - t) * 1000)
    }
    const cachedWentToNetwork = resolver.routingCalls.get - getsBefore

    const distinct = keys.map((k, j) => ({ k, j })).filter(x => x.k !== undefined)
    const concErrors = errorLog()
    let concWrong = 0
    const tc = performance.now()
    const concCpu = await cpuOf(async () => await Promise.all(distinct.map(async ({ j }) => {
      try {
        const r = await resolveOnce(resolver, j, true, 90_000)
        if (r.value !== values[j] || r.sequence !== sequences[j]) concWrong++
      } catch (err) {
        concErrors.add(err)
      }
    })))
    const concurrentMs = performance.now() - tc

    const same = keys[o.names - 1] !== undefined ? o.names - 1 : distinct[0]?.j ?? 0
    const gets0 = resolver.routingCalls.get
    const sameErrors = errorLog()
    let sameOk = 0
    const ts = performance.now()
    await Promise.all(Array.from({ length: o.heliaSameName }, async () => {
      try {
        await resolveOnce(resolver, same, true, 90_000)
        sameOk++
      } catch (err) {
        sameErrors.add(err)
      }
    }))
    const sameMs = performance.now() - ts
    const sameQueries = resolver.routingCalls.get - gets0
    const rssWithTestnet = rssMB()
    await settleMemory()
    const heapWithTestnet = heapMB()
    const loadBeforeStop = load1m()

    return {
      nodes: o.nodes,
      stack: '@helia/ipns 10.1.0 (ipns(components) over js-libp2p 3 + @libp2p/kad-dht 16.4, routing = libp2p.contentRouting), same loopback settings',
      testnet: { setupMs: ms(setupMs), settled: net.report.settled, routingTables: `${Math.min(...net.report.routingTableSizes)}–${Math.max(...net.report.routingTableSizes)}`, clientRoutingTable: clientTable },
      keys: { generated: o.names, errors: keyErrors.list() },
      publish: { ms: summarize(publishMs), cpuMsPerPublish: round(publishCpu.cpuMs / Math.max(1, publishMs.length), 1), published, of: o.names, restConcurrent8Ms: ms(publishRestMs), errors: publishErrors.list() },
      uncachedResolve: { fromMember, fromClient },
      cachedResolveUs: { ...summarize(cachedUs), routingGetsDuringCachedLoop: cachedWentToNetwork, note: 'name.resolve without nocache: a local-store hit, signature checked on every hit' },
      concurrentDistinct: { resolves: distinct.length, wallMs: ms(concurrentMs), cpuMs: ms(concCpu.cpuMs), wrong: concWrong, errors: concErrors.list() },
      concurrentSameName: { resolves: o.heliaSameName, ok: sameOk, wallMs: ms(sameMs), dhtGetQueries: sameQueries, queriesPerResolve: round(sameQueries / Math.max(1, o.heliaSameName), 2), errors: sameErrors.list() },
      rssMB: { before: rssBefore, withTestnetAfterWork: rssWithTestnet },
      heapUsedMB: { before: heapBefore, withTestnetAfterWork: heapWithTestnet },
      loadAverage1m: { start: loadStart, end: loadBeforeStop }
    }
  } finally {
    await bounded('Helia stop', 30_000, Promise.allSettled([client?.stop(), net.stop()])).catch(() => {})
  }
}

// ───────────────────────────── both ─────────────────────────────

type Rec = Record<string, unknown>
const at = (o: unknown, ...path: string[]): number => {
  let v: unknown = o
  for (const p of path) v = (v as Rec | undefined)?.[p]
  return typeof v === 'number' ? v : NaN
}

/** SPEC-NOTES / issue 4: @helia/ipns 10.1 measured earlier on this kind of machine (not this run) */
export const HELIA_REFERENCE_NOTES = {
  source: 'docs (SPEC-NOTES, issue 4), not this run',
  publishMs: { p50: 375, p95: 580 },
  uncachedResolveMs: { p50: '300–390', p95: '570–720' },
  cachedResolveMs: { p50: '0.7–0.75' },
  concurrentDistinct100Ms: '12,000–14,000'
}

export async function benchIpns (options: IpnsBenchOptions = {}): Promise<Record<string, unknown>> {
  const o: Required<IpnsBenchOptions> = {
    nodes: options.nodes ?? 20,
    names: options.names ?? 100,
    samples: options.samples ?? 20,
    cachedSamples: options.cachedSamples ?? 20_000,
    heliaCachedSamples: options.heliaCachedSamples ?? 2_000,
    sameName: options.sameName ?? 1_000,
    heliaSameName: options.heliaSameName ?? 10,
    helia: options.helia ?? true,
    seed: options.seed ?? 7_700
  }
  if (o.samples > o.names) throw new RangeError('samples must not exceed names')
  // every step has its own deadline; this is the backstop that makes the run end whatever happens
  const watchdog = setTimeout(() => {
    process.stderr.write('ipns bench: still running after 15 minutes, giving up\n')
    process.exit(3)
  }, 15 * 60_000)
  watchdog.unref()
  const machine = { cpus: availableParallelism(), loadAverage1mStart: load1m(), loadAverage1mEnd: NaN }
  await settleMemory()
  const rssStart = rssMB()
  const swarmbus = await benchSwarmbus(o)
  await settleMemory()
  const rssAfterSwarmbus = rssMB()
  let helia: Rec | { skipped: string } = { skipped: 'not requested' }
  if (o.helia) {
    try {
      helia = await benchHelia(o)
    } catch (err) {
      helia = { skipped: `the reference stack did not run: ${errName(err)}` }
    }
  }
  await settleMemory()
  const rssEnd = rssMB()
  machine.loadAverage1mEnd = load1m()
  clearTimeout(watchdog)

  const ran = !('skipped' in helia)
  const sb = swarmbus
  const ratio = (a: number, b: number): number => round(a / b, 2)
  const cachedP50 = at(sb, 'cachedResolveUs', 'p50')
  const uncachedP95 = at(sb, 'uncachedResolve', 'fromMember', 'ms', 'p95')
  const conc = at(sb, 'concurrentDistinct', 'wallMs')
  const comparison = ran
    ? {
        basis: 'this run, same process, one stack after the other',
        publishP50Ms: { swarmbus: at(sb, 'publish', 'ms', 'p50'), helia: at(helia, 'publish', 'ms', 'p50'), ratio: ratio(at(sb, 'publish', 'ms', 'p50'), at(helia, 'publish', 'ms', 'p50')) },
        publishCpuMs: { swarmbus: at(sb, 'publish', 'cpuMsPerPublish'), helia: at(helia, 'publish', 'cpuMsPerPublish'), ratio: ratio(at(sb, 'publish', 'cpuMsPerPublish'), at(helia, 'publish', 'cpuMsPerPublish')) },
        uncachedP50Ms: { swarmbus: at(sb, 'uncachedResolve', 'fromMember', 'ms', 'p50'), helia: at(helia, 'uncachedResolve', 'fromMember', 'ms', 'p50'), ratio: ratio(at(sb, 'uncachedResolve', 'fromMember', 'ms', 'p50'), at(helia, 'uncachedResolve', 'fromMember', 'ms', 'p50')) },
        uncachedCpuMsPerResolve: { swarmbus: at(sb, 'uncachedResolve', 'fromMember', 'cpuMsPerResolve'), helia: at(helia, 'uncachedResolve', 'fromMember', 'cpuMsPerResolve'), ratio: ratio(at(sb, 'uncachedResolve', 'fromMember', 'cpuMsPerResolve'), at(helia, 'uncachedResolve', 'fromMember', 'cpuMsPerResolve')) },
        uncachedP95Ms: { swarmbus: uncachedP95, helia: at(helia, 'uncachedResolve', 'fromMember', 'ms', 'p95'), ratio: ratio(uncachedP95, at(helia, 'uncachedResolve', 'fromMember', 'ms', 'p95')), target: '<= 0.5' },
        uncachedFromClientP95Ms: { swarmbus: at(sb, 'uncachedResolve', 'fromClient', 'ms', 'p95'), helia: at(helia, 'uncachedResolve', 'fromClient', 'ms', 'p95'), ratio: ratio(at(sb, 'uncachedResolve', 'fromClient', 'ms', 'p95'), at(helia, 'uncachedResolve', 'fromClient', 'ms', 'p95')) },
        cachedP50Us: { swarmbus: cachedP50, helia: at(helia, 'cachedResolveUs', 'p50'), heliaOverSwarmbus: ratio(at(helia, 'cachedResolveUs', 'p50'), cachedP50), target: 'swarmbus <= 20 µs' },
        concurrentDistinct100Ms: { swarmbus: conc, helia: at(helia, 'concurrentDistinct', 'wallMs'), speedup: ratio(at(helia, 'concurrentDistinct', 'wallMs'), conc), target: '>= 5' },
        concurrentDistinct100CpuMs: { swarmbus: at(sb, 'concurrentDistinct', 'cpuMs'), helia: at(helia, 'concurrentDistinct', 'cpuMs'), ratio: ratio(at(helia, 'concurrentDistinct', 'cpuMs'), at(sb, 'concurrentDistinct', 'cpuMs')) },
        dhtQueriesPerResolveOfOneNameConcurrently: { swarmbus: round(at(sb, 'concurrentSameName', 'dhtGetValuesQueries') / Math.max(1, o.sameName), 4), helia: at(helia, 'concurrentSameName', 'queriesPerResolve') }
      }
    : {
        basis: 'the reference stack did not run; reference figures from the docs, not this run',
        reference: HELIA_REFERENCE_NOTES,
        uncachedP95Ms: { swarmbus: uncachedP95, target: '<= 285–360 (half the documented p95)' },
        cachedP50Us: { swarmbus: cachedP50, target: '<= 20' },
        concurrentDistinct100Ms: { swarmbus: conc, target: '<= 2,400–2,800 (a fifth of the documented wall time)' }
      }
  const targets = {
    cachedP50AtMost20us: cachedP50 <= 20,
    ...(ran
      ? {
          uncachedP95AtMostHalfOfHelia: uncachedP95 <= 0.5 * at(helia, 'uncachedResolve', 'fromMember', 'ms', 'p95'),
          concurrentDistinctAtLeast5xFaster: conc * 5 <= at(helia, 'concurrentDistinct', 'wallMs')
        }
      : {})
  }
  return {
    machine,
    rssMB: { start: rssStart, afterSwarmbusStopped: rssAfterSwarmbus, end: rssEnd },
    swarmbus,
    helia,
    comparison,
    targets
  }
}
