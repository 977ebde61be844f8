import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { echoActor, newEchoLog } from '../../helpers/echo-actor.js'
import { errorOf, simSystem, streamAny } from '../../helpers/sim.js'
import type { Settled } from '../../../src/actors/runtime/actor.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

describe('stream ports', () => {
  it('delivers the items in order, then ends', async () => {
    const h = simSystem()
    h.system.spawn(echoActor())
    const s = h.stream({ type: 'test.count', n: 5, delayMs: 10 } as BaseCommand)
    await h.run()
    await s.done
    expect(s.items).toEqual([0, 1, 2, 3, 4])
    expect(s.outcome).toMatchObject({ ok: true, value: 5, at: 50 })
    expect(h.trace.settles(s.id).length).toBe(1)
    expect(h.system.openPorts).toBe(0)
  })

  it('an empty stream just ends', async () => {
    const h = simSystem()
    h.system.spawn(echoActor())
    const s = h.stream({ type: 'test.count', n: 0 } as BaseCommand)
    await h.run()
    await s.done
    expect(s.items).toEqual([])
    expect(s.outcome?.ok).toBe(true)
  })

  it('a failed stream surfaces the typed error after its items', async () => {
    const h = simSystem()
    h.system.spawn(echoActor())
    const s = h.stream({ type: 'test.count', n: 2, fail: true } as BaseCommand)
    await h.run()
    await s.done
    expect(s.items).toEqual([0, 1])
    expect(s.outcome?.ok).toBe(false)
    expect(errorOf(s.outcome).name).toBe('FailedError')
  })

  it('a stream past its deadline fails with TimeoutError at the deadline; later items are dead letters', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({}, log))
    const s = h.stream({ type: 'test.count', n: 10, delayMs: 100 } as BaseCommand, { timeoutMs: 350 })
    await h.run()
    await s.done
    expect(s.items).toEqual([0, 1, 2, 3])
    expect(s.outcome?.ok).toBe(false)
    expect(errorOf(s.outcome).name).toBe('TimeoutError')
    expect(h.trace.settles(s.id).map(x => x.t)).toEqual([350])
    expect(log.cancels).toEqual([{ kind: 'cancel', id: s.id, reason: 'timeout' }])
    // the actor kept going (it ignores cancels): every later item and the end are dead letters
    expect(h.system.deadLetters.byReason['late-item']).toBe(6)
    expect(h.system.deadLetters.byReason['late-settle']).toBe(1)
  })

  it('a consumer that falls more than streamBuffer items behind gets OverloadedError; the actor is told', async () => {
    const log = newEchoLog()
    const h = simSystem({ streamBuffer: 4 })
    h.system.spawn(echoActor({}, log))
    const it = streamAny(h.system, { type: 'test.count', n: 10 } as BaseCommand)
    const id = h.trace.lastAskId()
    await h.run() // nobody reads meanwhile
    const items: unknown[] = []
    let error: Error | undefined
    try {
      for await (const x of it) items.push(x)
    } catch (e) {
      error = e as Error
    }
    expect(items).toEqual([0, 1, 2, 3])
    expect(error?.name).toBe('OverloadedError')
    // ctx.next said no for the fifth item, and the actor got a cancel
    expect(log.settleResults.filter(r => !r.ok).length).toBeGreaterThanOrEqual(1)
    expect(log.settleResults.slice(0, 5).map(r => r.ok)).toEqual([true, true, true, true, false])
    expect(log.cancels.map(c => c.id)).toEqual([id])
    expect(h.system.openPorts).toBe(0)
  })

  it('a consumer that keeps up is never overloaded, however long the stream', async () => {
    const h = simSystem({ streamBuffer: 2 })
    h.system.spawn(echoActor())
    const s = h.stream({ type: 'test.count', n: 200, delayMs: 1 } as BaseCommand)
    await h.run()
    await s.done
    expect(s.items.length).toBe(200)
    expect(s.outcome?.ok).toBe(true)
  })

  it('breaking out of for-await cancels the query: the actor gets cancel aborted, later items are dead letters', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({}, log))
    const s = h.stream({ type: 'test.count', n: 10, delayMs: 10 } as BaseCommand, {}, { breakAfter: 3 })
    await h.run()
    await s.done
    expect(s.items).toEqual([0, 1, 2])
    expect(s.outcome?.ok).toBe(true)
    expect(log.cancels).toEqual([{ kind: 'cancel', id: s.id, reason: 'aborted' }])
    expect(log.signals.get(s.id)?.aborted).toBe(true)
    expect(h.trace.settles(s.id)).toMatchObject([{ ev: { ok: false, failure: { kind: 'aborted' } } }])
    expect(h.system.deadLetters.byReason['late-item']).toBeGreaterThanOrEqual(1)
    expect(h.system.openPorts).toBe(0)
  })

  it('answering a stream with ctx.reply fails it (a stream is not a one-shot)', async () => {
    const h = simSystem()
    h.system.spawn(defineActor<BaseCommand>({
      name: 'confused',
      commands: [],
      streams: ['confused.list'],
      start: ctx => ({ receive: msg => { if (msg.kind === 'command') ctx.reply(msg.env.id, [1, 2]) } })
    }))
    const s = h.stream({ type: 'confused.list' })
    await h.run()
    await s.done
    expect(s.outcome?.ok).toBe(false)
    expect(errorOf(s.outcome).name).toBe('FailedError')
  })

  it('ctx.stream between actors: items and the end re-enter as internal messages', async () => {
    const h = simSystem()
    const seen: unknown[] = []
    h.system.spawn(echoActor())
    h.system.spawn(defineActor<BaseCommand, { item?: unknown, end?: Settled<number>, id: string }>({
      name: 'collector',
      commands: ['collector.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') {
            const id = msg.env.id
            ctx.stream({ type: 'test.count', n: 3 } as BaseCommand, {}, item => ({ item, id }), end => ({ end, id }))
          } else if (msg.kind === 'internal') {
            seen.push(msg.msg.end ?? msg.msg.item)
            if (msg.msg.end !== undefined) ctx.reply(msg.msg.id, seen.length)
          }
        }
      })
    }))
    const t = h.ask({ type: 'collector.go' })
    await h.run()
    expect(t.outcome).toMatchObject({ ok: true, value: 4 })
    expect(seen).toEqual([0, 1, 2, { ok: true, value: 3 }])
  })
})
