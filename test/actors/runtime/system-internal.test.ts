/**
 * Async completions re-enter an actor as internal messages through its
 * mailbox: ctx.pipe, ctx.pump, ctx.after, ctx.self and replies to ctx.ask.
 */
import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { failure } from '../../../src/messages/failure.js'
import { echoActor, newEchoLog } from '../../helpers/echo-actor.js'
import { askAny, errorOf, simSystem } from '../../helpers/sim.js'
import type { Incoming, Settled } from '../../../src/actors/runtime/actor.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

interface Deferred<T> { promise: Promise<T>, resolve: (v: T) => void, reject: (e: unknown) => void }
function deferred<T> (): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** what receive saw, with whether a receive was already running (it never may be) */
type Seen = { kind: Incoming<BaseCommand, unknown>['kind'], msg?: unknown, at: number, nested: boolean }

describe('internal messages', () => {
  it('ctx.pipe completions re-enter through the mailbox, in completion order, with failures as values', async () => {
    const works = [deferred<string>(), deferred<string>(), deferred<string>()]
    const seen: Seen[] = []
    let inReceive = false
    const h = simSystem()
    h.system.spawn(defineActor<BaseCommand, { i: number, r: Settled<string> }>({
      name: 'piper',
      commands: ['piper.go'],
      start: ctx => {
        let asker = ''
        let got = 0
        return {
          receive: msg => {
            seen.push({ kind: msg.kind, msg: msg.kind === 'internal' ? msg.msg : undefined, at: ctx.clock.now(), nested: inReceive })
            inReceive = true
            try {
              if (msg.kind === 'command') {
                asker = msg.env.id
                works.forEach((w, i) => { ctx.pipe(w.promise, r => ({ i, r }), msg.env.id) })
              } else if (msg.kind === 'internal' && ++got === 3) {
                ctx.reply(asker, 'all in')
              }
            } finally {
              inReceive = false
            }
          }
        }
      }
    }))
    const t = h.ask({ type: 'piper.go' })
    await h.flush()
    works[2]?.resolve('two')
    works[0]?.reject(new Error('zero failed'))
    await h.flush()
    works[1]?.resolve('one')
    await h.run()
    expect(t.outcome).toMatchObject({ ok: true, value: 'all in' })
    expect(seen.map(s => s.kind)).toEqual(['command', 'internal', 'internal', 'internal'])
    expect(seen.every(s => !s.nested)).toBe(true)
    expect(seen.slice(1).map(s => s.msg)).toEqual([
      { i: 2, r: { ok: true, value: 'two' } },
      { i: 0, r: { ok: false, failure: failure('failed', 'zero failed') } },
      { i: 1, r: { ok: true, value: 'one' } }
    ])
    // each completion was a mailbox delivery of its own
    const internalDeliveries = h.trace.events.filter(e => e.dir === 'out' && e.ev.type === 'deliver' && e.ev.kind === 'internal')
    expect(internalDeliveries.length).toBe(3)
  })

  it('runUntilQuiet lets a completion many promise hops away land before it moves virtual time (no spurious timeout)', async () => {
    async function deep (hops: number): Promise<string> {
      for (let i = 0; i < hops; i++) await Promise.resolve()
      return 'done'
    }
    const h = simSystem()
    h.system.spawn(defineActor<BaseCommand & { hops: number }, { id: string, r: Settled<string> }>({
      name: 'deep',
      commands: ['deep.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') { const id = msg.env.id; ctx.pipe(deep(msg.env.command.hops), r => ({ id, r }), id) }
          if (msg.kind === 'internal') ctx.reply(msg.msg.id, msg.msg.r)
        }
      })
    }))
    const asks = [1, 10, 100].map(hops => h.ask({ type: 'deep.go', hops } as BaseCommand, { timeoutMs: 1000 }))
    await h.run()
    for (const t of asks) expect(t.outcome).toMatchObject({ ok: true, value: { ok: true, value: 'done' }, at: 0 })
  })

  it('ctx.pump feeds every item in order, then the end with the count; a failing source ends with the failure', async () => {
    const seen: unknown[] = []
    const h = simSystem()
    async function * good (): AsyncGenerator<string> {
      for (const x of ['a', 'b', 'c']) {
        await Promise.resolve()
        yield x
      }
    }
    async function * bad (): AsyncGenerator<string> {
      yield 'only'
      throw Object.assign(new Error('source broke'), { name: 'AbortError' })
    }
    h.system.spawn(defineActor<BaseCommand & { which: 'good' | 'bad' }, unknown>({
      name: 'pumper',
      commands: ['pumper.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') {
            const id = msg.env.id
            ctx.pump(msg.env.command.which === 'good' ? good() : bad(), item => ({ item }), r => ({ end: r, id }), id)
          } else if (msg.kind === 'internal') {
            seen.push(msg.msg)
            const m = msg.msg as { end?: Settled<number>, id?: string }
            if (m.end !== undefined && m.id !== undefined) ctx.reply(m.id, m.end)
          }
        }
      })
    }))
    const g = await askAny(h.system, { type: 'pumper.go', which: 'good' } as BaseCommand)
    expect(g).toEqual({ ok: true, value: 3 })
    expect(seen.slice(0, 3)).toEqual([{ item: 'a' }, { item: 'b' }, { item: 'c' }])
    seen.length = 0
    const b = await askAny(h.system, { type: 'pumper.go', which: 'bad' } as BaseCommand)
    expect(seen[0]).toEqual({ item: 'only' })
    // an Error named AbortError becomes an aborted failure
    expect(b).toEqual({ ok: false, failure: failure('aborted', 'source broke') })
  })

  it('ctx.pump stops pulling from its source once the owning query is closed', async () => {
    const h = simSystem()
    let pulled = 0
    let finalized = false
    const clock = h.clock
    async function * endless (): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) {
          await new Promise<void>(resolve => { clock.setTimer(clock.now() + 10, resolve) })
          pulled++
          yield i
        }
      } finally {
        finalized = true
      }
    }
    h.system.spawn(defineActor<BaseCommand, unknown>({
      name: 'endless',
      commands: ['endless.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') ctx.pump(endless(), item => ({ item }), r => ({ end: r }), msg.env.id)
        }
      })
    }))
    const t = h.ask({ type: 'endless.go' }, { timeoutMs: 35 })
    await h.run()
    expect(errorOf(t.outcome).name).toBe('TimeoutError')
    expect(finalized).toBe(true)
    expect(pulled).toBeLessThanOrEqual(4)
    expect(h.clock.pendingTimers).toBe(0)
  })

  it('ctx.after delivers at now+delay on the injected clock; its cancel function stops it', async () => {
    const ticks: Array<[string, number]> = []
    const h = simSystem()
    h.system.spawn(defineActor<BaseCommand, string>({
      name: 'timers',
      commands: ['timers.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') {
            ctx.after(300, 'c')
            ctx.after(100, 'a')
            const cancel = ctx.after(200, 'cancelled')
            ctx.after(200, 'b')
            cancel()
            ctx.reply(msg.env.id, 'set')
          } else if (msg.kind === 'internal') {
            ticks.push([msg.msg, ctx.clock.now()])
          }
        }
      })
    }))
    h.clock.advanceTo(1000)
    await askAny(h.system, { type: 'timers.go' })
    await h.run()
    expect(ticks).toEqual([['a', 1100], ['b', 1200], ['c', 1300]])
  })

  it('the system lane is served before queued commands (ctx.self overtakes them)', async () => {
    const order: string[] = []
    const h = simSystem()
    h.system.spawn(defineActor<BaseCommand & { n: number }, string>({
      name: 'lanes',
      commands: ['lanes.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') {
            order.push(`cmd${msg.env.command.n}`)
            ctx.self(`self${msg.env.command.n}`)
            ctx.reply(msg.env.id, null)
          } else if (msg.kind === 'internal') {
            order.push(msg.msg)
          }
        }
      })
    }))
    const asks = [1, 2, 3].map(n => h.ask({ type: 'lanes.go', n } as BaseCommand))
    await h.run()
    await Promise.all(asks.map(async a => a.promise))
    expect(order).toEqual(['cmd1', 'self1', 'cmd2', 'self2', 'cmd3', 'self3'])
  })

  it('ctx.ask between actors: the reply re-enters as an internal message; failures and timeouts too', async () => {
    const seen: Array<{ msg: unknown, at: number }> = []
    const echoLog = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({}, echoLog))
    h.system.spawn(defineActor<BaseCommand & { inner: BaseCommand, timeoutMs?: number }, { id: string, r: Settled<unknown> }>({
      name: 'relay',
      commands: ['relay.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') {
            const c = msg.env.command
            const id = msg.env.id
            ctx.ask(c.inner, c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }, r => ({ id, r }))
          } else if (msg.kind === 'internal') {
            seen.push({ msg: msg.msg, at: ctx.clock.now() })
            ctx.reply(msg.msg.id, msg.msg.r)
          }
        }
      })
    }))
    const ok = await askAny(h.system, { type: 'relay.go', inner: { type: 'test.echo', text: 'via relay' } } as BaseCommand)
    expect(ok).toEqual({ ok: true, value: { text: 'via relay', incarnation: 0 } })
    expect(seen.length).toBe(1)
    // the inner ask was made by the relay actor
    expect(h.trace.events.some(e => e.dir === 'out' && e.ev.type === 'deliver' && e.ev.actor === 'relay' && e.ev.kind === 'internal')).toBe(true)

    const bad = await askAny(h.system, { type: 'relay.go', inner: { type: 'test.echo', text: 7 } } as unknown as BaseCommand)
    expect(bad).toMatchObject({ ok: false, failure: { kind: 'invalid', field: 'text' } })
    const unknown = await askAny(h.system, { type: 'relay.go', inner: { type: 'no.such' } } as BaseCommand)
    expect(unknown).toMatchObject({ ok: false, failure: { kind: 'invalid', field: 'type' } })

    const slow = h.ask({ type: 'relay.go', inner: { type: 'test.echo', text: 'slow', delayMs: 10_000 }, timeoutMs: 250 } as BaseCommand)
    const t0 = h.clock.now()
    await h.run()
    expect(slow.outcome).toMatchObject({ ok: true, value: { ok: false, failure: { kind: 'timeout' } } })
    expect(slow.outcome?.at).toBe(t0 + 250)
    expect(echoLog.cancels.at(-1)?.reason).toBe('timeout')
  })

  it('an ask made in start() gets its reply even when it is rejected at once (first start and restarts)', async () => {
    const h = simSystem()
    const got: Array<{ inc: number, r: Settled<unknown> }> = []
    h.system.spawn(defineActor<BaseCommand & { crash?: boolean }, Settled<unknown>>({
      name: 'starter',
      commands: ['starter.go'],
      supervision: { maxRestarts: 5, periodMs: 1000, backoffMs: 10, maxBackoffMs: 10 },
      start: ctx => {
        ctx.ask({ type: 'no.such' }, {}, r => r)
        return {
          receive: msg => {
            if (msg.kind === 'internal') got.push({ inc: ctx.incarnation, r: msg.msg })
            if (msg.kind === 'command') {
              if (msg.env.command.crash === true) throw new Error('crash')
              ctx.reply(msg.env.id, got.length)
            }
          }
        }
      }
    }))
    h.ask({ type: 'starter.go', crash: true } as BaseCommand)
    await h.run()
    const t = h.ask({ type: 'starter.go' })
    await h.run()
    expect(t.outcome).toMatchObject({ ok: true, value: 2 })
    expect(got.map(g => g.inc)).toEqual([0, 1])
    expect(got.every(g => !g.r.ok && g.r.failure.kind === 'invalid')).toBe(true)
  })

  it('ctx.cancel aborts an ask the actor made: the target gets cancel aborted, the asker an aborted failure', async () => {
    const echoLog = newEchoLog()
    let got: unknown
    const h = simSystem()
    h.system.spawn(echoActor({ mode: 'never' }, echoLog))
    h.system.spawn(defineActor<BaseCommand, Settled<unknown> | 'cancel'>({
      name: 'canceller',
      commands: ['canceller.go'],
      start: ctx => {
        let inner = ''
        let outer = ''
        return {
          receive: msg => {
            if (msg.kind === 'command') {
              outer = msg.env.id
              inner = ctx.ask({ type: 'test.echo', text: 'x' } as BaseCommand, { timeoutMs: 10_000 }, r => r)
              ctx.after(50, 'cancel')
            } else if (msg.kind === 'internal') {
              if (msg.msg === 'cancel') ctx.cancel(inner)
              else { got = msg.msg; ctx.reply(outer, 'done') }
            }
          }
        }
      }
    }))
    const t = h.ask({ type: 'canceller.go' })
    await h.run()
    expect(t.outcome).toMatchObject({ ok: true, value: 'done' })
    expect(got).toMatchObject({ ok: false, failure: { kind: 'aborted' } })
    expect(echoLog.cancels.map(c => c.reason)).toEqual(['aborted'])
    expect(t.outcome?.at).toBe(50)
  })

  it('ctx.cancel of an id the actor did not ask is ignored', async () => {
    const echoLog = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ mode: 'never' }, echoLog))
    h.system.spawn(defineActor<BaseCommand & { target: string }>({
      name: 'meddler',
      commands: ['meddler.go'],
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') { ctx.cancel(msg.env.command.target); ctx.reply(msg.env.id, null) }
        }
      })
    }))
    const victim = h.ask({ type: 'test.echo', text: 'x' } as BaseCommand, { timeoutMs: 100 })
    await h.flush()
    await askAny(h.system, { type: 'meddler.go', target: victim.id } as BaseCommand)
    await h.run()
    expect(errorOf(victim.outcome).name).toBe('TimeoutError')
  })

  it('a full system lane fails the owning query with overloaded instead of losing the completion', async () => {
    const h = simSystem()
    const works = Array.from({ length: 4 }, () => deferred<number>())
    h.system.spawn(defineActor<BaseCommand, number>({
      name: 'narrow',
      commands: ['narrow.go'],
      mailbox: { systemCapacity: 2 },
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') works.forEach(w => { ctx.pipe(w.promise, () => 1, msg.env.id) })
        }
      })
    }))
    const t = h.ask({ type: 'narrow.go' }, { timeoutMs: 1000 })
    await h.flush()
    // all four complete before the actor runs again: the lane holds two
    for (const w of works) w.resolve(1)
    await h.flush()
    expect(t.outcome?.ok).toBe(false)
    expect(errorOf(t.outcome).name).toBe('OverloadedError')
    expect(t.outcome?.at).toBe(0)
    expect(h.system.deadLetters.byReason['system-lane-full']).toBeGreaterThanOrEqual(1)
  })
})
