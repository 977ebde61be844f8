/**
 * Broken invariants crash the actor into its supervisor, never carry on: an
 * actor that sets more timers than an incarnation may hold crashes (a
 * `crash` in the trace naming the invariant), the ask it served fails with
 * StoppedError, and the supervisor starts it again, which serves the next ask.
 */
import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { invariant, InvariantError, MAX_TIMERS_PER_ACTOR } from '../../../src/actors/runtime/invariant.js'
import { errorOf, simSystem } from '../../helpers/sim.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

interface Flood extends BaseCommand { type: 'flood.timers' | 'flood.ping', count?: number }

describe('runtime invariants', () => {
  it('invariant() throws an InvariantError naming what broke', () => {
    expect(() => { invariant(1 > 2, () => 'one is not more than two') }).toThrow(InvariantError)
    expect(() => { invariant(1 > 2, () => 'one is not more than two') }).toThrow('invariant broken: one is not more than two')
    expect(() => { invariant(true, () => 'never') }).not.toThrow()
  })

  it('an actor past its timer bound crashes into its supervisor and is restarted', async () => {
    const h = simSystem()
    h.system.spawn(defineActor<Flood, { type: 'tick' }>({
      name: 'flood',
      commands: ['flood.timers', 'flood.ping'],
      supervision: { backoffMs: 1 },
      start: ctx => ({
        receive: msg => {
          if (msg.kind !== 'command') return
          if (msg.command.type === 'flood.ping') {
            ctx.reply(msg.port.id, { incarnation: ctx.incarnation })
            return
          }
          for (let i = 0; i < (msg.command.count ?? 0); i++) ctx.after(60_000, { type: 'tick' })
          ctx.reply(msg.port.id, { set: msg.command.count })
        }
      })
    }))
    const fine = h.ask({ type: 'flood.timers', count: 1_000 } as BaseCommand)
    await h.flush()
    expect(fine.outcome?.ok).toBe(true)
    const flood = h.ask({ type: 'flood.timers', count: MAX_TIMERS_PER_ACTOR } as BaseCommand)
    await h.flush()
    expect(errorOf(flood.outcome).name).toBe('StoppedError')
    const crash = h.trace.events.find(e => e.dir === 'out' && e.ev.type === 'crash')
    expect(crash?.ev).toMatchObject({ type: 'crash', actor: 'flood' })
    expect(JSON.stringify(crash?.ev)).toContain('invariant broken')
    h.clock.advance(10)
    const after = h.ask({ type: 'flood.ping' } as BaseCommand)
    await h.flush()
    expect(after.outcome).toMatchObject({ ok: true, value: { incarnation: 1 } })
  })
})
