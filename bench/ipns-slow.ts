/**
 * IPNS with slow and frozen peers (`npm run bench -- ipns-slow`): the
 * testnets of src/bench/ipns.ts (20 nodes on TCP loopback, swarmbus and
 * @helia/ipns 10.1 both up in this process, measured interleaved), where a
 * few peers misbehave as peers of the real DHT do. In a one-process testnet
 * every peer answers at once and both stacks cost the same CPU per resolve;
 * here a resolve that waits for the whole DHT query (Helia: kad-dht's get)
 * waits for the worst peer, one that stops at a quorum of valid answers or
 * at its soft deadline (swarmbus) does not.
 *
 * Setup, the same on both testnets: nodes 16–19 are each behind a TCP proxy
 * on 127.0.0.1 (src/bench/tcp-proxy.ts). Each listens on a port picked
 * before it starts and announces only its proxy's address (identify, peer
 * records, DHT answers carry no other); every mesh connection to it is dialled
 * by the other end to that address (createTestnet's reachAt); and every other
 * member has a connection gater that refuses to dial the proxied nodes' real
 * ports and refuses any connection a proxied node opens to it (a proxied
 * node's own gate fails its dials to any address but a proxy's before they
 * connect). So every
 * testnet member — the resolver too — talks to them only through the proxy.
 * The resolver's connections to them are checked three times (before the
 * misbehaviour, after the serial phase, at the end): one direct connection
 * fails the run (an error in the report, on stderr and in the exit code). At 20 nodes (k = 20) every peer is among the 20 closest to any
 * key, so every resolve's query asks them. The proxies forward plainly while
 * the testnets form and the 100 names are published (every node stores
 * every record); then, before anything is measured, nodes 16 and 17 become
 * slow (every chunk both ways delayed by a random 300–800 ms, order kept)
 * and nodes 18 and 19 freeze (sockets open, nothing moves). Whether the
 * resolver's connections to them really pass the proxies, and how many bytes
 * the proxies carried while measuring, is reported, not assumed.
 *
 * Measured from the member resolver (node 0, publishes nothing), with the
 * same per-resolve timeout on both stacks (10 s: swarmbus's ask deadline,
 * Helia's name.resolve signal), counting failures and wrong answers:
 * - uncached resolve p50/p95 (nocache), serial, alternating which stack
 *   goes first;
 * - wall time of 100 concurrent uncached resolves of 100 distinct names,
 *   A B B A.
 *
 * The run ends by itself: every step is bounded, the serial phase stops
 * sampling after 120 s, and a 6-minute backstop exits.
 */
import { availableParallelism } from 'node:os'
import net from 'node:net'
import { FreezableProxy, listenLoopback, tcpPort } from './tcp-proxy.js'
import { Errors, bounded, cidFor, errName, heliaStack, inTurn, load1m, ms, pool, swarmbusStack } from './ipns.js'
import { round, summarize } from './stats.js'
import type { IpnsBenchOptions, Rec, Stack, StackExtras } from './ipns.js'
import type { ConnectionGater } from '@libp2p/interface'

/** connections the gate of the non-proxied members refused */
interface Counts { dialsToRealPort: number, inboundFromProxied: number, outboundNotThroughProxy: number }
interface GateCounts { resolver: Counts, others: Counts, proxiedDialsElsewhere: number }
const newCounts = (): Counts => ({ dialsToRealPort: 0, inboundFromProxied: 0, outboundNotThroughProxy: 0 })
const portOf = (addr: string): number => { try { return tcpPort(addr) } catch { return -1 } }

/** a TCP port on 127.0.0.1 free right now (for a node that must listen where its proxy already points) */
async function freePort (): Promise<number> {
  const server = net.createServer()
  const port = await listenLoopback(server)
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  return port
}

export interface IpnsSlowBenchOptions {
  nodes?: number
  names?: number
  /** serial uncached resolves per stack (default 12) */
  samples?: number
  /** also a third testnet, swarmbus with routeAround: false, measured in turn with the others (default true) */
  noRouteAround?: boolean
  /** per-resolve timeout, both stacks (default 10 s) */
  timeoutMs?: number
  /** indices of the slowed nodes (default 16, 17) and of the frozen ones (default 18, 19) */
  slow?: number[]
  frozen?: number[]
  /** delay of every chunk through a slow proxy (default 300–800 ms) */
  delayMs?: [number, number]
  seed?: number
}

const SERIAL_BUDGET_MS = 120_000

export async function benchIpnsSlow (options: IpnsSlowBenchOptions = {}): Promise<Rec> {
  const nodes = options.nodes ?? 20
  const names = options.names ?? 100
  const samples = Math.min(options.samples ?? 12, names)
  const timeoutMs = options.timeoutMs ?? 10_000
  const slowIdx = options.slow ?? [16, 17]
  const frozenIdx = options.frozen ?? [18, 19]
  const [minDelay, maxDelay] = options.delayMs ?? [300, 800]
  const seed = options.seed ?? 8_800
  const proxiedIdx = new Set([...slowIdx, ...frozenIdx])
  if ([...proxiedIdx].some(i => i < 1 || i >= nodes)) throw new RangeError('slow and frozen nodes must be testnet members other than node 0 (the resolver)')
  const o: Required<IpnsBenchOptions> = { nodes, names, samples, cachedSamples: 0, heliaCachedSamples: 0, sameName: 0, heliaSameName: 0, helia: true, seed }

  const watchdog = setTimeout(() => {
    process.stderr.write('ipns-slow bench: still running after 6 minutes, giving up\n')
    process.exit(3)
  }, 360_000)
  watchdog.unref()

  const started = performance.now()
  const load: Record<string, number> = { start: load1m() }
  const cids = await Promise.all(Array.from({ length: names }, async (_, j) => await cidFor(seed, j)))
  const values = cids.map(cid => `/ipfs/${cid.toString()}`)

  // One proxy per proxied node per stack, made before its node: the node
  // listens on a port picked here and announces only the proxy's address, so
  // no peer learns its real one (identify, peer records, DHT answers). Every
  // other member gets a connection gater that refuses to dial the proxied
  // nodes' real ports and refuses every inbound connection from a proxied
  // peer (those are the proxied node dialling out, never through its proxy),
  // so the only connections left between them go through the proxies. The
  // gate's refusals are counted, and the resolver's connections are checked.
  const proxies = new Map<string, Map<number, FreezableProxy>>()
  const gates = new Map<string, GateCounts>()
  const extrasFor = (label: string, routeAround = true): StackExtras => {
    const mine = new Map<number, FreezableProxy>()
    proxies.set(label, mine)
    const realPorts = new Set<number>()
    const proxyPortOf = new Map<string, number>() // proxied peer id → its proxy's port, known once every node started
    const counts: GateCounts = { resolver: newCounts(), others: newCounts(), proxiedDialsElsewhere: 0 }
    const proxyPorts = new Set<number>()
    gates.set(label, counts)
    const gaterFor = (c: Counts): ConnectionGater => ({
      denyDialMultiaddr: ma => {
        const deny = realPorts.has(portOf(ma.toString()))
        if (deny) c.dialsToRealPort++
        return deny
      },
      denyInboundEncryptedConnection: peer => {
        const deny = proxyPortOf.has(peer.toString())
        if (deny) c.inboundFromProxied++
        return deny
      },
      denyOutboundEncryptedConnection: (peer, maConn) => {
        const proxyPort = proxyPortOf.get(peer.toString())
        const deny = proxyPort !== undefined && portOf(maConn.remoteAddr.toString()) !== proxyPort
        if (deny) c.outboundNotThroughProxy++
        return deny
      }
    })
    const ra = routeAround ? {} : { routeAround: false }
    return {
      client: false,
      ...(routeAround ? {} : { label: 'swarmbus-no-ra' as const }),
      nodeAt: async i => {
        if (!proxiedIdx.has(i)) return { connectionGater: gaterFor(i === 0 ? counts.resolver : counts.others), ...ra }
        const real = await freePort()
        realPorts.add(real)
        const proxy = await new FreezableProxy(real).listen()
        mine.set(i, proxy)
        proxyPorts.add(proxy.port)
        // a proxied node dials only through proxies: its dials to the others'
        // ports would be refused after the handshake anyway (their gate), and
        // failing them before the TCP connect keeps that churn off the CPU
        const gate: ConnectionGater = {
          denyDialMultiaddr: ma => {
            const deny = !proxyPorts.has(portOf(ma.toString()))
            if (deny) counts.proxiedDialsElsewhere++
            return deny
          }
        }
        return { listen: [`/ip4/127.0.0.1/tcp/${real}`], announce: [`/ip4/127.0.0.1/tcp/${proxy.port}`], connectionGater: gate, ...ra }
      },
      reachAt: async (addr, i) => {
        const proxy = mine.get(i)
        if (proxy === undefined) return undefined
        // the node's own first address is its announced one: the proxy's
        if (portOf(addr) !== proxy.port) throw new Error(`${label} node ${i} announces ${addr}, not its proxy's port ${proxy.port}`)
        proxyPortOf.set(addr.split('/p2p/')[1] ?? '', proxy.port)
        return addr
      }
    }
  }
  const closeProxies = async (): Promise<void> => {
    await Promise.allSettled([...proxies.values()].flatMap(m => [...m.values()].map(async p => { await p.close() })))
  }

  const stacks: Stack[] = []
  try {
    stacks.push(await swarmbusStack(o, values, extrasFor('swarmbus')))
    stacks.push(await heliaStack(o, cids, extrasFor('helia')))
    // the same swarmbus testnet again, every node created with routeAround: false: the same run's comparison
    if (options.noRouteAround !== false) stacks.push(await swarmbusStack(o, values, extrasFor('swarmbus-no-ra', false)))
    load.testnetsUp = load1m()
    const out: Record<string, Rec> = {}
    for (const s of stacks) out[s.label] = { setup: s.setup }
    const put = (s: Stack, key: string, value: unknown): void => { (out[s.label] as Rec)[key] = value }
    const proxiesOf = (s: Stack): Map<number, FreezableProxy> => proxies.get(s.label) ?? new Map()

    // every name published while every peer still answers (untimed, 8 at a time)
    const sequences = new Map<Stack, bigint[]>(stacks.map(s => [s, new Array<bigint>(names).fill(-1n)]))
    for (const s of stacks) {
      const errors = new Errors()
      const t = performance.now()
      await pool(names, 8, async j => {
        try {
          const seqs = sequences.get(s) as bigint[]
          seqs[j] = (await bounded('publish', 40_000, s.publish(j))).sequence
        } catch (err) { errors.add(err) }
      })
      put(s, 'publish', { wallMs: ms(performance.now() - t), errors: errors.list() })
    }
    load.afterPublish = load1m()

    // how the resolver reaches the proxied peers: through the proxy's port,
    // or directly. A direct connection voids the measurement: the run stops.
    const directSeen: string[] = []
    const routeCheck = async (s: Stack, when: string): Promise<Rec> => {
      const view = await s.memberView()
      const byIdx: Rec = {}
      for (const [i, proxy] of proxiesOf(s)) {
        const conns = view.connections.filter(c => c.peerId === s.peerIds[i])
        const through = conns.filter(c => portOf(c.remoteAddr) === proxy.port).length
        const direct = conns.length - through
        if (direct > 0) directSeen.push(`${s.label} ${when}: node 0 has ${direct} direct connection(s) to proxied node ${i} (${conns.map(c => c.remoteAddr).join(', ')})`)
        byIdx[i] = { connections: conns.length, throughProxy: through, direct }
      }
      if (directSeen.length > 0) throw new Error(`connections bypass the proxies, measurement void: ${directSeen.join('; ')}`)
      return { memberRoutingTable: view.routingTable, memberToProxied: byIdx }
    }
    const before = new Map<Stack, Rec>()
    for (const s of stacks) before.set(s, await routeCheck(s, 'before misbehaving'))

    // the misbehaviour starts
    const bytes0 = new Map<Stack, Map<number, number>>()
    for (const s of stacks) {
      const b = new Map<number, number>()
      for (const [i, proxy] of proxiesOf(s)) {
        b.set(i, proxy.bytes)
        if (slowIdx.includes(i)) proxy.slow(minDelay, maxDelay)
        else proxy.freeze()
      }
      bytes0.set(s, b)
    }
    const measuringFrom = performance.now()
    const check = (s: Stack, j: number, r: { value: string, sequence: bigint | undefined, source?: string }): boolean =>
      r.value === values[j] && r.sequence === sequences.get(s)?.[j] && (r.source === undefined || r.source === 'dht')

    // uncached resolves, serial, alternating
    {
      const lat = new Map<Stack, number[]>(stacks.map(s => [s, []]))
      const wrong = new Map<Stack, number>(stacks.map(s => [s, 0]))
      const failed = new Map<Stack, number[]>(stacks.map(s => [s, []]))
      const errors = new Map<Stack, Errors>(stacks.map(s => [s, new Errors()]))
      const t0 = performance.now()
      let done = 0
      for (let j = 0; j < samples && performance.now() - t0 < SERIAL_BUDGET_MS; j++, done++) {
        for (const s of inTurn(stacks, j)) {
          const t = performance.now()
          try {
            const r = await bounded('resolve', timeoutMs + 5_000, s.resolve('member', j, true, timeoutMs))
            lat.get(s)?.push(performance.now() - t)
            if (!check(s, j, r)) wrong.set(s, (wrong.get(s) ?? 0) + 1)
          } catch (err) {
            failed.get(s)?.push(performance.now() - t)
            errors.get(s)?.add(err)
          }
        }
      }
      for (const s of stacks) {
        put(s, 'uncachedResolve', {
          attempted: done,
          ms: summarize(lat.get(s) ?? []),
          wrong: wrong.get(s),
          failed: (failed.get(s) ?? []).length,
          failedAfterMs: summarize(failed.get(s) ?? []),
          errors: errors.get(s)?.list()
        })
      }
    }
    load.afterUncached = load1m()
    const afterSerial = new Map<Stack, Rec>()
    for (const s of stacks) afterSerial.set(s, await routeCheck(s, 'after the serial resolves'))

    // 100 concurrent uncached resolves of 100 distinct names: A B B A
    {
      const runs = new Map<Stack, Rec[]>(stacks.map(s => [s, []]))
      for (const s of [...stacks, ...[...stacks].reverse()]) {
        const errors = new Errors()
        let wrong = 0
        let failed = 0
        const t = performance.now()
        await Promise.all(Array.from({ length: names }, async (_, j) => {
          try {
            const r = await bounded('resolve', timeoutMs + 5_000, s.resolve('member', j, true, timeoutMs))
            if (!check(s, j, r)) wrong++
          } catch (err) {
            failed++
            errors.add(err)
          }
        }))
        runs.get(s)?.push({ wallMs: ms(performance.now() - t), ok: names - failed - wrong, wrong, failed, errors: errors.list(), load1m: load1m() })
      }
      for (const s of stacks) {
        const rs = runs.get(s) ?? []
        put(s, 'concurrentDistinct', {
          resolves: names,
          meanWallMs: ms(rs.reduce((a, r) => a + (r.wallMs as number), 0) / Math.max(1, rs.length)),
          runs: rs
        })
      }
    }
    load.end = load1m()

    for (const s of stacks) {
      const b = bytes0.get(s) ?? new Map<number, number>()
      put(s, 'slowPeers', {
        beforeMisbehaving: before.get(s),
        afterSerial: afterSerial.get(s),
        afterMeasuring: await routeCheck(s, 'after measuring'),
        gateRefused: gates.get(s.label),
        proxies: Object.fromEntries([...proxiesOf(s)].map(([i, p]) => [i, {
          mode: p.mode.kind,
          connectionsThrough: p.connections,
          bytesWhileMeasured: p.bytes - (b.get(i) ?? 0)
        }]))
      })
    }
    const verdict = { directConnectionsFromResolver: directSeen.length, checked: ['before misbehaving', 'after the serial resolves', 'after measuring'], stacks: stacks.map(s => s.label) }
    return report(out, verdict, {
      cpus: availableParallelism(),
      loadAverage1m: load,
      measuredS: round((performance.now() - measuringFrom) / 1000, 1),
      wallS: round((performance.now() - started) / 1000, 1)
    }, { nodes, names, timeoutMs, slow: slowIdx, frozen: frozenIdx, delayMs: [minDelay, maxDelay] })
  } catch (err) {
    // loud: the report says why, stderr says it, the exit code says it
    process.stderr.write(`ipns-slow bench failed: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
    return { error: errName(err), ...(err instanceof Error && err.message.startsWith('connections bypass') ? { detail: err.message } : {}) }
  } finally {
    await bounded('stopping the testnets', 30_000, Promise.allSettled(stacks.map(async s => { await s.stop() }))).catch(() => {})
    await closeProxies()
    clearTimeout(watchdog)
  }
}

function at (o: unknown, ...path: string[]): number {
  let v: unknown = o
  for (const p of path) v = (v as Rec | undefined)?.[p]
  return typeof v === 'number' ? v : NaN
}

function report (out: Record<string, Rec>, onlyThroughProxies: Rec, machine: Rec, setup: Rec): Rec {
  const sb = out.swarmbus
  const he = out.helia
  const ratio = (a: number, b: number): number => round(a / b, 2)
  const pair = (...path: string[]): Rec => ({ swarmbus: at(sb, ...path), helia: at(he, ...path), swarmbusOverHelia: ratio(at(sb, ...path), at(he, ...path)) })
  const sbP95 = at(sb, 'uncachedResolve', 'ms', 'p95')
  const heP95 = at(he, 'uncachedResolve', 'ms', 'p95')
  const sbConc = at(sb, 'concurrentDistinct', 'meanWallMs')
  const heConc = at(he, 'concurrentDistinct', 'meanWallMs')
  return {
    setup: {
      ...setup,
      note: 'nodes in `slow` and `frozen` sit behind TCP proxies on both testnets; every member reaches them only there. Proxies forward plainly during setup and publishing, then slow (every chunk delayed) or freeze (nothing moves, sockets open). Resolver: node 0, a member that published nothing; a resolve that times out or fails counts as failed, not in the latency'
    },
    onlyThroughProxies,
    machine,
    swarmbus: sb,
    helia: he,
    ...(out['swarmbus-no-ra'] !== undefined ? { swarmbusNoRouteAround: out['swarmbus-no-ra'] } : {}),
    comparison: {
      basis: 'this run: both testnets up in one process, measured interleaved, the same per-resolve timeout',
      uncachedP50Ms: pair('uncachedResolve', 'ms', 'p50'),
      uncachedP95Ms: { ...pair('uncachedResolve', 'ms', 'p95'), target: '<= 0.5' },
      uncachedFailed: { swarmbus: at(sb, 'uncachedResolve', 'failed'), helia: at(he, 'uncachedResolve', 'failed'), of: at(sb, 'uncachedResolve', 'attempted') },
      concurrentDistinct100WallMs: { ...pair('concurrentDistinct', 'meanWallMs'), heliaOverSwarmbus: ratio(heConc, sbConc), target: 'heliaOverSwarmbus >= 5' },
      ...(out['swarmbus-no-ra'] !== undefined
        ? {
            routeAroundOff: {
              uncachedP50Ms: at(out['swarmbus-no-ra'], 'uncachedResolve', 'ms', 'p50'),
              uncachedP95Ms: at(out['swarmbus-no-ra'], 'uncachedResolve', 'ms', 'p95'),
              uncachedFailed: at(out['swarmbus-no-ra'], 'uncachedResolve', 'failed'),
              concurrentDistinct100WallMs: at(out['swarmbus-no-ra'], 'concurrentDistinct', 'meanWallMs'),
              swarmbusOverRouteAroundOffP95: ratio(sbP95, at(out['swarmbus-no-ra'], 'uncachedResolve', 'ms', 'p95'))
            }
          }
        : {})
    },
    targets: {
      uncachedP95AtMostHalfOfHelia: sbP95 <= 0.5 * heP95,
      concurrentDistinctAtLeast5xFaster: sbConc * 5 <= heConc,
      caveat: 'Helia resolves that failed are not in its latency figures; see uncachedFailed and the runs\' failed counts'
    }
  }
}
