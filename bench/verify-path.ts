/**
 * record.verify the way a host calls it: asks through `node.ask` of a real
 * node (memory repo and transport, the shared worker pool), many in flight,
 * every record distinct (its own key, so neither the verdict cache nor a key
 * cache answers), with the event-loop delay measured from another thread
 * (loop-probe.ts) and, for reference, by monitorEventLoopDelay on the loop
 * itself. The same records through the `ipns` package's validator, one at a
 * time on this thread, give the reference rate.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multihashToIPNSRoutingKey } from 'ipns'
import { ipnsValidator } from 'ipns/validator'
import { createNode } from '../src/node/create-node.js'
import { createRecord } from '../src/records/create.js'
import { startLoopProbe } from './loop-probe.js'
import type { LoopDelay } from './loop-probe.js'
import type { NodeOptions, SwarmNode } from '../src/node/create-node.js'

export interface BenchRecord { name: string, record: Uint8Array, routingKey: Uint8Array }

const VALUE = '/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui'

/** n records, each signed by a key of its own */
export async function distinctRecords (n: number, now = Date.now()): Promise<BenchRecord[]> {
  const out: BenchRecord[] = []
  for (let i = 0; i < n; i++) {
    const key = await generateKeyPair('Ed25519')
    const created = await createRecord(key, VALUE, { now, sequence: i })
    out.push({ name: created.name.toString(), record: created.bytes, routingKey: multihashToIPNSRoutingKey(key.publicKey.toMultihash()) })
  }
  return out
}

/** records/s of the ipns package's validator, one record after another on this thread */
export async function ipnsValidatorRate (records: readonly BenchRecord[]): Promise<{ per_s: number, elapsed_ms: number }> {
  const start = performance.now()
  for (const r of records) await ipnsValidator(r.routingKey, r.record)
  const ms = performance.now() - start
  return { per_s: Math.round(records.length / (ms / 1000)), elapsed_ms: Math.round(ms) }
}

export interface AskRun {
  asks: number
  in_flight: number
  per_s: number
  elapsed_ms: number
  /** measured by a worker thread pinging this one: the headline */
  event_loop_delay_probe: LoopDelay
  /** monitorEventLoopDelay on this thread (timer-based, 1 ms resolution) */
  event_loop_delay_in_loop: { p50_ms: number, p99_ms: number, max_ms: number }
}

/** every record once through node.ask, `inFlight` at a time; throws unless every one verifies */
export async function askAll (node: SwarmNode, records: readonly BenchRecord[], inFlight: number): Promise<AskRun> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  const probe = await startLoopProbe()
  histogram.enable()
  const start = performance.now()
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < records.length) {
      const r = records[next++]!
      const v = await node.ask({ type: 'record.verify', name: r.name, record: r.record })
      if (v.value !== VALUE) throw new Error('bench record did not verify')
    }
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, records.length) }, lane))
  const ms = performance.now() - start
  histogram.disable()
  const delay = await probe.stop()
  const inLoop = (ns: number): number => Math.round(ns / 1e4) / 100
  return {
    asks: records.length,
    in_flight: inFlight,
    per_s: Math.round(records.length / (ms / 1000)),
    elapsed_ms: Math.round(ms),
    event_loop_delay_probe: delay,
    event_loop_delay_in_loop: { p50_ms: inLoop(histogram.percentile(50)), p99_ms: inLoop(histogram.percentile(99)), max_ms: inLoop(histogram.max) }
  }
}

export interface UserPathResult {
  through_node_ask: AskRun
  /** the same records, half before the asks and half after (so a change of load on the machine hits both sides) */
  ipns_validator_one_thread: { per_s: number, elapsed_ms: number }
  /** asks/s through the bus ÷ the ipns validator's records/s, same records, same run */
  throughput_ratio: number
}

/**
 * A fresh node (memory repo and transport, no republisher; the shared pool
 * unless `node.verifier` says otherwise), `warm` records through it first
 * (threads started, code compiled), then the measured asks, with the ipns
 * validator on the same records around them.
 */
export async function benchUserPath (records: readonly BenchRecord[], warm: readonly BenchRecord[], options: { inFlight?: number, node?: NodeOptions } = {}): Promise<UserPathResult> {
  const inFlight = options.inFlight ?? 256
  const node = await createNode({ repo: 'memory', transport: 'memory', republish: false, verifier: 'pool', ...options.node })
  try {
    await askAll(node, warm, inFlight)
    await ipnsValidatorRate(warm)
    const half = Math.floor(records.length / 2)
    const before = await ipnsValidatorRate(records.slice(0, half))
    const run = await askAll(node, records, inFlight)
    const after = await ipnsValidatorRate(records.slice(half))
    const elapsed = before.elapsed_ms + after.elapsed_ms
    const ipns = { per_s: Math.round(records.length / (elapsed / 1000)), elapsed_ms: elapsed }
    return { through_node_ask: run, ipns_validator_one_thread: ipns, throughput_ratio: Math.round(run.per_s / ipns.per_s * 100) / 100 }
  } finally {
    await node.stop()
  }
}
