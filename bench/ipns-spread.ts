/**
 * IPNS resolves on testnets spread over processes (`npm run bench --
 * ipns-spread`, not in the default run). In the one-process testnets of
 * src/bench/ipns.ts both ends of every DHT RPC share one event loop, so CPU,
 * not the network, bounds 100 concurrent resolves; a real resolver's peers
 * run on other machines. Here the peers run in other processes.
 *
 * Layout, the same for both stacks — swarmbus, and the reference stack
 * (@helia/ipns 10.1 over js-libp2p + kad-dht, createHeliaNode in
 * src/bench/helia-reference.ts): a 20-node TCP loopback testnet whose node 0,
 * the RESOLVER (a DHT server that publishes nothing), lives in this process,
 * and whose 19 other nodes live in child processes (default 2: nodes 1–10
 * and 11–19), each forked from dist-bench/bench/spread-worker.js and driven over
 * the IPC channel with small JSON messages (bigints and keys as strings).
 * Children start their nodes (memory repos, seeded identities) and report
 * their addresses; every process gets every address and dials its share of
 * the full mesh (each pair once, 4 dials in flight per process); then, bounded
 * in time, everyone waits until every routing table holds N - 1 peers, with
 * one self lookup for each node still short after 500 ms (as createTestnet).
 *
 * The stacks run ONE AFTER THE OTHER (swarmbus, then Helia): a stack's
 * children and resolver are stopped before the next stack's start, so an idle
 * testnet never shares the 2 cores with a measured one. Names: keys are made
 * first, then `samples + runs × names` names (default 20 + 2 × 100) are
 * published from the children, each to a CID value (cidFor), 4 at a time per
 * child; the parent gets back what it resolves (swarmbus: the k51… name;
 * Helia: the base58 of the public key's multihash, resolved as a multihash).
 *
 * Measured from the resolver, every resolve uncached (nocache on both stacks:
 * swarmbus skips the IPNS actor's cache, Helia its local store), with a 30 s
 * deadline per resolve, and checked against what was published (value and
 * sequence; swarmbus's answer must come from the DHT):
 * - serial resolves of `samples` names: p50/p95, and the CPU time of the
 *   resolver process and of the children per resolve;
 * - `runs` rounds (default 2) of 100 concurrent resolves of 100 distinct
 *   names, each round on names not resolved before: wall time, ok, failed
 *   (by error kind), wrong, and the CPU time (process.cpuUsage, worker
 *   threads included) the resolver process and each child spent meanwhile,
 *   and how long each one's event loop was busy (eventLoopUtilization's
 *   active time: wall time, so on a loaded host it counts waiting for a core
 *   too; close to the round's wall time, that process bounded the round);
 * - in both, the DHT operations the resolver asked for (swarmbus: its swarm
 *   actor's dht.* commands; Helia: @helia/ipns's routing calls), so a cost
 *   can be told apart from a change in how many lookups a resolve makes;
 * - setup (time, whether the mesh settled, routing-table sizes, publish time
 *   and errors), each process's idle CPU once the names are up, the 1-minute
 *   load average along the run, and the RSS of every process.
 * Ratios (Helia over swarmbus): the median concurrent wall time (the mean
 * of the two rounds when there are two), and the serial p50 and p95.
 *
 * Everything is bounded: every IPC call and step has a deadline; a child
 * exits by itself (its nodes stopped) when told, when its IPC channel closes,
 * or after 15 minutes; the parent kills a child that has not exited 20 s after
 * being told, kills every child left when it exits, and gives up after 18
 * minutes. Progress goes to stderr; stdout carries only main.ts's JSON.
 */
import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { createNode } from '../src/node/create-node.js'
import { routingTableOf } from '../src/actors/swarm/libp2p/routing-table.js'
import { Errors, bounded, cidFor, cpuSince, errName, idleCpuPercent, load1m, ms, pool, rssMB } from './ipns.js'
import { startLoopProbe } from './loop-probe.js'
import { round, summarize } from './stats.js'
import type { ChildProcess } from 'node:child_process'
import type { PublicKey } from '@libp2p/interface'
import type { Rec } from './ipns.js'

export type StackLabel = 'swarmbus' | 'helia'

// ───────────────────────────── one node, either stack ─────────────────────────────

/** What the bench does with a node, the same on both stacks (used by the parent and by spread-worker.ts). */
export interface BenchNode {
  readonly peerId: string
  /** its first listen address, with /p2p/<peerId> */
  readonly addr: string
  dial (addr: string): Promise<void>
  routingTableSize (): Promise<number>
  /** one lookup of its own id: kad-dht offers every responder to the routing table */
  selfLookup (signal: AbortSignal): Promise<void>
  generateKey (key: string): Promise<void>
  /** `name`: what the resolver passes to resolve() (swarmbus: the k51… name; Helia: base58btc of the public key's multihash) */
  publish (key: string, value: string): Promise<{ name: string, sequence: bigint }>
  /** an uncached resolve (nocache) */
  resolve (name: string, timeoutMs: number): Promise<{ value: string, sequence: bigint | undefined, source?: string }>
  /** DHT operations this node has asked for so far (swarmbus: the swarm actor's dht.* commands; Helia: @helia/ipns's routing calls) */
  dhtCalls (): Promise<Record<string, number>>
  stop (): Promise<void>
}

export async function openBenchNode (stack: StackLabel, seed: number, options: { networkThread?: boolean } = {}): Promise<BenchNode> {
  if (stack === 'swarmbus') {
    const node = await createNode({ loopback: true, seed, ...(options.networkThread === true ? { networkThread: true } : {}) })
    const self = peerIdFromString(node.peerId).toMultihash().bytes
    return {
      peerId: node.peerId,
      addr: node.multiaddrs[0] ?? '',
      dial: async addr => { await node.ask({ type: 'swarm.dial', multiaddr: addr }, { timeoutMs: 10_000 }) },
      routingTableSize: async () => (await node.ask({ type: 'swarm.status' }, { timeoutMs: 10_000 })).routingTableSize,
      selfLookup: async signal => {
        for await (const _ of node.stream({ type: 'dht.closestPeers', key: self }, { timeoutMs: 10_000, signal })) {
          // every responder is offered to the routing table
        }
      },
      generateKey: async key => { await node.ask({ type: 'key.generate', name: key }, { timeoutMs: 30_000 }) },
      publish: async (key, value) => {
        const r = await node.ask({ type: 'ipns.publish', key, value }, { timeoutMs: 30_000 })
        return { name: r.name, sequence: r.sequence }
      },
      resolve: async (name, timeoutMs) => {
        const r = await node.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs })
        return { value: r.value, sequence: r.sequence, source: r.source }
      },
      dhtCalls: async () => {
        const status = await node.ask({ type: 'swarm.status' }, { timeoutMs: 10_000 })
        const swarm = status.actors.find(a => a.name === 'swarm')
        const r = status.dhtRequests
        return {
          ...Object.fromEntries(Object.entries(swarm?.commands ?? {}).filter(([k]) => k.startsWith('dht.')).map(([k, c]) => [k, c.served + c.failed])),
          ...(r !== undefined ? { 'streams.opened': r.streamsOpened, 'streams.reused': r.streamsReused, 'streams.retried': r.streamsRetried } : {})
        }
      },
      stop: async () => { await node.stop() }
    }
  }
  const { createHeliaNode } = await import('./helia-reference.js')
  const node = await createHeliaNode({ seed })
  return {
    peerId: node.peerId,
    addr: node.multiaddrs[0] ?? '',
    dial: async addr => { await node.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(10_000) }) },
    routingTableSize: async () => routingTableOf(node.libp2p.services.dht).size,
    selfLookup: async signal => {
      for await (const _ of node.libp2p.services.dht.getClosestPeers(node.libp2p.peerId.toMultihash().bytes, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })) {
        // every responder is offered to the routing table
      }
    },
    generateKey: async key => { await node.keychain.generateKey(key) },
    publish: async (key, value) => {
      const r = await node.name.publish(key, CID.parse(value.replace(/^\/ipfs\//, '')), { signal: AbortSignal.timeout(30_000) })
      const publicKey = r.publicKey as unknown as PublicKey
      return { name: base58btc.baseEncode(publicKey.toMultihash().bytes), sequence: r.record.sequence ?? -1n }
    },
    resolve: async (name, timeoutMs) => {
      let last: { value: string, sequence: bigint | undefined } | undefined
      for await (const r of node.name.resolve(Digest.decode(base58btc.baseDecode(name)), { nocache: true, signal: AbortSignal.timeout(timeoutMs) })) {
        last = { value: r.value, sequence: r.record.sequence }
      }
      if (last === undefined) throw new Error('no result')
      return last
    },
    dhtCalls: async () => ({ 'routing.get': node.routingCalls.get, 'routing.put': node.routingCalls.put }),
    stop: async () => { await node.stop() }
  }
}

/** Node a dials node b (a < b) when a + b is even, else b dials a: every pair once, the dials shared out evenly. */
const diallerOf = (a: number, b: number): number => (a + b) % 2 === 0 ? a : b

/** The mesh dials of the nodes this process holds (indices into `addrs`), 4 in flight. */
export async function dialMesh (mine: Map<number, BenchNode>, addrs: string[]): Promise<{ dials: number, failedDials: number, errors: Record<string, number> }> {
  const pairs: Array<[BenchNode, string]> = []
  for (let a = 0; a < addrs.length; a++) {
    for (let b = a + 1; b < addrs.length; b++) {
      const from = diallerOf(a, b)
      const node = mine.get(from)
      if (node !== undefined) pairs.push([node, addrs[from === a ? b : a] ?? ''])
    }
  }
  const errors = new Errors()
  let failedDials = 0
  await pool(pairs.length, 4, async i => {
    const [node, addr] = pairs[i] as [BenchNode, string]
    await node.dial(addr).catch(err => { failedDials++; errors.add(err) })
  })
  return { dials: pairs.length, failedDials, errors: errors.list() }
}

// ───────────────────────────── the IPC protocol ─────────────────────────────

export interface NodeInfo { index: number, peerId: string, addr: string }
export interface PublishJob { j: number, index: number, key: string, value: string }

/** no arguments, or nothing to report */
type None = Record<never, never>

/** parent → child: each request, and its reply */
export interface ChildCalls {
  /** start nodes `indices` (seed + index each) */
  start: { args: { stack: StackLabel, seed: number, indices: number[] }, reply: { nodes: NodeInfo[] } }
  /** every node's address by testnet index: dial this process's share of the mesh */
  mesh: { args: { addrs: string[] }, reply: { dials: number, failedDials: number, errors: Record<string, number> } }
  tables: { args: None, reply: { sizes: Array<[index: number, size: number]> } }
  /** start one self lookup on each of these nodes (replies at once) */
  selfLookup: { args: { indices: number[] }, reply: None }
  /** the mesh wait is over: stop the lookups still running */
  meshDone: { args: None, reply: None }
  keys: { args: { jobs: Array<{ index: number, key: string }> }, reply: { errors: Record<string, number> } }
  /** sequence as a decimal string */
  publish: { args: { jobs: PublishJob[] }, reply: { published: Array<{ j: number, name: string, sequence: string }>, errors: Record<string, number> } }
  /** the process's CPU time so far (µs, worker threads included), its event loop's busy wall time (ms) and RSS */
  usage: { args: None, reply: { cpuUs: number, loopActiveMs: number, rssMB: number } }
}
export type ChildCall = { [K in keyof ChildCalls]: { type: K } & ChildCalls[K]['args'] }[keyof ChildCalls]
export type ToChild = { id: number, call: ChildCall } | { stop: true }
export type FromChild = { id: number, ok: true, reply: unknown } | { id: number, ok: false, error: string }

/** dist-bench/bench/spread-worker.js, next to this module once built */
const WORKER = new URL('./spread-worker.js', import.meta.url)

const live = new Set<ChildProcess>()
let exitHook = false
/** whatever happens to the parent, no child outlives it */
function killLiveOnExit (): void {
  if (exitHook) return
  exitHook = true
  process.on('exit', () => { for (const p of live) p.kill('SIGKILL') })
}

class Child {
  private readonly proc: ChildProcess
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private nextId = 1
  private gone: string | undefined
  readonly exited: Promise<void>

  constructor (readonly label: string) {
    // the child's stdout goes to our stderr: stdout carries only the bench's JSON
    // and none of our own node flags (--expose-gc, --input-type…) are passed on
    this.proc = fork(fileURLToPath(WORKER), [], { stdio: ['ignore', 2, 2, 'ipc'], serialization: 'json', execArgv: [] })
    live.add(this.proc)
    killLiveOnExit()
    this.exited = new Promise(resolve => {
      this.proc.once('exit', (code, signal) => {
        live.delete(this.proc)
        this.gone = `child ${label} exited (${signal ?? code ?? '?'})`
        for (const p of this.pending.values()) p.reject(new Error(this.gone))
        this.pending.clear()
        resolve()
      })
    })
    this.proc.on('error', err => { process.stderr.write(`ipns-spread: child ${label}: ${err.message}\n`) })
    this.proc.on('message', (m: FromChild) => {
      const p = this.pending.get(m.id)
      if (p === undefined) return
      this.pending.delete(m.id)
      if (m.ok) p.resolve(m.reply)
      else p.reject(new Error(`child ${label}: ${m.error}`))
    })
  }

  async call<K extends keyof ChildCalls> (call: Extract<ChildCall, { type: K }>, timeoutMs: number): Promise<ChildCalls[K]['reply']> {
    if (this.gone !== undefined) throw new Error(this.gone)
    const id = this.nextId++
    const reply = new Promise<unknown>((resolve, reject) => { this.pending.set(id, { resolve, reject }) })
    this.proc.send({ id, call } satisfies ToChild)
    try {
      return await bounded(`child ${this.label}: ${call.type}`, timeoutMs, reply) as ChildCalls[K]['reply']
    } finally {
      this.pending.delete(id)
    }
  }

  /** asks it to stop its nodes and exit; kills it if it has not within 20 s */
  async stop (): Promise<void> {
    if (this.gone === undefined && this.proc.connected) {
      try { this.proc.send({ stop: true } satisfies ToChild) } catch { /* already going */ }
    }
    const exited = await bounded('child exit', 20_000, this.exited).then(() => true, () => false)
    if (!exited) {
      process.stderr.write(`ipns-spread: child ${this.label} did not exit in 20 s, killing it\n`)
      this.proc.kill('SIGKILL')
      await bounded('child kill', 5_000, this.exited).catch(() => {})
    }
  }
}

// ───────────────────────────── the run ─────────────────────────────

export interface IpnsSpreadBenchOptions {
  /** testnet size (default 20) */
  nodes?: number
  /** child processes holding nodes 1..N-1 (default 2) */
  children?: number
  /** concurrent resolves per round, each of a distinct name (default 100) */
  names?: number
  /** rounds of concurrent resolves, each on fresh names (default 2) */
  runs?: number
  /** serial uncached resolves (default 20) */
  samples?: number
  /** deadline of each resolve (default 30 s) */
  timeoutMs?: number
  /** the stacks, in this order (default swarmbus, then helia) */
  stacks?: StackLabel[]
  seed?: number
  /** swarmbus: the resolver's libp2p node in its own worker thread (createNode({ networkThread: true })); default off */
  resolverNetworkThread?: boolean
}

const SETTLE_TIMEOUT_MS = 45_000

export async function benchIpnsSpread (options: IpnsSpreadBenchOptions = {}): Promise<Rec> {
  const o = {
    nodes: options.nodes ?? 20,
    children: options.children ?? 2,
    names: options.names ?? 100,
    runs: options.runs ?? 2,
    samples: options.samples ?? 20,
    timeoutMs: options.timeoutMs ?? 30_000,
    stacks: options.stacks ?? ['swarmbus', 'helia'] as StackLabel[],
    seed: options.seed ?? 9_900,
    resolverNetworkThread: options.resolverNetworkThread ?? false
  }
  if (!Number.isInteger(o.nodes) || o.nodes < 2 || o.nodes > 100) throw new RangeError('nodes must be an integer from 2 to 100')
  if (!Number.isInteger(o.children) || o.children < 1 || o.children > o.nodes - 1) throw new RangeError('children must be an integer from 1 to nodes - 1')
  if (!existsSync(WORKER)) throw new Error(`${fileURLToPath(WORKER)} is missing: run the bench from dist/ (npm run bench -- ipns-spread)`)

  const watchdog = setTimeout(() => {
    process.stderr.write('ipns-spread bench: still running after 18 minutes, giving up\n')
    process.exit(3) // the exit hook kills the children
  }, 18 * 60_000)
  watchdog.unref()

  const started = performance.now()
  const load: Record<string, number> = { start: load1m() }
  const total = o.samples + o.runs * o.names
  const values = await Promise.all(Array.from({ length: total }, async (_, j) => `/ipfs/${(await cidFor(o.seed, j)).toString()}`))
  // children hold nodes 1..N-1 in contiguous blocks, sizes differing by at most one
  const blocks: number[][] = Array.from({ length: o.children }, () => [])
  for (let i = 1; i < o.nodes; i++) blocks[Math.floor((i - 1) * o.children / (o.nodes - 1))]?.push(i)

  const out: Record<string, Rec> = {}
  try {
    for (const label of o.stacks) {
      try {
        out[label] = await runStack(label, o, values, blocks, load)
      } catch (err) {
        process.stderr.write(`ipns-spread: ${label} failed: ${errName(err)}\n`)
        process.exitCode = 1
        out[label] = { error: errName(err) }
      }
    }
  } finally {
    clearTimeout(watchdog)
  }
  load.end = load1m()

  const sb = out.swarmbus
  const he = out.helia
  const ratio = (a: number, b: number): number => round(a / b, 2)
  const pair = (...path: string[]): Rec => ({ swarmbus: at(sb, ...path), helia: at(he, ...path), heliaOverSwarmbus: ratio(at(he, ...path), at(sb, ...path)) })
  return {
    layout: {
      nodes: o.nodes,
      resolver: 'testnet node 0, in the bench process: a DHT server that publishes nothing',
      children: blocks.map(b => ({ nodes: b.length, indices: `${b[0] ?? ''}–${b.at(-1) ?? ''}` })),
      transport: 'TCP on 127.0.0.1, full mesh',
      order: `one stack after the other (${o.stacks.join(', then ')}); a stack's processes are stopped before the next one starts`,
      names: `${o.samples} for the serial resolves + ${o.runs} × ${o.names} for the concurrent rounds, published from the children`,
      resolveTimeoutMs: o.timeoutMs,
      uncached: 'nocache on every resolve (swarmbus: past the IPNS actor\'s cache; Helia: past its local store)'
    },
    machine: { cpus: availableParallelism(), loadAverage1m: load, wallS: round((performance.now() - started) / 1000, 1) },
    swarmbus: sb,
    helia: he,
    ratios: {
      concurrentMedianWallMs: pair('concurrentMedianWallMs'),
      uncachedP95Ms: pair('uncached', 'p95'),
      uncachedP50Ms: pair('uncached', 'p50')
    },
    notes: {
      cpuMs: 'process.cpuUsage (user + system, worker threads included) while the phase ran; resolver = the bench process, children = each child process',
      eventLoopActiveMs: 'performance.eventLoopUtilization().active of each process\'s main thread while the round ran: wall time its event loop was busy, including time it waited for a core on a loaded host, so not CPU time; near wallMs means that process was the bottleneck',
      resolverDhtCalls: 'DHT operations the resolver asked for during the phase: swarmbus, its swarm actor\'s dht.* commands (dht.getValues: one lookup) and the streams its DHT requests opened, reused, and retried fresh after a reused one failed (streams.*); Helia, @helia/ipns\'s routing calls (routing.get: one whole kad-dht GET)',
      oneProcessReference: 'the issue: @helia/ipns 100 concurrent distinct resolves took 12.7 s with the 20 nodes in one process, 8.1 s with them over 2 processes'
    }
  }
}

function at (o: unknown, ...path: string[]): number {
  let v: unknown = o
  for (const p of path) v = (v as Rec | undefined)?.[p]
  return typeof v === 'number' ? v : NaN
}

/** what grew between two dhtCalls() readings */
const grown = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]).filter(([, d]) => d !== 0))

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function runStack (label: StackLabel, o: { nodes: number, names: number, runs: number, samples: number, timeoutMs: number, seed: number, resolverNetworkThread: boolean }, values: string[], blocks: number[][], load: Record<string, number>): Promise<Rec> {
  const say = (s: string): void => { process.stderr.write(`ipns-spread: ${label}: ${s}\n`) }
  const t0 = performance.now()
  const children: Child[] = []
  let resolver: BenchNode | undefined
  // kept apart so that a failed setup still stops the resolver, whenever it comes up
  const opening = openBenchNode(label, o.seed, { networkThread: o.resolverNetworkThread })
  try {
    // ── setup: nodes, mesh, routing tables
    const childOf = new Map<number, Child>()
    const starting = blocks.map(async (indices, c) => {
      const child = new Child(`${label}-${c}`)
      children.push(child)
      for (const i of indices) childOf.set(i, child)
      return await child.call({ type: 'start', stack: label, seed: o.seed, indices }, 180_000)
    })
    const [mine, ...started] = await Promise.all([bounded('resolver start', 60_000, opening), ...starting])
    resolver = mine
    const addrs: string[] = new Array<string>(o.nodes).fill('')
    addrs[0] = resolver.addr
    for (const r of started) for (const n of r.nodes) addrs[n.index] = n.addr
    const startMs = performance.now() - t0
    say(`${o.nodes} nodes up (${children.length} children) in ${ms(startMs)} ms`)

    const tMesh = performance.now()
    const self = new Map([[0, resolver]])
    const meshes = await Promise.all([
      bounded('resolver mesh dials', 120_000, dialMesh(self, addrs)),
      ...children.map(async c => await c.call({ type: 'mesh', addrs }, 120_000))
    ])
    const target = o.nodes - 1
    const refreshed = new Set<number>()
    const lookups: Array<Promise<void>> = []
    const done = new AbortController()
    let sizes: number[] = []
    for (let round = 0; round < 2_000; round++) {
      sizes = new Array<number>(o.nodes).fill(0)
      sizes[0] = await resolver.routingTableSize()
      for (const r of await Promise.all(children.map(async c => await c.call({ type: 'tables' }, 10_000)))) for (const [i, n] of r.sizes) sizes[i] = n
      if (sizes.every(n => n >= target)) break
      const elapsed = performance.now() - tMesh
      if (elapsed > SETTLE_TIMEOUT_MS) break
      if (elapsed > 500) {
        const short = sizes.map((n, i) => n < target && !refreshed.has(i) ? i : -1).filter(i => i >= 0)
        for (const i of short) refreshed.add(i)
        if (short.includes(0)) lookups.push(resolver.selfLookup(done.signal).catch(() => {}))
        for (const c of children) {
          const theirs = short.filter(i => childOf.get(i) === c)
          if (theirs.length > 0) await c.call({ type: 'selfLookup', indices: theirs }, 10_000)
        }
      }
      await sleep(50)
    }
    done.abort()
    await bounded('self lookups', 15_000, Promise.all(lookups)).catch(() => {})
    await Promise.all(children.map(async c => await c.call({ type: 'meshDone' }, 20_000)))
    const setupMs = performance.now() - t0
    const settled = sizes.every(n => n >= target)
    say(`mesh ${settled ? 'settled' : 'NOT settled'} in ${ms(performance.now() - tMesh)} ms, routing tables ${Math.min(...sizes)}–${Math.max(...sizes)}`)
    load[`${label}Up`] = load1m()

    // ── keys, then names, from the children
    const total = values.length
    const publisherOf = (j: number): number => 1 + (j % (o.nodes - 1))
    const key = (j: number): string => `spread-${j}`
    const byChild = <T>(make: (j: number) => T): Map<Child, T[]> => {
      const m = new Map<Child, T[]>(children.map(c => [c, []]))
      for (let j = 0; j < total; j++) m.get(childOf.get(publisherOf(j)) as Child)?.push(make(j))
      return m
    }
    const tKeys = performance.now()
    const keyErrors = await Promise.all([...byChild(j => ({ index: publisherOf(j), key: key(j) }))].map(async ([c, jobs]) => (await c.call({ type: 'keys', jobs }, 300_000)).errors))
    const keysMs = performance.now() - tKeys
    const tPub = performance.now()
    const names: string[] = new Array<string>(total).fill('')
    const sequences: bigint[] = new Array<bigint>(total).fill(-1n)
    const publishErrors: Array<Record<string, number>> = []
    for (const r of await Promise.all([...byChild(j => ({ j, index: publisherOf(j), key: key(j), value: values[j] as string }))].map(async ([c, jobs]) => await c.call({ type: 'publish', jobs }, 600_000)))) {
      publishErrors.push(r.errors)
      for (const p of r.published) { names[p.j] = p.name; sequences[p.j] = BigInt(p.sequence) }
    }
    const publishMs = performance.now() - tPub
    const publishedOk = names.filter(n => n !== '').length
    say(`${publishedOk}/${total} names published in ${ms(publishMs)} ms`)
    load[`${label}Published`] = load1m()

    // ── idle CPU of every process, before measuring
    const idle = await Promise.all([idleCpuPercent(2_000), ...children.map(async c => {
      const a = await c.call({ type: 'usage' }, 10_000)
      await sleep(2_000)
      const b = await c.call({ type: 'usage' }, 10_000)
      return round((b.cpuUs - a.cpuUs) / 1000 / 2_000 * 100, 1)
    })])

    const usage = async (): Promise<Array<{ cpuUs: number, loopActiveMs: number, rssMB: number }>> => await Promise.all(children.map(async c => await c.call({ type: 'usage' }, 10_000)))
    const resolveOne = async (j: number): Promise<'ok' | 'wrong'> => {
      const name = names[j] ?? ''
      if (name === '') throw new Error(`name ${j} was not published`)
      const r = await bounded('resolve', o.timeoutMs + 5_000, (resolver as BenchNode).resolve(name, o.timeoutMs))
      return r.value === values[j] && r.sequence === sequences[j] && (r.source === undefined || r.source === 'dht') ? 'ok' : 'wrong'
    }

    // ── serial uncached resolves of names 0..samples-1
    const lat: number[] = []
    const cpu: number[] = []
    const serialErrors = new Errors()
    let serialWrong = 0
    let serialFailed = 0
    const u0 = await usage()
    const d0 = await resolver.dhtCalls()
    for (let j = 0; j < o.samples; j++) {
      const t = performance.now()
      const c = process.cpuUsage()
      try {
        if (await resolveOne(j) === 'wrong') serialWrong++
        lat.push(performance.now() - t)
        cpu.push(cpuSince(c))
      } catch (err) {
        serialFailed++
        serialErrors.add(err)
      }
    }
    const u1 = await usage()
    const serialDht = grown(d0, await resolver.dhtCalls())
    const uncached = summarize(lat)
    say(`serial uncached p50 ${uncached.p50} ms, p95 ${uncached.p95} ms`)
    load[`${label}AfterSerial`] = load1m()

    // ── rounds of concurrent uncached resolves, each on names not resolved before
    const concurrent: Rec[] = []
    for (let r = 0; r < o.runs; r++) {
      const first = o.samples + r * o.names
      const errors = new Errors()
      let ok = 0
      let wrong = 0
      let failed = 0
      const before = await usage()
      const dhtBefore = await resolver.dhtCalls()
      const loop = performance.eventLoopUtilization()
      // the resolver's event-loop delay, measured from another thread (loop-probe.ts)
      const probe = await startLoopProbe()
      const c = process.cpuUsage()
      const t = performance.now()
      await Promise.all(Array.from({ length: o.names }, async (_, k) => {
        try {
          if (await resolveOne(first + k) === 'ok') ok++
          else wrong++
        } catch (err) {
          failed++
          errors.add(err)
        }
      }))
      const wallMs = performance.now() - t
      const resolverCpu = cpuSince(c)
      const resolverLoop = performance.eventLoopUtilization(loop).active
      const loopDelay = await probe.stop()
      const after = await usage()
      const dht = grown(dhtBefore, await resolver.dhtCalls())
      concurrent.push({
        names: `${first}–${first + o.names - 1}`,
        wallMs: ms(wallMs),
        ok,
        failed,
        wrong,
        errors: errors.list(),
        cpuMs: { resolver: ms(resolverCpu), children: after.map((a, i) => ms((a.cpuUs - (before[i]?.cpuUs ?? NaN)) / 1000)) },
        eventLoopActiveMs: { resolver: ms(resolverLoop), children: after.map((a, i) => ms(a.loopActiveMs - (before[i]?.loopActiveMs ?? NaN))) },
        resolverEventLoopDelayProbe: loopDelay,
        resolverDhtCalls: dht,
        load1m: load1m()
      })
      say(`concurrent round ${r + 1}: ${ok}/${o.names} ok in ${ms(wallMs)} ms`)
    }
    load[`${label}AfterConcurrent`] = load1m()
    const end = await usage()

    return {
      setup: {
        ms: ms(setupMs),
        nodesUpMs: ms(startMs),
        settled,
        routingTables: `${Math.min(...sizes)}–${Math.max(...sizes)}`,
        routingTableSizes: sizes,
        dials: meshes.reduce((a, m) => a + m.dials, 0),
        failedDials: meshes.reduce((a, m) => a + m.failedDials, 0),
        dialErrors: meshes.map(m => m.errors).filter(e => Object.keys(e).length > 0),
        selfLookups: refreshed.size,
        keysMs: ms(keysMs),
        keyErrors: keyErrors.filter(e => Object.keys(e).length > 0),
        publish: { names: total, ok: publishedOk, wallMs: ms(publishMs), concurrency: `4 per child × ${children.length}`, errors: publishErrors.filter(e => Object.keys(e).length > 0) }
      },
      idleCpuPercentOfOneCore: { resolver: idle[0], children: idle.slice(1) },
      uncached: {
        ...uncached,
        ok: o.samples - serialFailed - serialWrong,
        failed: serialFailed,
        wrong: serialWrong,
        errors: serialErrors.list(),
        resolverCpuMsPerResolve: summarize(cpu),
        childrenCpuMsPerResolve: u1.map((a, i) => round((a.cpuUs - (u0[i]?.cpuUs ?? NaN)) / 1000 / Math.max(1, o.samples), 1)),
        resolverDhtCalls: serialDht
      },
      concurrent,
      concurrentMedianWallMs: ms(median(concurrent.map(x => x.wallMs as number))),
      rssMB: { resolver: rssMB(), children: end.map(u => u.rssMB) }
    }
  } finally {
    const tStop = performance.now()
    await Promise.allSettled([
      ...children.map(async c => { await c.stop() }),
      bounded('resolver stop', 75_000, opening.then(async n => { await n.stop() }))
    ])
    say(`stopped in ${ms(performance.now() - tStop)} ms`)
  }
}
