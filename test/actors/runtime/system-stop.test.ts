import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { systemActor } from '../../../src/actors/system/system-actor.js'
import { echoActor, newEchoLog } from '../../helpers/echo-actor.js'
import { askAny, errorOf, rejection, simSystem } from '../../helpers/sim.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

describe('stop', () => {
  it('fails every open ask and stream with StoppedError, and later asks too', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(systemActor())
    h.system.spawn(echoActor({ mode: 'slow', lateMs: 500 }, log))
    const delivered = h.ask({ type: 'test.echo', text: 'a' } as BaseCommand, { timeoutMs: 10_000 })
    const s = h.stream({ type: 'test.count', n: 3 } as BaseCommand, { timeoutMs: 10_000 })
    await h.flush()
    const queued = h.ask({ type: 'test.echo', text: 'b' } as BaseCommand, { timeoutMs: 10_000 })
    expect(log.commands.length).toBe(2)
    await h.system.stop()
    for (const t of [delivered, queued]) {
      const o = await t.promise
      expect(o.ok).toBe(false)
      expect(errorOf(o).name).toBe('StoppedError')
      expect(o.at).toBe(0)
    }
    const so = await s.done
    if (so.ok) expect.fail('stream should fail')
    else expect(so.error.name).toBe('StoppedError')
    expect(h.system.openPorts).toBe(0)
    expect(h.system.isStopped).toBe(true)
    expect(log.stops).toBe(1)

    const later = await rejection(h.system.ask({ type: 'system.ping' }))
    expect(later.name).toBe('StoppedError')
    const laterEcho = await rejection(askAny(h.system, { type: 'test.echo', text: 'c' } as BaseCommand))
    expect(laterEcho.name).toBe('StoppedError')
    expect(() => { h.system.spawn(echoActor({ name: 'late', prefix: 'late' })) }).toThrow(/stopped/)
    // stopping twice is harmless
    await h.system.stop()
  })

  it('after stop, the actor\'s pending timers never reach receive or a caller', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ mode: 'slow', lateMs: 500 }, log))
    const t = h.ask({ type: 'test.echo', text: 'a' } as BaseCommand, { timeoutMs: 10_000 })
    await h.flush()
    await h.system.stop()
    await h.run()
    expect(log.settleResults).toEqual([])
    expect(t.seen).toBe(1)
    expect(h.trace.settles(t.id).length).toBe(1)
  })

  it('after stop, a completion of in-flight work (ctx.pipe) is an actor-stopped dead letter, never a reply', async () => {
    const h = simSystem()
    let resolveWork!: (v: string) => void
    const work = new Promise<string>(resolve => { resolveWork = resolve })
    let received = 0
    h.system.spawn(defineActor<BaseCommand, { id: string, r: unknown }>({
      name: 'piper',
      commands: ['piper.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') { const id = msg.env.id; ctx.pipe(work, r => ({ id, r }), id) }
          if (msg.kind === 'internal') { received++; ctx.reply(msg.msg.id, msg.msg.r) }
        }
      })
    }))
    const t = h.ask({ type: 'piper.go' }, { timeoutMs: 10_000 })
    await h.flush()
    await h.system.stop()
    resolveWork('too late')
    await h.run()
    expect(received).toBe(0)
    expect(h.system.deadLetters.byReason['actor-stopped']).toBe(1)
    expect(t.outcome?.ok).toBe(false)
    expect(h.trace.settles(t.id).length).toBe(1)
  })

  it('a ctx.reply made after stop (e.g. from a resource callback) is a late-settle dead letter', async () => {
    const h = simSystem()
    let late: (() => boolean) | undefined
    h.system.spawn(defineActor<BaseCommand>({
      name: 'leaky',
      commands: ['leaky.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') {
            const id = msg.env.id
            late = () => ctx.reply(id, 'too late')
          }
        }
      })
    }))
    const t = h.ask({ type: 'leaky.go' })
    await h.flush()
    await h.system.stop()
    expect(late?.()).toBe(false)
    expect(h.system.deadLetters.byReason['late-settle']).toBe(1)
    const o = await t.promise
    if (o.ok) expect.fail('must be stopped')
    else expect(o.error.name).toBe('StoppedError')
    expect(h.trace.settles(t.id).length).toBe(1)
  })

  it('internal messages still queued at stop are actor-stopped dead letters, not silently dropped', async () => {
    const h = simSystem()
    const got: unknown[] = []
    h.system.spawn(defineActor<BaseCommand, string>({
      name: 'busy',
      commands: ['busy.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') { ctx.self('one'); ctx.self('two') } else if (msg.kind === 'internal') got.push(msg.msg)
        }
      })
    }))
    const t = h.ask({ type: 'busy.go' })
    expect(h.system.step()).toBe(true) // deliver the command only
    const stopping = h.system.stop()
    await stopping
    await h.run()
    expect(got).toEqual([])
    expect(h.system.deadLetters.byReason['actor-stopped']).toBe(2)
    expect((await t.promise).ok).toBe(false)
  })

  it('waits for behaviours to release their resources', async () => {
    const h = simSystem()
    let released = false
    h.system.spawn(defineActor<BaseCommand>({
      name: 'resource',
      commands: ['resource.x'],
      start: () => ({
        receive: () => {},
        stop: async () => {
          await new Promise<void>(resolve => { setImmediate(resolve) })
          released = true
        }
      })
    }))
    await h.system.stop()
    expect(released).toBe(true)
  })

  it('stopActor stops one actor: its asks fail with StoppedError, the others keep serving', async () => {
    const h = simSystem()
    h.system.spawn(systemActor())
    h.system.spawn(echoActor({ mode: 'never' }))
    const t = h.ask({ type: 'test.echo', text: 'a' } as BaseCommand)
    await h.flush()
    await h.system.stopActor('echo')
    const o = await t.promise
    if (o.ok) expect.fail('must be stopped')
    else expect(o.error.name).toBe('StoppedError')
    expect((await rejection(askAny(h.system, { type: 'test.echo', text: 'b' } as BaseCommand))).name).toBe('StoppedError')
    await expect(h.system.ask({ type: 'system.ping' })).resolves.toEqual({})
    expect(h.system.status().actors.find(a => a.name === 'echo')?.state).toBe('stopped')
  })
})
