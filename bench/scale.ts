/**
 * `npm run bench -- scale`: a swarmbus network at scale on this machine —
 * by default 300 nodes over 4 processes (plus one for the churn victims),
 * 40 ms ± 10 ms one-way per link (testnet faults: a delaying proxy in front
 * of every node), sparse bootstrap. It measures, in one run:
 *
 * - publish p50/p95 and uncached resolve p50/p95 from random other nodes,
 *   with the success rate;
 * - 100 concurrent resolves on one node (all must succeed);
 * - the same resolves after 20 % of the nodes are killed with SIGKILL
 *   (their own process), success rate and p50/p95.
 *
 * Swarmbus only for now (the @helia/ipns side is still to come). Not in CI;
 * sizes from the environment: SCALE_NODES, SCALE_PROCESSES, SCALE_LATENCY_MS,
 * SCALE_JITTER_MS, SCALE_NAMES (published names), SCALE_CHURN (share, 0 for none).
 */
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { createTestnet } from '../src/node/create-testnet.js'
import { createRng } from '../src/actors/runtime/rng.js'
import { round, summarize } from './stats.js'
import type { ProcessTestnet } from '../src/node/process-testnet.js'

const env = (name: string, fallback: number): number => {
  const v = process.env[name]
  return v === undefined || v === '' ? fallback : Number(v)
}

interface Timed { ms: number[], failed: number }

async function timed<T> (runs: Array<() => Promise<T>>, concurrency: number): Promise<Timed> {
  const out: Timed = { ms: [], failed: 0 }
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, runs.length) }, async () => {
    while (next < runs.length) {
      const run = runs[next++] as () => Promise<T>
      const t0 = performance.now()
      try {
        await run()
        out.ms.push(performance.now() - t0)
      } catch {
        out.failed++
      }
    }
  }))
  return out
}

const report = (t: Timed): Record<string, number> => {
  const s = summarize(t.ms.sort((a, b) => a - b))
  return { n: t.ms.length + t.failed, success: round(t.ms.length / Math.max(1, t.ms.length + t.failed), 4), p50: round(s.p50, 1), p95: round(s.p95, 1), max: round(s.max, 1) }
}

export async function benchScale (): Promise<Record<string, unknown>> {
  const nodes = env('SCALE_NODES', 300)
  const processes = env('SCALE_PROCESSES', 4)
  const latencyMs = env('SCALE_LATENCY_MS', 40)
  const jitterMs = env('SCALE_JITTER_MS', 10)
  const names = env('SCALE_NAMES', 50)
  const churn = env('SCALE_CHURN', 0.2)
  const rng = createRng(300)
  const victimEvery = churn > 0 ? Math.max(2, Math.round(1 / churn)) : 0
  const isVictim = (i: number): boolean => victimEvery > 0 && i % victimEvery === victimEvery - 1
  const t0 = performance.now()
  const net: ProcessTestnet = await createTestnet({
    nodes,
    processes: processes + (victimEvery > 0 ? 1 : 0),
    seed: 30_000,
    faults: { latencyMs, jitterMs },
    settleTimeoutMs: 120_000,
    ...(victimEvery > 0 ? { placement: (i: number) => isVictim(i) ? processes : i % processes } : {})
  })
  try {
    const startMs = performance.now() - t0
    const all = net.nodes.map((_, i) => i)
    const live = all.filter(i => !isVictim(i))
    const pick = (pool: number[], not?: number): number => {
      const p = pool.filter(x => x !== not)
      return p[rng.int(p.length)] as number
    }
    const value = (k: number): string => `/ipfs/${CID.createV1(0x55, identity.digest(new TextEncoder().encode(`scale ${k}`))).toString()}`
    const publishers = Array.from({ length: names }, (_, k) => live[(k * 7) % live.length] as number)
    const uniquePublishers = [...new Set(publishers)]
    const publishedNames: Array<{ name: string, by: number }> = []
    const publish = await timed(uniquePublishers.map((by, k) => async () => {
      const r = await net.nodes[by]!.ask({ type: 'ipns.publish', value: value(k) }, { timeoutMs: 60_000 })
      publishedNames.push({ name: r.name, by })
    }), 8)
    const resolveFrom = (pool: number[]) => publishedNames.map(({ name, by }) => async () => {
      await net.nodes[pick(pool, by)]!.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 60_000 })
    })
    const resolve = await timed(resolveFrom(all), 8)
    const one = net.nodes[live[0] as number]!
    const burstT0 = performance.now()
    const burst = await timed(Array.from({ length: 100 }, (_, k) => async () => {
      const { name } = publishedNames[k % publishedNames.length] as { name: string }
      await one.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 60_000 })
    }), 100)
    const burstMs = performance.now() - burstT0
    let churned: Record<string, unknown> | undefined
    if (victimEvery > 0) {
      net.host(processes).kill('SIGKILL')
      await new Promise(resolve => setTimeout(resolve, 500))
      const after = await timed(resolveFrom(live), 8)
      churned = { killed: net.processes[processes]?.nodes.length, resolve: report(after) }
    }
    return {
      nodes,
      processes,
      link: { latencyMs, jitterMs, rttMs: 2 * latencyMs },
      startMs: Math.round(startMs),
      fill: net.report.fill,
      publish: report(publish),
      resolve: report(resolve),
      concurrent: { resolves: 100, onOneNode: true, ...report(burst), totalMs: Math.round(burstMs) },
      ...(churned !== undefined ? { churn: churned } : {}),
      note: 'swarmbus only; the @helia/ipns side of issue 13 is not built yet'
    }
  } finally {
    await net.stop()
  }
}
