/**
 * The scale bench's Helia network: N @helia/ipns nodes on @libp2p/kad-dht
 * (helia-reference.ts: TCP, noise, yamux, the loopback settings) hosted over
 * child processes (helia-scale-child.ts, forked through the same ChildHost a
 * swarmbus testnet uses), each node behind the same delaying proxy
 * (src/node/faults/delay-proxy.ts) with the same one-way latency and jitter,
 * joined the same sparse way as createTestnet({ processes }): node 0 alone,
 * then waves of `wave` nodes per process, each dialling `bootstrapPeers`
 * nodes picked (seeded) among those up, then one self lookup; then a bounded
 * wait for routing tables (one more self lookup for a node still short after
 * a second), reported as min / median / max.
 *
 * Bench-only code: the Helia packages are devDependencies.
 */
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRng } from '../src/actors/runtime/rng.js'
import { ChildHost, IPC_MARGIN_MS } from '../src/node/remote/child-host.js'
import type { LinkDelay } from '../src/node/faults/delay-proxy.js'
import type { ProcessStats, StartedNode, StartSpec } from '../src/node/remote/protocol.js'

export interface HeliaScaleOptions {
  nodes: number
  processes: number
  seed: number
  delay: LinkDelay
  bootstrapPeers?: number
  wave?: number
  target?: number
  settleTimeoutMs?: number
  placement?: (index: number) => number
}

export interface HeliaScaleNet {
  nodes: StartedNode[]
  report: { startMs: number, elapsedMs: number, settled: boolean, refreshes: number, fill: { target: number, min: number, median: number, max: number } }
  processOf(index: number): number
  ask<T>(index: number, command: { type: string } & Record<string, unknown>, timeoutMs: number): Promise<T>
  host(process: number): ChildHost
  processStats(): Promise<ProcessStats[]>
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 120_000
const CHILD = fileURLToPath(new URL('./helia-scale-child.js', import.meta.url))

export async function createHeliaScaleNet (o: HeliaScaleOptions): Promise<HeliaScaleNet> {
  const rng = createRng(o.seed)
  const peers = o.bootstrapPeers ?? 3
  const wave = (o.wave ?? 4) * o.processes
  const placement = (i: number): number => o.placement?.(i) ?? i % o.processes
  const t0 = performance.now()
  const hosts: ChildHost[] = []
  const stop = async (): Promise<void> => { await Promise.allSettled(hosts.map(async h => await h.stop())) }
  try {
    hosts.push(...await Promise.all(Array.from({ length: o.processes }, async (_, i) => await ChildHost.spawn(i, CHILD))))
    const nodes = new Array<StartedNode | undefined>(o.nodes)
    const up: string[] = []
    const spec = (index: number): StartSpec => {
      const pool = [...up]
      const bootstrap: string[] = []
      while (bootstrap.length < Math.min(peers, pool.length)) bootstrap.push(pool.splice(rng.int(pool.length), 1)[0] as string)
      return { index, seed: o.seed + index, bootstrap, options: {}, faults: o.delay }
    }
    const startWave = async (indices: number[]): Promise<void> => {
      const byHost = new Map<number, StartSpec[]>()
      for (const i of indices) byHost.set(placement(i), [...(byHost.get(placement(i)) ?? []), spec(i)])
      const lists = await Promise.all([...byHost].map(async ([h, list]) => await (hosts[h] as ChildHost).request({ t: 'start', nodes: list }, START_TIMEOUT_MS) as StartedNode[]))
      for (const s of lists.flat()) {
        nodes[s.index] = s
        if (s.multiaddrs[0] !== undefined) up.push(s.multiaddrs[0])
      }
    }
    await startWave([0])
    for (let i = 1; i < o.nodes; i += wave) await startWave(Array.from({ length: Math.min(wave, o.nodes - i) }, (_, k) => i + k))
    const all = nodes.map((n, i) => { if (n === undefined) throw new Error(`Helia node ${i} did not start`); return n })
    const startMs = performance.now() - t0
    const ask = async <T>(index: number, command: { type: string } & Record<string, unknown>, timeoutMs: number): Promise<T> =>
      await (hosts[placement(index)] as ChildHost).request({ t: 'ask', node: index, command, timeoutMs }, timeoutMs + IPC_MARGIN_MS) as T
    const sizes = async (): Promise<number[]> => await Promise.all(all.map(async (_, i) =>
      await ask<{ routingTableSize: number }>(i, { type: 'helia.status' }, 10_000).then(r => r.routingTableSize, () => -1)))

    // the bounded wait for routing tables, as ProcessTestnet's
    const target = Math.min(o.nodes - 1, o.target ?? 20)
    const timeoutMs = o.settleTimeoutMs ?? 60_000
    const s0 = performance.now()
    const refreshed = new Set<number>()
    const lookups: Array<Promise<unknown>> = []
    let now = await sizes()
    while (!now.every(s => s >= target) && performance.now() - s0 < timeoutMs) {
      if (performance.now() - s0 > 1_000) {
        now.forEach((size, i) => {
          if (size >= target || refreshed.has(i)) return
          refreshed.add(i)
          lookups.push(ask(i, { type: 'helia.selfLookup' }, 15_000).catch(() => undefined))
        })
      }
      await sleep(250)
      now = await sizes()
    }
    await Promise.all(lookups)
    const sorted = [...now].sort((a, b) => a - b)
    return {
      nodes: all,
      report: {
        startMs,
        elapsedMs: performance.now() - t0,
        settled: now.every(s => s >= target),
        refreshes: refreshed.size,
        fill: { target, min: sorted[0] ?? 0, median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 }
      },
      processOf: placement,
      ask,
      host: i => hosts[i] as ChildHost,
      processStats: async () => {
        const got = await Promise.allSettled(hosts.filter(h => h.alive).map(async h => await h.stats()))
        return got.flatMap(r => r.status === 'fulfilled' ? [r.value] : [])
      },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
