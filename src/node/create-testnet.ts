/**
 * createTestnet starts N real nodes on loopback (TCP on 127.0.0.1, or the
 * in-memory transport), connects them through the bus (swarm.dial), and waits
 * — bounded in time and rounds — until every routing table holds
 * min(N - 1, target) peers. Nodes short of the target after a while run one
 * self lookup (dht.closestPeers on their own id) to find the rest.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { setTimeout as sleep } from 'node:timers/promises'
import { meshPairs } from '../actors/swarm/libp2p/mesh.js'
import { createNode } from './create-node.js'
import { createProcessTestnet } from './process-testnet.js'
import type { NodeOptions, SwarmNode } from './create-node.js'
import type { ProcessTestnet, ProcessTestnetOptions } from './process-testnet.js'

export interface TestnetOptions {
  /** how many nodes (default 20; several hundred is beyond one process of this machine) */
  nodes?: number
  transport?: 'tcp' | 'memory'
  /** node i gets seed base + i (stable peer ids); default random */
  seed?: number
  /** routing-table size each node must reach (capped at nodes - 1; default 20, kad-dht's k) */
  target?: number
  /** 'full' dials every pair (fastest up to ~20 nodes), 'skip-ring' dials i+1, i+2, i+4, … */
  topology?: 'full' | 'skip-ring'
  /** give up waiting for routing tables after this long (default 30 s) */
  settleTimeoutMs?: number
  /** dials in flight at once (default 8) */
  concurrency?: number
  /**
   * where the others must reach node i, when not at its listen address (e.g.
   * a proxy in front of it); asked once per node, after every node started.
   * A node given an address never dials in the mesh: the other end of each of
   * its pairs dials it there, so every mesh connection to it passes that way.
   */
  reachAt?: (node: SwarmNode, index: number) => Promise<string | undefined>
  /** options for every node (repo is always memory) */
  node?: Omit<NodeOptions, 'repo' | 'seed' | 'transport' | 'loopback'>
  /** options for node i only, over `node` (e.g. its listen and announce addresses); asked just before it starts */
  nodeAt?: (index: number) => Promise<Omit<NodeOptions, 'repo' | 'seed' | 'transport' | 'loopback'>>
}

export interface Testnet {
  nodes: SwarmNode[]
  /** how the mesh came together */
  report: { settled: boolean, elapsedMs: number, dials: number, failedDials: number, refreshes: number, routingTableSizes: number[] }
  stop(): Promise<void>
}

/**
 * With `processes`, the nodes live in that many child processes and are
 * driven through handles (process-testnet.ts); without, in this process.
 */
export async function createTestnet (options: ProcessTestnetOptions): Promise<ProcessTestnet>
export async function createTestnet (options?: TestnetOptions): Promise<Testnet>
export async function createTestnet (options: TestnetOptions | ProcessTestnetOptions = {}): Promise<Testnet | ProcessTestnet> {
  if ('processes' in options) return await createProcessTestnet(options)
  return await createLocalTestnet(options)
}

async function createLocalTestnet (options: TestnetOptions): Promise<Testnet> {
  const n = options.nodes ?? 20
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new RangeError('nodes must be an integer from 1 to 200')
  const transport = options.transport ?? 'tcp'
  const nodes: SwarmNode[] = []
  const stop = async (): Promise<void> => { await Promise.allSettled(nodes.map(async node => { await node.stop() })) }
  try {
    // start in small batches: every start is CPU work (keys, listeners)
    for (let i = 0; i < n; i += 4) {
      const batch = await Promise.all(Array.from({ length: Math.min(4, n - i) }, async (_, j) => await createNode({
        ...options.node,
        ...(await options.nodeAt?.(i + j)),
        transport,
        loopback: true,
        ...(options.seed !== undefined ? { seed: options.seed + i + j } : {})
      })))
      nodes.push(...batch)
    }
    const report = await connect(nodes, options)
    return { nodes, report, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

async function connect (nodes: SwarmNode[], options: TestnetOptions): Promise<Testnet['report']> {
  const start = performance.now()
  const target = Math.min(nodes.length - 1, options.target ?? 20)
  const pairs = meshPairs(nodes.length, options.topology ?? 'full', 4)
  let dials = 0
  let failedDials = 0
  let next = 0
  const reach = await Promise.all(nodes.map(async (node, i) => await options.reachAt?.(node, i)))
  const dialer = async (): Promise<void> => {
    while (next < pairs.length) {
      let [a, b] = pairs[next++] as [number, number]
      if (reach[a] !== undefined && reach[b] === undefined) [a, b] = [b, a]
      const from = nodes[a] as SwarmNode
      const addr = reach[b] ?? (nodes[b] as SwarmNode).multiaddrs[0]
      if (addr === undefined) continue
      dials++
      await from.ask({ type: 'swarm.dial', multiaddr: addr }, { timeoutMs: 10_000 }).catch(() => { failedDials++ })
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, pairs.length)) }, dialer))

  const timeoutMs = options.settleTimeoutMs ?? 30_000
  const refreshed = new Set<number>()
  // lookups still running when the wait ends are stopped, so the testnet is
  // handed over with nothing of ours in flight
  const lookups: Array<Promise<void>> = []
  const done = new AbortController()
  let sizes: number[] = []
  for (let round = 0; round < 2_000; round++) {
    sizes = await Promise.all(nodes.map(async node => (await node.ask({ type: 'swarm.status' })).routingTableSize))
    if (sizes.every(s => s >= target)) break
    const elapsed = performance.now() - start
    if (elapsed > timeoutMs) break
    if (elapsed > 500) {
      sizes.forEach((size, i) => {
        if (size >= target || refreshed.has(i)) return
        refreshed.add(i)
        lookups.push(selfLookup(nodes[i] as SwarmNode, done.signal))
      })
    }
    await sleep(20)
  }
  done.abort()
  await Promise.all(lookups)
  return {
    settled: sizes.every(s => s >= target),
    elapsedMs: performance.now() - start,
    dials,
    failedDials,
    refreshes: refreshed.size,
    routingTableSizes: sizes
  }
}

async function selfLookup (node: SwarmNode, signal: AbortSignal): Promise<void> {
  try {
    const key = peerIdFromString(node.peerId).toMultihash().bytes
    for await (const _ of node.stream({ type: 'dht.closestPeers', key }, { timeoutMs: 10_000, signal })) {
      // kad-dht offers every peer it meets to the routing table
    }
  } catch {
    // a failed lookup only means this node fills more slowly
  }
}
