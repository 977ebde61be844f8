/**
 * The measures of the scale bench, run the same way on either stack
 * (scale.ts gives each a ScaleStack: the swarmbus testnet, or the Helia
 * network of helia-scale.ts). Everything here is timed from the parent, over
 * the same IPC channel, with the same per-ask deadlines; a failure is
 * counted as one, never dropped or retried.
 */
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { createRng } from '../src/actors/runtime/rng.js'
import { round, summarize } from './stats.js'
import type { ProcessStats } from '../src/node/remote/protocol.js'

export interface ResolveResult {
  value: string
  /** requests sent (send-query events) */
  sent?: number
  /** distinct peers they went to */
  peers?: number
  /** the resolve's own time, when the stack did something untimed before it (swarmbus: read its connections) */
  elapsedMs?: number
  /** request to answer (send-query to peer-response), by whether the resolver was connected to the peer when the resolve began */
  requestMs?: { connected: number[], dialled: number[] }
}

export interface ScaleStack {
  label: 'swarmbus' | 'helia'
  /** what the network's start reported: time, routing-table fill */
  setup: Record<string, unknown>
  publish(by: number, value: string, timeoutMs: number): Promise<string>
  /** an uncached resolve; with count, the lookup's requests and peers too */
  resolve(from: number, name: string, timeoutMs: number, count: boolean): Promise<ResolveResult>
  /** SIGKILL the churn victims' process */
  killVictims(): void
  processStats(): Promise<ProcessStats[]>
  stop(): Promise<void>
}

export interface ScalePlan {
  nodes: number
  /** node indices that are churn victims (all in one process) */
  victims: Set<number>
  names: number
  timeoutMs: number
  seed: number
  burst: number
  /** names resolved again one at a time after the 8-at-once pass (0: none) */
  serial: number
}

interface Timed { ms: number[], failed: number, errors: Record<string, number> }

function newTimed (): Timed { return { ms: [], failed: 0, errors: {} } }

function fail (t: Timed, err: unknown): void {
  t.failed++
  const name = err instanceof Error ? `${err.name}${(err as { code?: string }).code !== undefined ? `/${(err as { code?: string }).code}` : ''}` : 'unknown'
  t.errors[name] = (t.errors[name] ?? 0) + 1
}

export function report (t: Timed): Record<string, unknown> {
  const s = summarize(t.ms)
  const n = t.ms.length + t.failed
  return { n, ok: t.ms.length, success: round(t.ms.length / Math.max(1, n), 4), p50: round(s.p50, 1), p95: round(s.p95, 1), max: round(s.max, 1), ...(t.failed > 0 ? { errors: t.errors } : {}) }
}

/** runs each job with at most `concurrency` in flight */
async function pool (jobs: Array<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
    while (next < jobs.length) await (jobs[next++] as () => Promise<void>)()
  }))
}

export const valueOf = (k: number): string => `/ipfs/${CID.createV1(0x55, identity.digest(new TextEncoder().encode(`scale ${k}`))).toString()}`

const cpuMs = (s: ProcessStats): number => (s.cpu.user + s.cpu.system) / 1_000

/** CPU (ms, since the previous snapshot) and RSS (MB) of each process, and their medians */
export function perProcess (before: ProcessStats[], after: ProcessStats[]): Record<string, unknown> {
  const rows = after.map(a => {
    const b = before.find(x => x.process === a.process)
    return { process: a.process, nodes: a.nodes, cpuMs: Math.round(cpuMs(a) - (b !== undefined ? cpuMs(b) : 0)), rssMb: round(a.memory.rss / 2 ** 20, 1), maxRssMb: round(a.maxRssKb / 1024, 1) }
  })
  const med = (xs: number[]): number => summarize(xs).p50
  return { medianCpuMs: med(rows.map(r => r.cpuMs)), medianRssMb: med(rows.map(r => r.rssMb)), processes: rows }
}

/**
 * The measures, in order: publishes (8 at once), one uncached resolve of
 * each name from a random other node (8 at once, never two on one node, so
 * a node's send-query events belong to one lookup), `serial` of them again
 * one at a time from other random nodes, `burst` concurrent
 * resolves on one node, then the victims' process killed and the resolves
 * and the burst again from the survivors; CPU and RSS per process between.
 */
export async function measure (stack: ScaleStack, plan: ScalePlan): Promise<Record<string, unknown>> {
  const rng = createRng(plan.seed)
  const all = Array.from({ length: plan.nodes }, (_, i) => i)
  const live = all.filter(i => !plan.victims.has(i))
  const s0 = await stack.processStats()

  const publishers = [...new Set(Array.from({ length: plan.names }, (_, k) => live[(k * 7) % live.length] as number))]
  const names: Array<{ name: string, by: number, value: string }> = []
  const publish = newTimed()
  await pool(publishers.map((by, k) => async () => {
    const t = performance.now()
    try {
      const name = await stack.publish(by, valueOf(k), plan.timeoutMs)
      publish.ms.push(performance.now() - t)
      names.push({ name, by, value: valueOf(k) })
    } catch (err) { fail(publish, err) }
  }), 8)

  const busy = new Set<number>()
  const pick = (from: number[], not: number): number => {
    const free = from.filter(x => x !== not && !busy.has(x))
    const p = free.length > 0 ? free : from.filter(x => x !== not)
    return p[rng.int(p.length)] as number
  }
  const resolves = async (from: number[], concurrency = 8, only = names): Promise<{ timed: Timed, sent: number[], peers: number[], wrong: number, connectedMs: number[], dialledMs: number[], dialledPerResolve: number[] }> => {
    const out = { timed: newTimed(), sent: [] as number[], peers: [] as number[], wrong: 0, connectedMs: [] as number[], dialledMs: [] as number[], dialledPerResolve: [] as number[] }
    await pool(only.map(({ name, by, value }) => async () => {
      const node = pick(from, by)
      busy.add(node)
      const t = performance.now()
      try {
        const r = await stack.resolve(node, name, plan.timeoutMs, true)
        if (r.value !== value) {
          out.wrong++
          fail(out.timed, new Error('wrong value'))
          return
        }
        out.timed.ms.push(r.elapsedMs ?? performance.now() - t)
        if (r.requestMs !== undefined) {
          out.connectedMs.push(...r.requestMs.connected)
          out.dialledMs.push(...r.requestMs.dialled)
          out.dialledPerResolve.push(r.requestMs.dialled.length)
        }
        if (r.sent !== undefined) out.sent.push(r.sent)
        if (r.peers !== undefined) out.peers.push(r.peers)
      } catch (err) { fail(out.timed, err) } finally { busy.delete(node) }
    }), concurrency)
    return out
  }
  const burst = async (on: number): Promise<Record<string, unknown>> => {
    const t = newTimed()
    const t0 = performance.now()
    await Promise.all(Array.from({ length: plan.burst }, async (_, k) => {
      const { name, value } = names[k % names.length] as { name: string, value: string }
      const t1 = performance.now()
      try {
        const r = await stack.resolve(on, name, plan.timeoutMs, false)
        if (r.value === value) t.ms.push(performance.now() - t1)
        else fail(t, new Error('wrong value'))
      } catch (err) { fail(t, err) }
    }))
    return { resolves: plan.burst, node: on, ...report(t), totalMs: Math.round(performance.now() - t0) }
  }
  const cost = (r: { sent: number[], peers: number[], connectedMs: number[], dialledMs: number[], dialledPerResolve: number[] }): Record<string, unknown> => ({
    requestsPerResolve: summarize(r.sent).p50,
    requestsPerResolveP95: summarize(r.sent).p95,
    peersPerLookup: summarize(r.peers).p50,
    peersPerLookupP95: summarize(r.peers).p95,
    ...(r.connectedMs.length + r.dialledMs.length > 0
      ? {
          requestMs: {
            note: 'send-query to peer-response of each request that was answered; connected: the resolver had a connection to the peer when the resolve began (a new or pooled stream on it), dialled: it had none',
            connected: summarize(r.connectedMs),
            dialled: summarize(r.dialledMs),
            dialledPerResolve: summarize(r.dialledPerResolve)
          }
        }
      : {})
  })

  const resolved = names.length > 0 ? await resolves(all) : undefined
  // the same, one at a time, for a few names, from other random nodes: the round trips without the other resolves' CPU
  const serial = names.length > 0 && plan.serial > 0 ? await resolves(all, 1, names.slice(0, plan.serial)) : undefined
  const burstNode = live[0] as number
  const concurrent = names.length > 0 ? await burst(burstNode) : undefined
  const s1 = await stack.processStats()
  let churn: Record<string, unknown> | undefined
  if (plan.victims.size > 0 && names.length > 0) {
    stack.killVictims()
    await new Promise(resolve => setTimeout(resolve, 500))
    const after = await resolves(live)
    const afterBurst = await burst(burstNode)
    churn = { killed: plan.victims.size, share: round(plan.victims.size / plan.nodes, 3), resolve: report(after.timed), wrong: after.wrong, ...cost(after), concurrent: afterBurst }
  }
  const s2 = await stack.processStats()
  return {
    setup: stack.setup,
    publish: report(publish),
    resolve: resolved !== undefined ? { ...report(resolved.timed), wrong: resolved.wrong, ...cost(resolved) } : undefined,
    resolveSerial: serial !== undefined ? { ...report(serial.timed), wrong: serial.wrong, ...cost(serial) } : undefined,
    concurrent,
    ...(churn !== undefined ? { churn } : {}),
    cpuRss: { beforeChurn: perProcess(s0, s1), churn: perProcess(s1, s2) }
  }
}
