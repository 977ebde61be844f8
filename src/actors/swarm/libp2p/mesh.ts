/**
 * Connects a set of DhtPorts into a testnet mesh and waits, bounded in time
 * and rounds, until every routing table holds enough peers.
 *
 * Time is injected (`now`, `wait`) so this file sets no timers of its own;
 * a test or createTestnet passes real ones. See docs/libp2p-notes.md for the
 * measurements behind the defaults.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { DhtPort } from '../dht-port.js'

/** kad-dht's bucket size: beyond this a routing table is not expected to know everyone. */
export const MESH_DEFAULT_TARGET = 20

export interface MeshClock {
  /** Milliseconds on any monotonic scale. */
  now: () => number
  /** Resolves after about `ms` milliseconds. */
  wait: (ms: number) => Promise<void>
}

export interface MeshOptions extends MeshClock {
  /**
   * 'full': every pair is dialled once (N(N-1)/2 dials).
   * 'skip-ring': node i dials i+1, i+2, i+4, … (`degree` of them); the
   * repair lookups of nodes short of the target find the rest.
   * Default 'full': a routing-table entry needs a connection anyway, so with
   * target N-1 'full' makes the fewest connections and runs no lookups.
   */
  topology?: 'full' | 'skip-ring'
  /** skip-ring: how many peers each node dials. Default 4. */
  degree?: number
  /** Each routing table must hold at least min(N-1, target) peers. Default 20. */
  target?: number
  /** Dials in flight at once across the mesh. Default 4 (more only adds event-loop delay: dialling is CPU-bound). */
  concurrency?: number
  /** Give up (settled: false) after this long. Default 30 000 ms. */
  timeoutMs?: number
  /** Interval between routing-table checks. Default 20 ms. */
  pollMs?: number
  /** How long after dialling nodes still short of the target start repair lookups (see waitForRoutingTables). Default 500 ms. */
  refreshAfterMs?: number
  /** Aborts dials and lookups. */
  signal?: AbortSignal
}

export interface MeshReport {
  settled: boolean
  target: number
  /** ms from the first dial to settled (or to giving up) */
  elapsedMs: number
  /** ms spent dialling */
  dialMs: number
  dials: number
  failedDials: number
  /** repair lookups run */
  refreshes: number
  rounds: number
  /** routing-table size per port at the end */
  sizes: number[]
}

/** The pairs [from, to] to dial, each unordered pair at most once. */
export function meshPairs (n: number, topology: 'full' | 'skip-ring', degree: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = []
  const seen = new Set<string>()
  const add = (a: number, b: number): void => {
    if (a === b) return
    const id = a < b ? `${a}:${b}` : `${b}:${a}`
    if (seen.has(id)) return
    seen.add(id)
    pairs.push([a, b])
  }
  for (let i = 0; i < n; i++) {
    if (topology === 'full') {
      for (let j = i + 1; j < n; j++) add(i, j)
    } else {
      for (let m = 0, step = 1; m < degree && step < n; m++, step *= 2) add(i, (i + step) % n)
    }
  }
  return pairs
}

async function runBounded<T> (items: T[], concurrency: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      await job(item)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker))
}

function dialAddr (port: DhtPort): string | undefined {
  return port.multiaddrs()[0]
}

export async function connectMesh (ports: DhtPort[], options: MeshOptions): Promise<MeshReport> {
  const topology = options.topology ?? 'full'
  const target = Math.min(ports.length - 1, options.target ?? MESH_DEFAULT_TARGET)
  const signal = options.signal ?? new AbortController().signal
  const start = options.now()
  let dials = 0
  let failedDials = 0
  await runBounded(meshPairs(ports.length, topology, options.degree ?? 4), options.concurrency ?? 4, async ([a, b]) => {
    const from = ports[a]
    const to = ports[b]
    const addr = to === undefined ? undefined : dialAddr(to)
    if (from === undefined || addr === undefined || signal.aborted) return
    dials++
    try {
      await from.dial(addr, { signal })
    } catch {
      failedDials++
    }
  })
  const dialMs = options.now() - start
  const waited = await waitForRoutingTables(ports, target, {
    ...options,
    timeoutMs: Math.max(0, (options.timeoutMs ?? 30_000) - dialMs),
    signal
  })
  return { ...waited, target, elapsedMs: options.now() - start, dialMs, dials, failedDials }
}

export interface WaitOptions extends MeshClock {
  timeoutMs?: number
  pollMs?: number
  /** Ports still short of the target after this long start a repair (see below). Default 500 ms; Infinity disables. */
  refreshAfterMs?: number
  signal?: AbortSignal
}

/**
 * Waits until every port's routing table holds ≥ target peers; bounded by
 * timeoutMs and a round count.
 *
 * Repair: kad-dht pings every new contact before adding it and never
 * retries, so under CPU starvation a connected peer can be left out of a
 * table for good. A peer is offered to the table again whenever it answers
 * one of our queries, so a lagging port runs lookups one after another —
 * first its own id, then each other port's id (a lookup for X's id always
 * reaches X) — until it reaches the target: at most N lookups per port.
 */
export async function waitForRoutingTables (ports: DhtPort[], target: number, options: WaitOptions): Promise<{
  settled: boolean
  rounds: number
  refreshes: number
  sizes: number[]
}> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const pollMs = Math.max(1, options.pollMs ?? 20)
  const maxRounds = Math.ceil(timeoutMs / pollMs) + 1
  // repairs still running when the wait ends are stopped through this
  const done = new AbortController()
  const signal = options.signal === undefined ? done.signal : AbortSignal.any([options.signal, done.signal])
  const start = options.now()
  const repairing = new Set<number>()
  const repairs: Array<Promise<number>> = []
  let sizes = ports.map(port => port.status().routingTableSize)
  let rounds = 0
  let settled = false
  try {
    for (; rounds < maxRounds; rounds++) {
      sizes = ports.map(port => port.status().routingTableSize)
      if (sizes.every(size => size >= target)) {
        settled = true
        break
      }
      const elapsed = options.now() - start
      if (elapsed >= timeoutMs || signal.aborted) break
      if (elapsed >= (options.refreshAfterMs ?? 500)) {
        sizes.forEach((size, i) => {
          if (size >= target || repairing.has(i)) return
          repairing.add(i)
          repairs.push(repair(ports, i, target, signal))
        })
      }
      await options.wait(pollMs)
    }
  } finally {
    done.abort()
  }
  const lookups = await Promise.all(repairs)
  return { settled, rounds, refreshes: lookups.reduce((a, b) => a + b, 0), sizes }
}

/** Lookups from ports[index] until its table reaches target; resolves with how many ran. */
async function repair (ports: DhtPort[], index: number, target: number, signal: AbortSignal): Promise<number> {
  const port = ports[index]
  if (port === undefined) return 0
  let lookups = 0
  for (let step = 0; step < ports.length; step++) {
    if (signal.aborted || port.status().routingTableSize >= target) break
    const other = ports[(index + step) % ports.length]
    if (other === undefined) continue
    lookups++
    await lookup(port, peerIdFromString(other.peerId).toMultihash().bytes, signal)
  }
  return lookups
}

async function lookup (port: DhtPort, key: Uint8Array, signal: AbortSignal): Promise<void> {
  try {
    for await (const _ of port.closestPeers(key, { signal })) {
      // the peers that answer are offered to the routing table by kad-dht itself
    }
  } catch {
    // a failed lookup only means this port fills more slowly
  }
}
