import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { echoActor } from '../../helpers/echo-actor.js'
import { simSystem } from '../../helpers/sim.js'
import type { ProgressEvent } from '../../../src/actors/runtime/actor.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

describe('status', () => {
  it('reports mailbox depth, pending asks and per-type counters', async () => {
    const h = simSystem()
    h.system.spawn(echoActor({ capacity: 8 }))
    // queued, not yet delivered (delivery happens in a later microtask)
    const a = h.ask({ type: 'test.echo', text: 'a', delayMs: 100 } as BaseCommand)
    const b = h.ask({ type: 'test.echo', text: 'b', delayMs: 300 } as BaseCommand)
    const c = h.ask({ type: 'test.echo', text: 'c', delayMs: 10_000 } as BaseCommand, { timeoutMs: 200 })
    let st = h.system.status()
    let echo = st.actors.find(x => x.name === 'echo')
    expect(echo?.mailbox).toEqual({ depth: 3, systemDepth: 0, capacity: 8 })
    expect(echo?.pending).toBe(3)
    expect(echo?.state).toBe('running')
    expect(st.openPorts).toBe(3)
    expect(echo?.commands).toEqual({})
    await h.flush()
    st = h.system.status()
    echo = st.actors.find(x => x.name === 'echo')
    expect(echo?.mailbox.depth).toBe(0)
    expect(echo?.pending).toBe(3)
    await h.run()
    await Promise.all([a.promise, b.promise, c.promise])
    st = h.system.status()
    echo = st.actors.find(x => x.name === 'echo')
    expect(echo?.pending).toBe(0)
    expect(echo?.commands['test.echo']).toEqual({ served: 2, failed: 1, meanMs: 200, maxMs: 300 })
    expect(st.openPorts).toBe(0)
    expect(st.deliveries).toBe(h.system.deliveries)
    expect(st.deliveries).toBeGreaterThanOrEqual(5)
    // the slow reply after the timeout is counted as a dead letter
    expect(st.deadLetters).toEqual({ total: 1, byReason: { 'late-settle': 1 } })
  })

  it('actors can read the whole system status through their context', async () => {
    const h = simSystem()
    h.system.spawn(defineActor<BaseCommand>({
      name: 'reporter',
      commands: ['reporter.status'],
      start: ctx => ({ receive: msg => { if (msg.kind === 'command') ctx.reply(msg.env.id, ctx.systemStatus()) } })
    }))
    const t = h.ask({ type: 'reporter.status' })
    await h.run()
    expect(t.outcome).toMatchObject({ ok: true, value: { openPorts: 1, actors: [{ name: 'reporter', pending: 1 }] } })
  })
})

describe('progress', () => {
  function progressActor (): ReturnType<typeof defineActor<BaseCommand & { n: number }>> {
    return defineActor<BaseCommand & { n: number }>({
      name: 'chatty',
      commands: ['chatty.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind !== 'command') return
          for (let i = 0; i < msg.env.command.n; i++) ctx.progress({ type: 'test:progress', id: msg.env.id, detail: { i } })
          ctx.progress({ type: 'test:unowned' })
          ctx.reply(msg.env.id, null)
        }
      })
    })
  }

  it('reaches onProgress listeners, stamped with the actor; a throwing listener does not break others', async () => {
    const h = simSystem()
    h.system.spawn(progressActor())
    const got: ProgressEvent[] = []
    h.system.onProgress(() => { throw new Error('bad listener') })
    const off = h.system.onProgress(e => { got.push(e) })
    const t = h.ask({ type: 'chatty.go', n: 2 } as BaseCommand)
    await h.run()
    expect(t.outcome?.ok).toBe(true)
    expect(got).toEqual([
      { type: 'test:progress', id: t.id, detail: { i: 0 }, actor: 'chatty' },
      { type: 'test:progress', id: t.id, detail: { i: 1 }, actor: 'chatty' },
      { type: 'test:unowned', actor: 'chatty' }
    ])
    off()
    h.ask({ type: 'chatty.go', n: 2 } as BaseCommand)
    await h.run()
    expect(got.length).toBe(3)
  })

  it('is capped per query (progressPerQuery); the excess is one progress-dropped dead letter', async () => {
    const h = simSystem({ progressPerQuery: 5 })
    h.system.spawn(progressActor())
    const got: ProgressEvent[] = []
    h.system.onProgress(e => { got.push(e) })
    const t1 = h.ask({ type: 'chatty.go', n: 50 } as BaseCommand)
    const t2 = h.ask({ type: 'chatty.go', n: 3 } as BaseCommand)
    await h.run()
    expect(got.filter(e => e.id === t1.id).length).toBe(5)
    expect(got.filter(e => e.id === t2.id).length).toBe(3)
    expect(got.filter(e => e.type === 'test:unowned').length).toBe(2)
    expect(h.system.deadLetters.byReason['progress-dropped']).toBe(1)
  })
})
