/**
 * The event loop while a node resolves: 100 concurrent uncached
 * `ipns.resolve` asks (100 distinct names, published from the other nodes)
 * on a 20-node loopback testnet, with the event-loop delay measured from
 * another thread (loop-probe.ts). Every record a resolve meets is checked by
 * kad-dht's validator and by the verifier actor, both on the shared pool.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { createTestnet } from '../src/node/create-testnet.js'
import { bounded, pool } from './ipns.js'
import { startLoopProbe } from './loop-probe.js'
import type { LoopDelay } from './loop-probe.js'

const VALUE = '/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui'

export interface ResolvesLoop {
  nodes: number
  /** the resolver's libp2p node in its own worker thread (createNode({ networkThread: true })) */
  resolver_network_thread: boolean
  resolves: number
  ok: number
  failed: Record<string, number>
  wall_ms: number
  event_loop_delay_probe: LoopDelay
  event_loop_delay_in_loop: { p50_ms: number, p99_ms: number, max_ms: number }
}

export async function benchResolvesLoop (options: { nodes?: number, names?: number, networkThread?: boolean } = {}): Promise<ResolvesLoop> {
  const nodes = options.nodes ?? 20
  const count = options.names ?? 100
  const networkThread = options.networkThread ?? false
  const net = await bounded('testnet', 180_000, createTestnet({
    nodes,
    settleTimeoutMs: 45_000,
    // node 0 resolves
    ...(networkThread ? { nodeAt: async (i: number) => i === 0 ? { networkThread: true } : {} } : {})
  }))
  try {
    const n = net.nodes
    const names = new Array<string>(count).fill('')
    await pool(count, 8, async j => {
      const publisher = n[1 + (j % (nodes - 1))]!
      await publisher.ask({ type: 'key.generate', name: `verify-${j}` }, { timeoutMs: 30_000 })
      names[j] = (await publisher.ask({ type: 'ipns.publish', key: `verify-${j}`, value: VALUE }, { timeoutMs: 30_000 })).name
    })
    const resolver = n[0]!
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    const probe = await startLoopProbe()
    histogram.enable()
    const start = performance.now()
    const failed: Record<string, number> = {}
    let ok = 0
    await Promise.all(names.map(async name => {
      try {
        const r = await resolver.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 60_000 })
        if (r.value === VALUE) ok++
      } catch (err) {
        const k = err instanceof Error ? err.name : 'unknown'
        failed[k] = (failed[k] ?? 0) + 1
      }
    }))
    const wall = performance.now() - start
    histogram.disable()
    const inLoop = (ns: number): number => Math.round(ns / 1e4) / 100
    return {
      nodes,
      resolver_network_thread: networkThread,
      resolves: count,
      ok,
      failed,
      wall_ms: Math.round(wall),
      event_loop_delay_probe: await probe.stop(),
      event_loop_delay_in_loop: { p50_ms: inLoop(histogram.percentile(50)), p99_ms: inLoop(histogram.percentile(99)), max_ms: inLoop(histogram.max) }
    }
  } finally {
    await net.stop()
  }
}
