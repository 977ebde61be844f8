/**
 * `npm run bench -- scale --soak 1h [--soak-interval 10s]`: the swarmbus
 * scale network (the same shape as the scale bench, without churn victims)
 * under a steady mixed workload for the whole duration — SCALE_SOAK_RATE
 * operations a second (default 5), at most SOAK_IN_FLIGHT at once (an
 * operation due while that many run is counted as skipped, never queued),
 * in turn: a republish of one of SCALE_NAMES names (new value), an uncached
 * resolve of one from a random node, a dht.put of one of SOAK_KEYS keys and
 * a dht.get of the key put the round before, and a dht.provide of one of SOAK_KEYS CIDs (the key sets
 * are bounded, so what the network stores stays bounded too).
 *
 * Every interval it prints one JSON line (scale-soak-stats.ts sampleOf: RSS
 * per process, open streams, pending asks, open ports, timers, handles,
 * connections, and the operations since the line before); at the end it
 * returns the samples' verdict (flatness: flat, or which measures grew).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createRng } from '../src/actors/runtime/rng.js'
import { env, scaleShape, startSwarmbus } from './scale-shape.js'
import { valueOf } from './scale-measure.js'
import { flatness, sampleOf } from './scale-soak-stats.js'
import type { SoakOptions, SoakSample } from './scale-soak-stats.js'

const SOAK_IN_FLIGHT = 32
const SOAK_KEYS = 200
const OP_TIMEOUT_MS = 30_000
const KINDS = ['publish', 'resolve', 'put', 'get', 'provide'] as const
type Kind = typeof KINDS[number]

interface Counts { ok: number, failed: number, skipped: number }

export async function benchSoak (o: SoakOptions): Promise<Record<string, unknown>> {
  const shape = scaleShape(0)
  const rate = env('SCALE_SOAK_RATE', 5)
  const nameCount = env('SCALE_NAMES', 50)
  const rng = createRng(0x50a)
  const text = new TextEncoder()
  const t0 = performance.now()
  const net = await startSwarmbus(shape)
  const started = { startMs: Math.round(performance.now() - t0), fill: net.report.fill }
  try {
    const nodes = net.nodes.length
    const names: Array<{ name: string, by: number }> = []
    for (let k = 0; k < Math.min(nameCount, nodes); k++) {
      const by = (k * 7) % nodes
      names.push({ name: (await net.nodes[by]!.ask({ type: 'ipns.publish', value: valueOf(k) }, { timeoutMs: OP_TIMEOUT_MS })).name, by })
    }
    const counts = new Map<Kind, Counts>(KINDS.map(k => [k, { ok: 0, failed: 0, skipped: 0 }]))
    const errors: Record<string, number> = {}
    let inFlight = 0
    /** n: the operation's number in the schedule (kind = KINDS[n mod 5]), skipped ones included */
    const op = async (kind: Kind, n: number): Promise<void> => {
      const node = net.nodes[rng.int(nodes)]!
      // one key per round of the five kinds: the get reads the key the round before put
      // (kad-dht accepts only namespaces it has a validator for: /swarmbus/ is one)
      const round = Math.floor(n / KINDS.length)
      const key = text.encode(`/swarmbus/soak/${(kind === 'get' ? Math.max(0, round - 1) : round) % SOAK_KEYS}`)
      switch (kind) {
        case 'publish': {
          const { by } = names[n % names.length] as { by: number }
          await net.nodes[by]!.ask({ type: 'ipns.publish', value: valueOf(1_000 + n) }, { timeoutMs: OP_TIMEOUT_MS })
          return
        }
        case 'resolve': {
          const { name } = names[n % names.length] as { name: string }
          await node.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: OP_TIMEOUT_MS })
          return
        }
        case 'put': await node.ask({ type: 'dht.put', key, value: text.encode(`soak ${n}`) }, { timeoutMs: OP_TIMEOUT_MS }); return
        case 'get': await node.ask({ type: 'dht.get', key }, { timeoutMs: OP_TIMEOUT_MS }); return
        case 'provide': {
          const cid = valueOf(10_000 + (round % SOAK_KEYS)).slice('/ipfs/'.length)
          await node.ask({ type: 'dht.provide', cid }, { timeoutMs: OP_TIMEOUT_MS })
        }
      }
    }
    const launch = (n: number): void => {
      const kind = KINDS[n % KINDS.length] as Kind
      const c = counts.get(kind) as Counts
      if (inFlight >= SOAK_IN_FLIGHT) { c.skipped++; return }
      inFlight++
      op(kind, n).then(() => { c.ok++ }, (err: unknown) => {
        c.failed++
        const why = `${kind}:${err instanceof Error ? err.name : 'unknown'}`
        errors[why] = (errors[why] ?? 0) + 1
      }).finally(() => { inFlight-- })
    }
    const since = (): Record<string, Counts> => {
      const out = Object.fromEntries([...counts].map(([k, c]) => [k, { ...c }]))
      for (const c of counts.values()) { c.ok = 0; c.failed = 0; c.skipped = 0 }
      return out
    }

    const samples: SoakSample[] = []
    const s0 = performance.now()
    const gapMs = 1_000 / Math.max(0.01, rate)
    let nextOp = s0
    let nextSample = s0 + o.intervalMs
    let k = 0
    while (performance.now() - s0 < o.durationMs) {
      const now = performance.now()
      while (nextOp <= now) { launch(k++); nextOp += gapMs }
      if (now >= nextSample) {
        nextSample += o.intervalMs
        const sample = sampleOf(await net.processStats(), performance.now() - s0)
        samples.push(sample)
        process.stdout.write(JSON.stringify({ soak: sample, ops: since(), inFlight, load: (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim() }) + '\n')
      }
      await sleep(Math.max(1, Math.min(nextOp, nextSample) - performance.now()))
    }
    while (inFlight > 0 && performance.now() - s0 < o.durationMs + OP_TIMEOUT_MS + 10_000) await sleep(100)
    return { soak: { ...o, rate, nodes, processes: shape.processes, link: { latencyMs: shape.latencyMs, jitterMs: shape.jitterMs }, ...started }, errors, verdict: flatness(samples) }
  } finally {
    await net.stop()
  }
}
