/**
 * A testnet whose nodes live in child processes: `createTestnet({ nodes,
 * processes })`. The parent hosts no node; it forks `processes` children
 * (remote/testnet-child.ts), places node i in child i mod processes, and
 * drives every node through a RemoteNode handle: the same typed ask, stream,
 * on('progress') and stop as a SwarmNode, over IPC, each with a deadline.
 *
 * Bootstrap is sparse, as on a real network: node 0 starts alone; every
 * later node joins through `bootstrapPeers` (default 3) nodes picked at
 * random (seeded) among those already up, and fills its routing table from
 * there (swarm.bootstrap: dial, then a self lookup). Nodes start in waves of
 * up to 4 per child. The wait for routing tables is bounded; the report says
 * how full they got (min / median / max against the target), not just
 * whether they did.
 *
 * A child that dies (killed, crashed) is reported — `on('process-exit')`, and
 * every ask waiting on one of its nodes fails at once with StoppedError —
 * never hung on. stop() stops every child (each stops its nodes, then exits;
 * one that does not within 20 s is killed).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRng } from '../actors/runtime/rng.js'
import { ChildHost } from './remote/child-host.js'
import { RemoteNode } from './remote/remote-node.js'
import { testnetFaults } from './faults/testnet-faults.js'
import { checkDelay } from './faults/delay-proxy.js'
import type { ChildExit } from './remote/child-host.js'
import type { TestnetFaults } from './faults/testnet-faults.js'
import type { LinkDelay } from './faults/delay-proxy.js'
import type { ProcessStats, RemoteNodeOptions, StartedNode, StartSpec } from './remote/protocol.js'

export interface ProcessTestnetOptions {
  /** how many nodes (default 20, at most 1,000) */
  nodes?: number
  /** child processes hosting them (1 to 64, at most one per node) */
  processes: number
  /** node i gets seed base + i (stable peer ids); default random; also seeds the choice of bootstrap peers */
  seed?: number
  /** peers each node joins through (default 3), picked among the nodes started before it */
  bootstrapPeers?: number
  /** routing-table size to wait for (capped at nodes - 1; default 20, kad-dht's k) */
  target?: number
  /** give up waiting for routing tables after this long (default 60 s) */
  settleTimeoutMs?: number
  /** options for every node: plain data only, as they cross to the child */
  node?: RemoteNodeOptions
  /** options for node i only, over `node` (plain data too), e.g. `routeAround: false` on some nodes for an A/B in one network */
  nodeAt?: (index: number) => RemoteNodeOptions | undefined
  /** write node i's trace (JSONL) to the path this gives; undefined: none */
  traceAt?: (index: number) => string | undefined
  /**
   * put every node behind a delay proxy in its child, with this one-way delay
   * per chunk (`{}`: none yet), so that `net.faults` can change delays, stall,
   * freeze and partition (docs/testnets.md); default none: no proxies, no faults
   */
  faults?: LinkDelay
  /** nodes started at once per process (default 4; more starts faster when links are slow, each joining among fewer) */
  wave?: number
  /** the process of node i (default i mod processes), e.g. churn victims in a process of their own */
  placement?: (index: number) => number
}

export interface ProcessTestnetReport {
  settled: boolean
  elapsedMs: number
  startMs: number
  /** self lookups run for nodes still short of the target after the first second */
  refreshes: number
  routingTableSizes: number[]
  fill: { target: number, min: number, median: number, max: number }
}

export interface TestnetProcess {
  index: number
  pid: number | undefined
  /** the testnet indices of the nodes it hosts, including those add() put there */
  nodes: number[]
  /** false once it has exited (killed, crashed, stopped) */
  alive: boolean
}

export interface ProcessTestnet {
  nodes: RemoteNode[]
  /** the child processes as they are now (read afresh each time: add() and exits show) */
  readonly processes: TestnetProcess[]
  report: ProcessTestnetReport
  /** a child process exited before stop() (killed, crashed): its nodes are gone */
  on(event: 'process-exit', fn: (e: ChildExit & { nodes: number[] }) => void): () => void
  /** current routing-table sizes, node by node (-1 for a node that does not answer) */
  routingTableSizes(): Promise<number[]>
  /** the child process of each node, to kill it (churn) */
  host(process: number): ChildHost
  /**
   * what each live child process uses and holds (CPU, RSS, heap, active
   * handles and timers, requests in flight, its nodes); a child that does not
   * answer within timeoutMs (default 10 s) is left out
   */
  processStats(timeoutMs?: number): Promise<ProcessStats[]>
  /** latency, stalls, frozen peers, partitions (needs `faults` at creation) */
  faults: TestnetFaults
  /**
   * starts `count` more nodes (in `process`, default round robin over the
   * processes still alive), each joining through `bootstrapPeers` nodes
   * picked among the live ones; they are appended to `nodes` and returned
   */
  add(count: number, options?: { process?: number }): Promise<RemoteNode[]>
  stop(): Promise<void>
}

const WAVE_PER_PROCESS = 4
const START_TIMEOUT_MS = 120_000
const BOOTSTRAP_TIMEOUT_MS = 30_000

export async function createProcessTestnet (options: ProcessTestnetOptions): Promise<ProcessTestnet> {
  const n = options.nodes ?? 20
  const p = options.processes
  if (!Number.isInteger(n) || n < 1 || n > 1_000) throw new RangeError('nodes must be an integer from 1 to 1,000')
  if (!Number.isInteger(p) || p < 1 || p > 64 || p > n) throw new RangeError('processes must be an integer from 1 to 64, and at most nodes')
  const peers = options.bootstrapPeers ?? 3
  if (!Number.isInteger(peers) || peers < 1 || peers > 64) throw new RangeError('bootstrapPeers must be an integer from 1 to 64')
  const rng = createRng(options.seed ?? 0x5eed)
  const wave = (options.wave ?? WAVE_PER_PROCESS) * p
  if (!Number.isInteger(wave) || wave < 1) throw new RangeError('wave must be a positive integer')
  const started = performance.now()

  const hosts: ChildHost[] = []
  const exitListeners = new Set<(e: ChildExit & { nodes: number[] }) => void>()
  let stopping = false
  const delay = options.faults === undefined ? undefined : checkDelay(options.faults)
  const placed = new Map<number, number>()
  const placement = (i: number): number => {
    let proc = placed.get(i)
    if (proc === undefined) {
      proc = options.placement?.(i) ?? i % p
      if (!Number.isInteger(proc) || proc < 0 || proc >= p) throw new RangeError(`placement(${i}) gave ${proc}: not a process from 0 to ${p - 1}`)
      placed.set(i, proc)
    }
    return proc
  }
  const nodesOf = (proc: number): number[] => [...placed].filter(([, q]) => q === proc).map(([i]) => i).sort((a, b) => a - b)
  const stop = async (): Promise<void> => {
    stopping = true
    await Promise.allSettled(hosts.map(async h => await h.stop()))
  }
  try {
    for (const h of await Promise.all(Array.from({ length: p }, async (_, i) => await ChildHost.spawn(i)))) hosts.push(h)
    for (const h of hosts) {
      h.onExit(e => {
        if (stopping) return
        for (const fn of exitListeners) fn({ ...e, nodes: nodesOf(h.index) })
      })
    }

    const nodes = new Array<RemoteNode | undefined>(n)
    const up = new Map<number, string>()
    const spec = (index: number): StartSpec => {
      const pool = [...up].filter(([i]) => hosts[placement(i)]?.alive === true).map(([, addr]) => addr)
      const bootstrap: string[] = []
      while (bootstrap.length < Math.min(peers, pool.length)) bootstrap.push(pool.splice(rng.int(pool.length), 1)[0] as string)
      const trace = options.traceAt?.(index)
      return {
        index,
        bootstrap,
        // joining over slow links (faults) on a busy machine takes longer than a lone node's default 10 s
        options: { bootstrapTimeoutMs: BOOTSTRAP_TIMEOUT_MS, ...options.node, ...options.nodeAt?.(index) },
        ...(delay !== undefined ? { faults: delay } : {}),
        ...(options.seed !== undefined ? { seed: options.seed + index } : {}),
        ...(trace !== undefined ? { trace } : {})
      }
    }
    const startWave = async (indices: number[]): Promise<void> => {
      const specs = indices.map(spec)
      const byHost = new Map<number, StartSpec[]>()
      for (const s of specs) byHost.set(placement(s.index), [...(byHost.get(placement(s.index)) ?? []), s])
      const results = await Promise.all([...byHost].map(async ([h, list]) =>
        await hosts[h]?.request({ t: 'start', nodes: list }, START_TIMEOUT_MS) as StartedNode[]))
      for (const list of results) {
        for (const s of list) {
          const host = hosts[placement(s.index)] as ChildHost
          nodes[s.index] = new RemoteNode(s.index, s.peerId, s.multiaddrs, host, options.nodeAt?.(s.index)?.defaultTimeoutMs ?? options.node?.defaultTimeoutMs)
          const addr = s.multiaddrs[0]
          if (addr !== undefined) up.set(s.index, addr)
        }
      }
    }
    for (let i = 0; i < n; i++) placement(i)
    await startWave([0])
    for (let i = 1; i < n; i += wave) {
      await startWave(Array.from({ length: Math.min(wave, n - i) }, (_, k) => i + k))
    }
    const all = nodes.map((node, i) => {
      if (node === undefined) throw new Error(`testnet node ${i} did not start`)
      return node
    })
    const startMs = performance.now() - started

    const sizesNow = async (): Promise<number[]> => await Promise.all(all.map(async node => {
      try {
        return (await node.ask({ type: 'swarm.status' }, { timeoutMs: 10_000 })).routingTableSize
      } catch {
        // a node that does not answer (its process died, say) counts as -1, and the report shows it
        return -1
      }
    }))
    const report = await settle(all, sizesNow, Math.min(n - 1, options.target ?? 20), options.settleTimeoutMs ?? 60_000, started, startMs)
    return {
      nodes: all,
      get processes () { return hosts.map(h => ({ index: h.index, pid: h.pid, nodes: nodesOf(h.index), alive: h.alive })) },
      report,
      on: (event, fn) => {
        if (event !== 'process-exit') throw new TypeError(`unknown event '${String(event)}'`)
        exitListeners.add(fn)
        return () => { exitListeners.delete(fn) }
      },
      routingTableSizes: sizesNow,
      host: i => {
        const h = hosts[i]
        if (h === undefined) throw new RangeError(`no testnet process ${i}`)
        return h
      },
      processStats: async (timeoutMs = 10_000) => {
        const got = await Promise.allSettled(hosts.filter(h => h.alive).map(async h => await h.stats(timeoutMs)))
        return got.flatMap(r => r.status === 'fulfilled' ? [r.value] : [])
      },
      faults: testnetFaults(delay !== undefined, () => all, hosts),
      add: async (count, where = {}) => {
        if (!Number.isInteger(count) || count < 1 || all.length + count > 1_000) throw new RangeError('add: count must be an integer from 1, and the testnet at most 1,000 nodes')
        const alive = hosts.filter(h => h.alive).map(h => h.index)
        if (where.process !== undefined && hosts[where.process]?.alive !== true) throw new RangeError(`add: process ${where.process} is not running`)
        if (alive.length === 0) throw new RangeError('add: no testnet process is running')
        const first = all.length
        const indices = Array.from({ length: count }, (_, k) => first + k)
        indices.forEach((i, k) => placed.set(i, where.process ?? alive[k % alive.length] as number))
        for (let k = 0; k < indices.length; k += wave) await startWave(indices.slice(k, k + wave))
        const added = indices.map(i => {
          const node = nodes[i]
          if (node === undefined) throw new Error(`testnet node ${i} did not start`)
          return node
        })
        all.push(...added)
        return added
      },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

async function settle (nodes: RemoteNode[], sizesNow: () => Promise<number[]>, target: number, timeoutMs: number, started: number, startMs: number): Promise<ProcessTestnetReport> {
  const t0 = performance.now()
  const refreshed = new Set<number>()
  const lookups: Array<Promise<void>> = []
  const done = new AbortController()
  let sizes = await sizesNow()
  while (!sizes.every(s => s >= target) && performance.now() - t0 < timeoutMs) {
    if (performance.now() - t0 > 1_000) {
      sizes.forEach((size, i) => {
        if (size >= target || refreshed.has(i)) return
        refreshed.add(i)
        lookups.push(selfLookup(nodes[i] as RemoteNode, done.signal))
      })
    }
    await sleep(250)
    sizes = await sizesNow()
  }
  done.abort()
  await Promise.all(lookups)
  const sorted = [...sizes].sort((a, b) => a - b)
  return {
    settled: sizes.every(s => s >= target),
    elapsedMs: performance.now() - started,
    startMs,
    refreshes: refreshed.size,
    routingTableSizes: sizes,
    fill: { target, min: sorted[0] ?? 0, median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 }
  }
}

async function selfLookup (node: RemoteNode, signal: AbortSignal): Promise<void> {
  try {
    const key = peerIdFromString(node.peerId).toMultihash().bytes
    for await (const _ of node.stream({ type: 'dht.closestPeers', key }, { timeoutMs: 15_000, signal })) {
      // kad-dht offers every peer it meets to the routing table
    }
  } catch {
    // a failed lookup only means this node fills more slowly (the report shows how full it got)
  }
}
