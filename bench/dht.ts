/**
 * The DHT on a real testnet (TCP on loopback): put/get latency across nodes,
 * and swarm.status asks per second on one node.
 */
import { createTestnet } from '../src/node/create-testnet.js'
import { round, summarize } from './stats.js'

export async function benchDht (nodes = 20, ops = 30): Promise<Record<string, unknown>> {
  const t0 = performance.now()
  const net = await createTestnet({ nodes, seed: 4242 })
  const setupMs = performance.now() - t0
  try {
    const put: number[] = []
    const get: number[] = []
    let failures = 0
    const enc = new TextEncoder()
    for (let i = 0; i < ops; i++) {
      const a = net.nodes[i % nodes]
      const b = net.nodes[(i * 7 + 3) % nodes]
      if (a === undefined || b === undefined) continue
      const key = `/swarmbus/bench-${i}`
      const value = enc.encode(`value ${i}`)
      let t = performance.now()
      try {
        await a.ask({ type: 'dht.put', key, value }, { timeoutMs: 10_000 })
        put.push(performance.now() - t)
        t = performance.now()
        const got = await b.ask({ type: 'dht.get', key }, { timeoutMs: 10_000 })
        get.push(performance.now() - t)
        if (new TextDecoder().decode(got.value) !== `value ${i}`) failures++
      } catch {
        failures++
      }
    }
    const one = net.nodes[0]
    let statusPerSec = 0
    if (one !== undefined) {
      const n = 5_000
      const t = performance.now()
      for (let i = 0; i < n; i++) await one.ask({ type: 'swarm.status' })
      statusPerSec = Math.round(n / ((performance.now() - t) / 1000))
    }
    return {
      nodes,
      testnetSetupMs: Math.round(setupMs),
      settled: net.report.settled,
      putMs: summarize(put),
      getMs: summarize(get),
      failures,
      note: 'a get is answered from the local record store when the asking node is among the k=20 closest to the key; on a testnet of <= 20 nodes every node is',
      swarmStatusAsksPerSec: statusPerSec
    }
  } finally {
    await net.stop()
  }
}

export { round }
