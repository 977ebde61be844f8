/**
 * `npm run bench -- scale`: swarmbus and @helia/ipns at scale on this
 * machine, in one run — by default 300 nodes over 4 processes (plus one for
 * the churn victims), 40 ms ± 10 ms one-way per link (every node behind a
 * delaying proxy, src/node/faults/delay-proxy.ts), sparse bootstrap (3 peers
 * each). The swarmbus network runs first and is torn down before the Helia
 * one (helia-scale.ts, built the same way) starts. For each stack
 * (scale-measure.ts): publish p50/p95, uncached resolve p50/p95 from random
 * other nodes with the success rate, requests sent per resolve and peers
 * contacted per lookup (send-query progress events), `SCALE_BURST` (100)
 * concurrent resolves on one node, the same after 20 % of the nodes are
 * killed with SIGKILL, CPU and RSS per process. Then a verdict block for
 * issue 13's targets.
 *
 * `npm run bench -- scale --soak 1h` (or SCALE_SOAK=1h) runs the soak
 * instead (scale-soak.ts): swarmbus only, a steady mixed workload, one JSON
 * line per interval, a flatness verdict at the end.
 *
 * Not in CI. Sizes from the environment: SCALE_NODES, SCALE_PROCESSES,
 * SCALE_LATENCY_MS, SCALE_JITTER_MS, SCALE_NAMES (published names),
 * SCALE_CHURN (share, 0 for none), SCALE_BURST, SCALE_SERIAL (names resolved
 * again one at a time; default 10), SCALE_TIMEOUT_MS (every
 * publish and resolve, both stacks; default 30 s), SCALE_STACKS
 * (swarmbus,helia).
 */
import { round } from './stats.js'
import { createHeliaScaleNet } from './helia-scale.js'
import { measure } from './scale-measure.js'
import { soakOptions } from './scale-soak-stats.js'
import { benchSoak } from './scale-soak.js'
import { env, scaleShape, startSwarmbus } from './scale-shape.js'
import type { ScaleShape } from './scale-shape.js'
import type { ResolveResult, ScalePlan, ScaleStack } from './scale-measure.js'

async function swarmbusStack (shape: ScaleShape): Promise<ScaleStack> {
  const t0 = performance.now()
  const net = await startSwarmbus(shape)
  return {
    label: 'swarmbus',
    setup: { startMs: Math.round(net.report.startMs), settleMs: Math.round(net.report.elapsedMs - net.report.startMs), settled: net.report.settled, refreshes: net.report.refreshes, fill: net.report.fill, totalMs: Math.round(performance.now() - t0) },
    publish: async (by, value, timeoutMs) => (await net.nodes[by]!.ask({ type: 'ipns.publish', value }, { timeoutMs })).name,
    resolve: async (from, name, timeoutMs, count): Promise<ResolveResult> => {
      const node = net.nodes[from]!
      let sent = 0
      const peers = new Set<string>()
      // which peers the resolver is connected to before it starts (untimed), to split the request times
      const connected = count ? new Set((await node.ask({ type: 'swarm.peers' }, { timeoutMs })).peers.map(p => p.peerId)) : new Set<string>()
      const sentAt = new Map<string, number>()
      const requestMs = { connected: [] as number[], dialled: [] as number[] }
      // the swarm actor's kad-dht progress: one send-query event per request (at most 64 events per query)
      const off = count
        ? node.on('progress', e => {
          const peer = e.detail?.peer
          if (typeof peer !== 'string') return
          if (e.type === 'kad-dht:query:send-query') {
            sent++
            peers.add(peer)
            sentAt.set(peer, performance.now())
          } else if (e.type === 'kad-dht:query:peer-response' && sentAt.has(peer)) {
            (connected.has(peer) ? requestMs.connected : requestMs.dialled).push(performance.now() - (sentAt.get(peer) as number))
          }
        })
        : undefined
      try {
        const t0 = performance.now()
        const r = await node.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs })
        const elapsedMs = performance.now() - t0
        return count ? { value: r.value, sent, peers: peers.size, elapsedMs, requestMs } : { value: r.value }
      } finally {
        off?.()
      }
    },
    killVictims: () => { if (shape.victimProcess !== undefined) net.host(shape.victimProcess).kill('SIGKILL') },
    processStats: async () => await net.processStats(),
    stop: async () => { await net.stop() }
  }
}

async function heliaStack (shape: ScaleShape): Promise<ScaleStack> {
  const t0 = performance.now()
  const net = await createHeliaScaleNet({
    nodes: shape.nodes,
    processes: shape.processes + (shape.victimProcess !== undefined ? 1 : 0),
    seed: 60_000,
    delay: { latencyMs: shape.latencyMs, jitterMs: shape.jitterMs },
    settleTimeoutMs: 120_000,
    placement: shape.placement
  })
  return {
    label: 'helia',
    setup: { startMs: Math.round(net.report.startMs), settleMs: Math.round(net.report.elapsedMs - net.report.startMs), settled: net.report.settled, refreshes: net.report.refreshes, fill: net.report.fill, totalMs: Math.round(performance.now() - t0) },
    publish: async (by, value, timeoutMs) => (await net.ask<{ name: string }>(by, { type: 'helia.publish', value }, timeoutMs)).name,
    resolve: async (from, name, timeoutMs, count) => {
      const r = await net.ask<Required<ResolveResult>>(from, { type: 'helia.resolve', name }, timeoutMs)
      return count ? r : { value: r.value }
    },
    killVictims: () => { if (shape.victimProcess !== undefined) net.host(shape.victimProcess).kill('SIGKILL') },
    processStats: async () => await net.processStats(),
    stop: async () => { await net.stop() }
  }
}

type Rec = Record<string, unknown>
const at = (r: Rec | undefined, ...path: string[]): number | undefined => {
  let v: unknown = r
  for (const k of path) v = (v as Rec | undefined)?.[k]
  return typeof v === 'number' ? v : undefined
}

/** issue 13's targets, each with the numbers it was judged on */
export function verdicts (sb: Rec | undefined, he: Rec | undefined, rttMs: number, burst: number): Rec {
  const sbP95 = at(sb, 'resolve', 'p95')
  const heP95 = at(he, 'resolve', 'p95')
  const heSuccess = at(he, 'resolve', 'success')
  const sbP50 = at(sb, 'resolve', 'p50')
  const churnOk = (at(sb, 'churn', 'resolve', 'ok') ?? 0) + (at(sb, 'churn', 'concurrent', 'ok') ?? 0)
  const churnN = (at(sb, 'churn', 'resolve', 'n') ?? 0) + (at(sb, 'churn', 'concurrent', 'n') ?? 0)
  const ok = (v: boolean | undefined): boolean | 'not measured' => v ?? 'not measured'
  return {
    resolveP95VsHelia: {
      target: "swarmbus uncached resolve p95 ≤ 1/5 of Helia's, same run",
      swarmbusMs: sbP95,
      heliaMs: heP95,
      heliaSuccess: heSuccess,
      ratio: sbP95 !== undefined && heP95 !== undefined ? round(sbP95 / heP95, 3) : undefined,
      note: 'a Helia resolve that failed (its deadline) is not in its p95: see heliaSuccess',
      pass: ok(sbP95 !== undefined && heP95 !== undefined ? sbP95 * 5 <= heP95 : undefined)
    },
    churnSuccess: {
      target: 'success ≥ 99.5 % under 20 % churn (the resolves from random survivors and the concurrent burst, after the kill)',
      ok: churnOk,
      n: churnN,
      success: churnN > 0 ? round(churnOk / churnN, 4) : undefined,
      pass: ok(churnN > 0 ? churnOk / churnN >= 0.995 : undefined)
    },
    resolveP50VsRtt: {
      target: 'swarmbus uncached resolve p50 ≤ 4 × the per-link round trip',
      rttMs,
      rttIs: 'one-way latency × 2 (one hop: there and back through the receiving node\'s delaying proxy)',
      limitMs: 4 * rttMs,
      p50Ms: sbP50,
      serialP50Ms: at(sb, 'resolveSerial', 'p50'),
      serialNote: 'the p50 judged is of the resolves 8 at once; serialP50Ms: the same resolves one at a time (round trips without the other resolves\' CPU)',
      pass: ok(sbP50 !== undefined ? sbP50 <= 4 * rttMs : undefined)
    },
    concurrentAllSucceed: {
      target: `${burst} concurrent resolves on one node all succeed (before and after the kill)`,
      before: at(sb, 'concurrent', 'ok'),
      afterChurn: at(sb, 'churn', 'concurrent', 'ok'),
      pass: ok(at(sb, 'concurrent', 'ok') === undefined ? undefined : at(sb, 'concurrent', 'ok') === burst && (at(sb, 'churn') === undefined || at(sb, 'churn', 'concurrent', 'ok') === burst))
    }
  }
}

export async function benchScale (argv: string[] = process.argv.slice(2)): Promise<Rec> {
  const soak = soakOptions(argv, process.env)
  if (soak !== undefined) return await benchSoak(soak)
  const shape = scaleShape()
  const stacks = (process.env.SCALE_STACKS ?? 'swarmbus,helia').split(',').map(s => s.trim())
  const plan: ScalePlan = {
    nodes: shape.nodes,
    victims: new Set(Array.from({ length: shape.nodes }, (_, i) => i).filter(shape.isVictim)),
    names: env('SCALE_NAMES', 50),
    timeoutMs: env('SCALE_TIMEOUT_MS', 30_000),
    seed: 300,
    burst: env('SCALE_BURST', 100),
    serial: env('SCALE_SERIAL', 10)
  }
  const loadavg = async (): Promise<string> => (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()
  const out: Rec = {
    nodes: shape.nodes,
    processes: shape.processes,
    victimProcess: shape.victimProcess,
    link: { latencyMs: shape.latencyMs, jitterMs: shape.jitterMs, rttMs: 2 * shape.latencyMs },
    names: plan.names,
    timeoutMs: plan.timeoutMs,
    loadBefore: await loadavg()
  }
  for (const label of ['swarmbus', 'helia'] as const) {
    if (!stacks.includes(label)) continue
    const t0 = performance.now()
    const stack = label === 'swarmbus' ? await swarmbusStack(shape) : await heliaStack(shape)
    try {
      out[label] = { ...await measure(stack, plan), wallMs: Math.round(performance.now() - t0), loadAfter: await loadavg() }
    } finally {
      // torn down before the other stack starts: two cores
      await stack.stop()
    }
  }
  out.verdict = verdicts(out.swarmbus as Rec | undefined, out.helia as Rec | undefined, 2 * shape.latencyMs, plan.burst)
  return out
}
