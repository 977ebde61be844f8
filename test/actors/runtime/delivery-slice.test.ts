/**
 * The delivery slice (SystemOptions.deliverySliceMs): the system yields to
 * the host once it has delivered for that long by its clock, across the
 * drains of one stretch of microtasks too (completions that re-enter as
 * they resolve), not only after `deliveryBudget` deliveries; every ask is
 * still answered, in order. On a clock that does not move within a stretch
 * (the simulated clock) it never yields, so a replay's deliveries do not
 * depend on it.
 */
import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import { echoActor } from '../../helpers/echo-actor.js'
import { askAny } from '../../helpers/sim.js'
import type { Clock } from '../../../src/actors/runtime/clock.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

/** a clock whose every now() reading is `step` ms after the one before: work takes time */
function tickingClock (step: number): Clock & { reads: number } {
  const sim = new SimulatedClock()
  let t = 0
  const c = {
    reads: 0,
    now: () => { c.reads++; t += step; return t },
    wall: () => 1_700_000_000_000 + t,
    setTimer: (at: number, fn: () => void) => sim.setTimer(at, fn),
    clearTimer: (id: number) => { sim.clearTimer(id) }
  }
  return c
}

/** yieldToHost as a macrotask, counted; `pending` runs what was queued (the host's turn) */
function host (): { yieldToHost: (fn: () => void) => void, yields: number, turn: () => Promise<void> } {
  const queued: Array<() => void> = []
  const h = {
    yields: 0,
    yieldToHost: (fn: () => void) => { h.yields++; queued.push(fn) },
    turn: async () => {
      await new Promise<void>(resolve => { setImmediate(resolve) })
      for (const fn of queued.splice(0)) fn()
    }
  }
  return h
}

/** an actor whose command starts a chain of n completions, each re-entering through a resolved promise */
function chainActor (): ReturnType<typeof defineActor<BaseCommand & { n?: number }, { left: number, id: string }>> {
  return defineActor<BaseCommand & { n?: number }, { left: number, id: string }>({
    name: 'chain',
    commands: ['test.chain'],
    start: ctx => ({
      receive: msg => {
        if (msg.kind === 'command') {
          ctx.pipe(Promise.resolve(), () => ({ left: msg.command.n ?? 0, id: msg.env.id }))
        } else if (msg.kind === 'internal') {
          const { left, id } = msg.msg
          if (left === 0) ctx.reply(id, 'done')
          else ctx.pipe(Promise.resolve(), () => ({ left: left - 1, id }))
        }
      }
    })
  })
}

async function settleAll (h: ReturnType<typeof host>, work: Promise<unknown>, turns = 2_000): Promise<void> {
  let done = false
  void work.finally(() => { done = true })
  for (let i = 0; i < turns && !done; i++) await h.turn()
  await work
}

describe('delivery slice', () => {
  it('yields to the host after deliverySliceMs of deliveries, well before the delivery budget; every ask is answered in order', async () => {
    const h = host()
    const system = new ActorSystem({ clock: tickingClock(0.5), yieldToHost: h.yieldToHost, deliverySliceMs: 2 })
    system.spawn(echoActor())
    const order: number[] = []
    const asks = Array.from({ length: 200 }, async (_, i) => {
      await askAny(system, { type: 'test.echo', text: String(i) } as BaseCommand)
      order.push(i)
    })
    await settleAll(h, Promise.all(asks))
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i))
    // 200 deliveries at ~1 ms of clock each (two readings), 2 ms a slice: far more yields than the budget's none
    expect(h.yields).toBeGreaterThan(40)
  })

  it('counts the slice across the drains of one stretch of microtasks (a chain of completions)', async () => {
    const h = host()
    const system = new ActorSystem({ clock: tickingClock(0.5), yieldToHost: h.yieldToHost, deliverySliceMs: 2 })
    system.spawn(chainActor())
    const done = askAny(system, { type: 'test.chain', n: 100 } as BaseCommand)
    await settleAll(h, done)
    expect(await done).toBe('done')
    // each link is its own drain (a microtask after the promise resolves): without the slice none would yield
    expect(h.yields).toBeGreaterThan(20)
  })

  it('never yields on a clock that does not move within a stretch, nor with the slice off', async () => {
    for (const [clock, slice] of [[new SimulatedClock(), 2], [tickingClock(0.5), Infinity]] as const) {
      const h = host()
      const system = new ActorSystem({ clock, yieldToHost: h.yieldToHost, deliverySliceMs: slice })
      system.spawn(echoActor())
      system.spawn(chainActor())
      const all = Promise.all([
        ...Array.from({ length: 100 }, async (_, i) => await askAny(system, { type: 'test.echo', text: String(i) } as BaseCommand)),
        askAny(system, { type: 'test.chain', n: 50 } as BaseCommand)
      ])
      // no host turn is needed: everything runs in microtasks
      for (let i = 0; i < 5_000; i++) await Promise.resolve()
      expect((await all).length).toBe(101)
      // the only callbacks queued are the slices' end markers (one per stretch), none a deferred drain
      if (slice === Infinity) expect(h.yields).toBe(0)
      else expect(h.yields).toBeLessThanOrEqual(1)
    }
  })
})
