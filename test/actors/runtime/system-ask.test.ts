import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { systemActor } from '../../../src/actors/system/system-actor.js'
import { failure } from '../../../src/messages/failure.js'
import { echoActor, newEchoLog } from '../../helpers/echo-actor.js'
import { askAny, errorOf, rejection, simSystem } from '../../helpers/sim.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

describe('ActorSystem.ask', () => {
  it('resolves with the reply (system.ping and an echo actor)', async () => {
    const h = simSystem()
    h.system.spawn(systemActor())
    h.system.spawn(echoActor())
    await expect(h.system.ask({ type: 'system.ping' })).resolves.toEqual({})
    await expect(askAny(h.system, { type: 'test.echo', text: 'hi' } as BaseCommand)).resolves.toEqual({ text: 'hi', incarnation: 0 })
    expect(h.system.openPorts).toBe(0)
  })

  it('works on the real clock path too (auto-drain, no runUntilQuiet)', async () => {
    const system = new ActorSystem({ clock: new SimulatedClock() })
    system.spawn(systemActor())
    const replies = await Promise.all(Array.from({ length: 100 }, async () => system.ask({ type: 'system.ping' })))
    expect(replies.length).toBe(100)
    expect(system.openPorts).toBe(0)
  })

  it('an unknown command type is an InvalidCommandError naming the field type', async () => {
    const h = simSystem()
    h.system.spawn(systemActor())
    const err = await rejection(askAny(h.system, { type: 'nope.nothing' }))
    expect(err.name).toBe('InvalidCommandError')
    expect((err as Error & { field: string }).field).toBe('type')
    const err2 = await rejection(askAny(h.system, null as unknown as BaseCommand))
    expect(err2.name).toBe('InvalidCommandError')
    expect((err2 as Error & { field: string }).field).toBe('type')
  })

  it('validate() rejects before delivery, naming the field; a throwing validate names command', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({}, log))
    const t = h.ask({ type: 'test.echo', text: 42 } as unknown as BaseCommand)
    const o = await t.promise
    expect(o.ok).toBe(false)
    if (o.ok) return
    expect(o.error.name).toBe('InvalidCommandError')
    expect((o.error as Error & { field: string }).field).toBe('text')
    await h.run()
    expect(log.commands).toEqual([])
    expect(h.trace.deliveriesOf(t.id)).toBe(0)
    expect(h.system.openPorts).toBe(0)

    h.system.spawn(defineActor<BaseCommand>({
      name: 'picky',
      commands: ['picky.x'],
      validate: () => { throw new Error('validator blew up') },
      start: () => ({ receive: () => { throw new Error('must not be delivered') } })
    }))
    const err = await rejection(askAny(h.system, { type: 'picky.x' }))
    expect(err.name).toBe('InvalidCommandError')
    expect((err as Error & { field: string }).field).toBe('command')
  })

  it('ask() on a stream type and stream() on an ask type are InvalidCommandErrors', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({}, log))
    const a = await rejection(askAny(h.system, { type: 'test.count', n: 3 } as BaseCommand))
    expect(a.name).toBe('InvalidCommandError')
    expect((a as Error & { field: string }).field).toBe('type')
    const s = h.stream({ type: 'test.echo', text: 'x' } as BaseCommand)
    const o = await s.done
    expect(o.ok).toBe(false)
    expect(errorOf(o).name).toBe('InvalidCommandError')
    expect(log.commands).toEqual([])
  })

  it('bad timeoutMs / deadline values are InvalidCommandErrors naming the field', async () => {
    const h = simSystem()
    h.system.spawn(systemActor())
    for (const timeoutMs of [0, -5, Number.NaN, Infinity]) {
      const err = await rejection(h.system.ask({ type: 'system.ping' }, { timeoutMs }))
      expect(err.name).toBe('InvalidCommandError')
      expect((err as Error & { field: string }).field).toBe('timeoutMs')
    }
    const err = await rejection(h.system.ask({ type: 'system.ping' }, { deadline: Number.NaN }))
    expect((err as Error & { field: string }).field).toBe('deadline')
  })

  it('a full user mailbox is an OverloadedError (per-definition capacity), never a silent drop', async () => {
    const h = simSystem()
    h.system.spawn(echoActor({ capacity: 2 }))
    h.system.spawn(echoActor({ name: 'roomy', prefix: 'roomy', capacity: 10 }))
    const asks = [1, 2, 3, 4].map(i => h.ask({ type: 'test.echo', text: `t${i}` } as BaseCommand))
    const roomy = [1, 2, 3, 4].map(i => h.ask({ type: 'roomy.echo', text: `r${i}` } as BaseCommand))
    await h.run()
    const outs = await Promise.all(asks.map(async a => a.promise))
    expect(outs.map(o => o.ok)).toEqual([true, true, false, false])
    for (const o of outs.slice(2)) expect(errorOf(o).name).toBe('OverloadedError')
    const routs = await Promise.all(roomy.map(async a => a.promise))
    expect(routs.every(o => o.ok)).toBe(true)
    // once drained there is room again
    await expect(askAny(h.system, { type: 'test.echo', text: 'again' } as BaseCommand)).resolves.toEqual({ text: 'again', incarnation: 0 })
  })

  it('maxOpenPorts bounds the open queries of the whole system: OverloadedError beyond it', async () => {
    const h = simSystem({ maxOpenPorts: 3 })
    h.system.spawn(echoActor({ mode: 'never' }))
    const asks = [1, 2, 3].map(i => h.ask({ type: 'test.echo', text: `t${i}` } as BaseCommand, { timeoutMs: 100 }))
    const over = h.ask({ type: 'test.echo', text: 'over' } as BaseCommand, { timeoutMs: 100 })
    const o = await over.promise
    expect(o.ok).toBe(false)
    expect(errorOf(o).name).toBe('OverloadedError')
    expect(h.system.openPorts).toBe(3)
    await h.run()
    for (const a of asks) expect((await a.promise).ok).toBe(false)
    expect(h.system.openPorts).toBe(0)
    // room again after they timed out
    const again = h.ask({ type: 'test.echo', text: 'again' } as BaseCommand, { timeoutMs: 100 })
    await h.run()
    const ao = await again.promise
    expect(errorOf(ao).name).toBe('TimeoutError')
  })

  it('a deadline on the simulated clock times out exactly at the deadline; the actor gets cancel timeout and its signal aborts', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ mode: 'never' }, log))
    const t = h.ask({ type: 'test.echo', text: 'x' } as BaseCommand, { timeoutMs: 1000 })
    await h.flush()
    expect(log.commands.map(c => c.id)).toEqual([t.id])
    const signal = log.signals.get(t.id)
    expect(signal?.aborted).toBe(false)
    h.clock.advanceTo(999)
    await h.flush()
    expect(t.outcome).toBeUndefined()
    expect(signal?.aborted).toBe(false)
    h.clock.advanceTo(1000)
    await h.flush()
    expect(t.outcome?.ok).toBe(false)
    expect(errorOf(t.outcome).name).toBe('TimeoutError')
    expect(t.outcome?.at).toBe(1000)
    expect(h.trace.settles(t.id).map(s => s.t)).toEqual([1000])
    expect(log.cancels).toEqual([{ kind: 'cancel', id: t.id, reason: 'timeout' }])
    expect(signal?.aborted).toBe(true)
    expect((signal?.reason as Error).name).toBe('TimeoutError')
    expect(h.system.openPorts).toBe(0)
  })

  it('an absolute deadline wins over timeoutMs; the default and maximum timeouts apply', async () => {
    const h = simSystem({ defaultTimeoutMs: 500, maxTimeoutMs: 2000 })
    h.system.spawn(echoActor({ mode: 'never' }))
    const byDeadline = h.ask({ type: 'test.echo', text: 'a' } as BaseCommand, { deadline: 300, timeoutMs: 5000 })
    const byDefault = h.ask({ type: 'test.echo', text: 'b' } as BaseCommand)
    const capped = h.ask({ type: 'test.echo', text: 'c' } as BaseCommand, { timeoutMs: 1_000_000 })
    await h.run()
    expect(byDeadline.outcome?.at).toBe(300)
    expect(byDefault.outcome?.at).toBe(500)
    expect(capped.outcome?.at).toBe(2000)
    for (const t of [byDeadline, byDefault, capped]) {
      expect(errorOf(t.outcome).name).toBe('TimeoutError')
    }
  })

  it('a deadline already passed is a TimeoutError without delivery', async () => {
    const log = newEchoLog()
    const h = simSystem({ clock: new SimulatedClock(1000) })
    h.system.spawn(echoActor({}, log))
    const err = await rejection(askAny(h.system, { type: 'test.echo', text: 'a' } as BaseCommand, { deadline: 1000 }))
    expect(err.name).toBe('TimeoutError')
    await h.run()
    expect(log.commands).toEqual([])
  })

  it('an AbortSignal aborts with AbortError and tells the actor cancel aborted', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ mode: 'never' }, log))
    const ac = new AbortController()
    const t = h.ask({ type: 'test.echo', text: 'x' } as BaseCommand, { timeoutMs: 1000, signal: ac.signal })
    await h.flush()
    h.clock.advanceTo(10)
    ac.abort()
    await h.flush()
    expect(t.outcome?.ok).toBe(false)
    expect(errorOf(t.outcome).name).toBe('AbortError')
    expect(t.outcome?.at).toBe(10)
    expect(log.cancels).toEqual([{ kind: 'cancel', id: t.id, reason: 'aborted' }])
    expect(log.signals.get(t.id)?.aborted).toBe(true)
    // the deadline passing later does nothing more
    await h.run()
    expect(h.trace.settles(t.id).length).toBe(1)
    expect(log.cancels.length).toBe(1)
  })

  it('an already-aborted signal rejects with AbortError before delivery', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({}, log))
    const err = await rejection(askAny(h.system, { type: 'test.echo', text: 'x' } as BaseCommand, { signal: AbortSignal.abort() }))
    expect(err.name).toBe('AbortError')
    await h.run()
    expect(log.commands).toEqual([])
  })

  it('an ask aborted while still queued is never delivered', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({}, log))
    const ac = new AbortController()
    const t = h.ask({ type: 'test.echo', text: 'x' } as BaseCommand, { signal: ac.signal })
    ac.abort()
    await h.run()
    expect(t.outcome?.ok).toBe(false)
    expect(log.commands).toEqual([])
    expect(log.cancels).toEqual([])
  })

  it('a late ctx.reply after a timeout returns false and is a late-settle dead letter; the caller keeps the TimeoutError', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ mode: 'slow', lateMs: 5000 }, log))
    const t = h.ask({ type: 'test.echo', text: 'x' } as BaseCommand, { timeoutMs: 1000 })
    await h.run()
    expect(t.seen).toBe(1)
    expect(errorOf(t.outcome).name).toBe('TimeoutError')
    expect(log.settleResults).toEqual([{ id: t.id, ok: false }])
    expect(h.system.deadLetters.byReason['late-settle']).toBe(1)
    expect(h.system.deadLetters.recent().at(-1)).toMatchObject({ reason: 'late-settle', actor: 'echo', id: t.id, at: 5000 })
    expect(h.trace.settles(t.id).length).toBe(1)
  })

  it('a double reply: the caller gets the first, the second is a dead letter', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({}, log))
    const t = h.ask({ type: 'test.echo', text: 'one', twice: true } as BaseCommand)
    await h.run()
    expect(t.outcome).toMatchObject({ ok: true, value: { text: 'one' } })
    expect(log.settleResults).toEqual([{ id: t.id, ok: true }, { id: t.id, ok: false }])
    expect(h.system.deadLetters.byReason['late-settle']).toBe(1)
    expect(h.trace.settles(t.id).length).toBe(1)
  })

  it('an actor cannot settle a port it does not own', async () => {
    const h = simSystem()
    let stolen: boolean | undefined
    h.system.spawn(echoActor({ mode: 'never' }))
    h.system.spawn(defineActor<BaseCommand & { target: string }>({
      name: 'thief',
      commands: ['thief.steal'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind !== 'command') return
          stolen = ctx.reply(msg.env.command.target, 'stolen')
          ctx.reply(msg.env.id, 'done')
        }
      })
    }))
    const victim = h.ask({ type: 'test.echo', text: 'x' } as BaseCommand, { timeoutMs: 100 })
    await h.flush()
    await askAny(h.system, { type: 'thief.steal', target: victim.id } as BaseCommand)
    expect(stolen).toBe(false)
    await h.run()
    expect(errorOf(victim.outcome).name).toBe('TimeoutError')
  })

  it('ctx.fail settles with the typed error of the failure kind', async () => {
    const h = simSystem()
    h.system.spawn(defineActor<BaseCommand>({
      name: 'nf',
      commands: ['nf.get'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') ctx.fail(msg.env.id, failure('not-found', 'no such key'))
        }
      })
    }))
    const err = await rejection(askAny(h.system, { type: 'nf.get' }))
    expect(err.name).toBe('NotFoundError')
    expect(err.message).toBe('no such key')
    expect(h.system.status().actors[0]?.commands['nf.get']).toMatchObject({ served: 0, failed: 1 })
  })
})
