/**
 * Bus overhead: system.ping through a mailbox and back, serial and with 1,000
 * in flight, beside a bare async function call measured in the same run; and
 * memory before/after 10,000 asks that all time out.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { defineActor } from '../src/actors/runtime/actor.js'
import { ActorSystem } from '../src/actors/runtime/system.js'
import { systemActor } from '../src/actors/system/system-actor.js'
import { RealClock } from '../src/platform/real-clock.js'
import { median, round } from './stats.js'

const newSystem = (): ActorSystem => new ActorSystem({ clock: new RealClock(), yieldToHost: fn => { setImmediate(fn) } })

async function rate (n: number, body: (n: number) => Promise<void>): Promise<number> {
  const t = performance.now()
  await body(n)
  return n / ((performance.now() - t) / 1000)
}

export async function benchBus (rounds = 5): Promise<Record<string, unknown>> {
  const system = newSystem()
  system.spawn(systemActor())
  const N = 500_000
  const serial: number[] = []
  const inflight: number[] = []
  const bare: number[] = []
  const noop = async (): Promise<Record<string, never>> => ({})
  // warm up the JIT on every path first
  for (let i = 0; i < 300_000; i++) await system.ask({ type: 'system.ping' })
  // each measurement in its own block of rounds: interleaving them let one
  // path's garbage and JIT state tax the next
  for (let r = 0; r < rounds; r++) {
    serial.push(await rate(N, async n => { for (let i = 0; i < n; i++) await system.ask({ type: 'system.ping' }) }))
  }
  for (let r = 0; r < rounds; r++) {
    inflight.push(await rate(N, async n => {
      for (let b = 0; b < n / 1000; b++) await Promise.all(Array.from({ length: 1000 }, async () => await system.ask({ type: 'system.ping' })))
    }))
  }
  for (let r = 0; r < rounds; r++) {
    bare.push(await rate(N, async n => { for (let i = 0; i < n; i++) await noop() }))
  }
  const left = system.openPorts
  await system.stop()
  return {
    systemPingSerialPerSec: Math.round(median(serial)),
    systemPing1000InFlightPerSec: Math.round(median(inflight)),
    bareAsyncCallPerSec: Math.round(median(bare)),
    busOverheadVsBareCall: round(median(bare) / median(serial), 1),
    openPortsAfter: left,
    rounds
  }
}

/** 10,000 asks to an actor that never answers, each with a short deadline. */
export async function benchTimeouts (count = 10_000): Promise<Record<string, unknown>> {
  const gc = (globalThis as { gc?: () => void }).gc
  const settle = async (): Promise<void> => { for (let i = 0; i < 3; i++) { gc?.(); await sleep(20) } }
  const system = newSystem()
  system.spawn(defineActor<{ type: 'bench.never' }>({
    name: 'never',
    commands: ['bench.never'],
    mailbox: { capacity: count },
    start: () => ({ receive: () => {} })
  }))
  await settle()
  const before = process.memoryUsage()
  const t = performance.now()
  let timedOut = 0
  await Promise.all(Array.from({ length: count }, async () => {
    try {
      // the bench actor's command type is not in the CommandMap: it is the bench's own
      await system.ask({ type: 'bench.never' } as unknown as { type: 'system.ping' }, { timeoutMs: 100 })
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') timedOut++
    }
  }))
  const elapsed = performance.now() - t
  await settle()
  const after = process.memoryUsage()
  const out = {
    asks: count,
    timedOut,
    allSettledMs: Math.round(elapsed),
    openPortsAfter: system.openPorts,
    sweeperHeapAfter: system.sweeperSize,
    rssBeforeMB: round(before.rss / 2 ** 20, 1),
    rssAfterMB: round(after.rss / 2 ** 20, 1),
    heapUsedBeforeMB: round(before.heapUsed / 2 ** 20, 1),
    heapUsedAfterMB: round(after.heapUsed / 2 ** 20, 1),
    gcExposed: gc !== undefined
  }
  await system.stop()
  return out
}
