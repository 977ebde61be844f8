/**
 * `npm run bench -- route-around`: what routing around frozen peers costs
 * lookups on a healthy network, in one run. One testnet as in the
 * testnet-faults test (60 nodes over 2 processes, 30 ms ± 10 ms one-way per
 * link, sparse bootstrap), every odd node created with `routeAround: false`:
 * the two kinds of resolver share the network, the names and the moment.
 * Each round resolves every name uncached from a default node and from a
 * routeAround: false node, side by side (a different pair each round), and
 * runs closest-peer lookups the same way; then bursts of concurrent
 * resolves on one node at a time, A B B A (default, off, off, default). Nothing is frozen:
 * any gap is what route-around costs healthy lookups (stalls of slow but
 * live peers, extra requests). The JSON has p50/p95 per kind, the requests
 * each resolve sent (send-query progress events), and the stalls, late
 * answers, failed stream opens and strikes the default nodes counted.
 *
 * Sizes from the environment: RA_NODES (60), RA_NAMES (10), RA_ROUNDS (4),
 * RA_BURST (50), RA_LATENCY_MS (30), RA_JITTER_MS (10).
 */
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { createTestnet } from '../src/node/create-testnet.js'
import { createRng } from '../src/actors/runtime/rng.js'
import { env } from './scale-shape.js'
import { summarize } from './stats.js'
import type { RemoteNode } from '../src/node/remote/remote-node.js'

const valueOf = (k: number): string => `/ipfs/${CID.createV1(0x55, identity.digest(new TextEncoder().encode(`route-around ${k}`))).toString()}`
const ASK = { timeoutMs: 30_000 }

interface Kind { ms: number[], sent: number[], closestMs: number[], closestSize: number[], failed: number }
const newKind = (): Kind => ({ ms: [], sent: [], closestMs: [], closestSize: [], failed: 0 })

async function resolveTimed (node: RemoteNode, name: string, value: string, into: Kind): Promise<void> {
  let sent = 0
  const off = node.on('progress', e => { if (e.type === 'kad-dht:query:send-query') sent++ })
  const t0 = performance.now()
  try {
    const r = await node.ask({ type: 'ipns.resolve', name, nocache: true }, ASK)
    if (r.value !== value) into.failed++
    else { into.ms.push(performance.now() - t0); into.sent.push(sent) }
  } catch {
    into.failed++
  } finally {
    off()
  }
}

async function closestTimed (node: RemoteNode, key: Uint8Array, into: Kind): Promise<void> {
  const t0 = performance.now()
  let n = 0
  try {
    for await (const _ of node.stream({ type: 'dht.closestPeers', key }, ASK)) n++
    into.closestMs.push(performance.now() - t0)
    into.closestSize.push(n)
  } catch {
    into.failed++
  }
}

const summary = (k: Kind): Record<string, unknown> => ({
  resolve: summarize(k.ms),
  requestsPerResolve: summarize(k.sent).p50,
  closestPeers: summarize(k.closestMs),
  closestPeersFound: summarize(k.closestSize).p50,
  failed: k.failed
})

export async function benchRouteAround (): Promise<Record<string, unknown>> {
  const nodes = env('RA_NODES', 60)
  const rounds = env('RA_ROUNDS', 4)
  const burstSize = env('RA_BURST', 50)
  const loadBefore = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()
  const net = await createTestnet({
    nodes,
    processes: 2,
    seed: 13_000,
    faults: { latencyMs: env('RA_LATENCY_MS', 30), jitterMs: env('RA_JITTER_MS', 10) },
    node: { republish: false },
    nodeAt: i => i % 2 === 1 ? { routeAround: false } : undefined
  })
  try {
    const rng = createRng(1_313)
    const on = net.nodes.filter((_, i) => i % 2 === 0)
    const off = net.nodes.filter((_, i) => i % 2 === 1)
    const names: Array<{ name: string, value: string }> = []
    for (let k = 0; k < env('RA_NAMES', 10); k++) {
      const r = await net.nodes[(k * 7) % nodes]!.ask({ type: 'ipns.publish', value: valueOf(k) }, ASK)
      names.push({ name: r.name, value: valueOf(k) })
    }
    const kinds = { default: newKind(), routeAroundOff: newKind() }
    for (let round = 0; round < rounds; round++) {
      // side by side: each name from one node of each kind at once
      await Promise.all(names.map(async ({ name, value }) => {
        await Promise.all([
          resolveTimed(on[rng.int(on.length)]!, name, value, kinds.default),
          resolveTimed(off[rng.int(off.length)]!, name, value, kinds.routeAroundOff)
        ])
      }))
      await Promise.all(Array.from({ length: 4 }, async (_, k) => {
        const key = new TextEncoder().encode(`route-around-closest-${round}-${k}`)
        await Promise.all([closestTimed(on[rng.int(on.length)]!, key, kinds.default), closestTimed(off[rng.int(off.length)]!, key, kinds.routeAroundOff)])
      }))
    }
    const burst = async (node: RemoteNode): Promise<Record<string, unknown>> => {
      const t0 = performance.now()
      const got = await Promise.allSettled(Array.from({ length: burstSize }, async (_, k) => await node.ask({ type: 'ipns.resolve', name: names[k % names.length]!.name, nocache: true }, ASK)))
      return { resolves: burstSize, failed: got.filter(r => r.status === 'rejected').length, totalMs: Math.round(performance.now() - t0) }
    }
    // A B B A: the first burst warms the serving nodes (their peer-info caches, connections) for the next
    const b1 = await burst(on[1]!)
    const b2 = await burst(off[1]!)
    const b3 = await burst(off[2]!)
    const b4 = await burst(on[2]!)
    const bursts = { default: [b1, b4], routeAroundOff: [b2, b3] }
    const counted = { stalls: 0, lateAnswers: 0, suspected: 0, openFailed: 0 }
    for (const n of on) {
      const s = (await n.ask({ type: 'swarm.status' }, { timeoutMs: 10_000 })).dhtRequests
      counted.stalls += s?.stalls ?? 0
      counted.lateAnswers += s?.lateAnswers ?? 0
      counted.suspected += s?.suspected ?? 0
      counted.openFailed += s?.openFailed ?? 0
    }
    const p50 = (k: Kind): number => summarize(k.ms).p50
    const p95 = (k: Kind): number => summarize(k.ms).p95
    return {
      nodes,
      names: names.length,
      rounds,
      loadBefore,
      fill: net.report.fill,
      default: { ...summary(kinds.default), burst: bursts.default, ...counted },
      routeAroundOff: { ...summary(kinds.routeAroundOff), burst: bursts.routeAroundOff },
      ratio: { resolveP50: p50(kinds.default) / p50(kinds.routeAroundOff), resolveP95: p95(kinds.default) / p95(kinds.routeAroundOff) },
      loadAfter: (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()
    }
  } finally {
    await net.stop()
  }
}
