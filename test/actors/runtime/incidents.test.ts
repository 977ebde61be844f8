/**
 * Failures nobody waits for are not swallowed: an actor's stop() that
 * rejects, a progress or dead-letter listener that throws, a completion
 * whose message cannot be built — each is an incident, counted by kind, kept
 * and handed to listeners; a status hook that throws says so in its detail.
 */
import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { simSystem } from '../../helpers/sim.js'
import type { Incident } from '../../../src/actors/runtime/incidents.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

interface Cmd extends BaseCommand { type: 'inc.ping' | 'inc.lose' | 'inc.twice' }

function actor () {
  return defineActor<Cmd, { type: 'never' }>({
    name: 'inc',
    commands: ['inc.ping', 'inc.lose', 'inc.twice'],
    start: ctx => ({
      receive: msg => {
        if (msg.kind !== 'command') return
        if (msg.type === 'inc.lose') {
          // the work completes, but its message cannot be built
          ctx.pipe(Promise.resolve(1), () => { throw new Error('no message for this') }, msg.port.id)
          return
        }
        if (msg.type === 'inc.twice') {
          ctx.reply(msg.port.id, 1)
          ctx.reply(msg.port.id, 2) // a dead letter, whose listener throws
          return
        }
        ctx.progress({ type: 'inc:progress', id: msg.port.id })
        ctx.reply(msg.port.id, {})
      },
      status: () => { throw new Error('status broke') },
      stop: async () => { throw new Error('could not release the thing') }
    })
  })
}

describe('incidents', () => {
  it('are counted, kept and told: a stop that fails, listeners that throw, a lost completion; a failing status hook shows in its detail', async () => {
    const h = simSystem()
    h.system.spawn(actor())
    const seen: Incident[] = []
    h.system.incidents.onIncident(i => { seen.push(i) })
    h.system.onProgress(() => { throw new Error('progress listener broke') })
    h.system.deadLetters.onDeadLetter(() => { throw new Error('dead-letter listener broke') })
    h.ask({ type: 'inc.ping' } as BaseCommand)
    h.ask({ type: 'inc.twice' } as BaseCommand)
    h.ask({ type: 'inc.lose' } as BaseCommand, { timeoutMs: 1_000 })
    await h.flush()
    await new Promise(resolve => setImmediate(resolve))
    const detail = h.system.status().actors.find(a => a.name === 'inc')?.detail
    expect(detail).toEqual({ statusError: 'Error: status broke' })
    await h.system.stop()
    // the listeners failed on the progress event and on two dead letters (the second reply, and the lost completion's)
    expect(h.system.incidents.byKind).toMatchObject({ 'listener-failed': 3, 'completion-lost': 1, 'stop-failed': 1 })
    expect(seen.map(i => i.kind).sort()).toEqual(['completion-lost', 'listener-failed', 'listener-failed', 'listener-failed', 'stop-failed'])
    expect(seen.find(i => i.kind === 'stop-failed')).toMatchObject({ actor: 'inc', message: 'Error: could not release the thing' })
    expect(h.system.incidents.recent()).toHaveLength(5)
  })
})
