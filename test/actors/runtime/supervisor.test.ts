import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { echoActor, newEchoLog } from '../../helpers/echo-actor.js'
import { askAny, rejection, simSystem } from '../../helpers/sim.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const policy = { maxRestarts: 2, periodMs: 1000, backoffMs: 100, maxBackoffMs: 150 }

function errName (o: { ok: boolean, error?: Error } | undefined): string | undefined {
  return o !== undefined && !o.ok ? o.error?.name : undefined
}

describe('supervisor', () => {
  it('a crash fails the delivered asks with StoppedError, restarts after backoff with a fresh behaviour, and the new incarnation serves the queue', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ supervision: policy }, log))
    const pending = h.ask({ type: 'test.echo', text: 'a', delayMs: 500 } as BaseCommand)
    await h.flush()
    const crasher = h.ask({ type: 'test.echo', text: 'boom', crash: true } as BaseCommand)
    const queued = h.ask({ type: 'test.echo', text: 'c' } as BaseCommand)
    h.clock.advanceTo(10)
    await h.flush()
    // crashed at t=10: both delivered asks failed at once; the queued one waits
    expect(errName(pending.outcome)).toBe('StoppedError')
    expect(pending.outcome?.at).toBe(10)
    expect(errName(crasher.outcome)).toBe('StoppedError')
    expect(queued.outcome).toBeUndefined()
    expect(log.stops).toBe(1)
    let st = h.system.status().actors[0]
    expect(st?.state).toBe('restarting')
    expect(st?.restarts).toBe(1)
    expect(log.starts).toEqual([0])
    expect(h.trace.events.some(e => e.dir === 'out' && e.ev.type === 'crash' && e.ev.actor === 'echo' && e.ev.error === 'echo crashed on purpose')).toBe(true)

    h.clock.advanceTo(109)
    await h.flush()
    expect(log.starts).toEqual([0])
    h.clock.advanceTo(110)
    await h.flush()
    expect(log.starts).toEqual([0, 1])
    expect(queued.outcome).toMatchObject({ ok: true, value: { text: 'c', incarnation: 1 }, at: 110 })
    expect(log.commands.at(-1)).toEqual({ id: queued.id, incarnation: 1 })
    st = h.system.status().actors[0]
    expect(st?.state).toBe('running')

    // the old incarnation's timer (answer for 'a' at t=500) never reaches the new incarnation or the caller
    // (whether the runtime clears it at the crash or drops its message as stale)
    await h.run()
    expect(log.settleResults.some(r => r.id === pending.id)).toBe(false)
    expect(log.settleResults.every(r => r.ok)).toBe(true)
    expect(h.trace.settles(pending.id).length).toBe(1)
    expect(h.system.openPorts).toBe(0)
  })

  it('a completion of the old incarnation\'s work (ctx.pipe) is a stale-incarnation dead letter, never delivered to the new one', async () => {
    const h = simSystem()
    let resolveWork!: (v: string) => void
    const work = new Promise<string>(resolve => { resolveWork = resolve })
    const got: Array<{ inc: number, msg: unknown }> = []
    h.system.spawn(defineActor<BaseCommand & { op: 'start' | 'crash' | 'peek' }, unknown>({
      name: 'worker',
      commands: ['worker.do'],
      supervision: policy,
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'internal') { got.push({ inc: ctx.incarnation, msg: msg.msg }); return }
          if (msg.kind !== 'command') return
          const op = msg.env.command.op
          if (op === 'crash') throw new Error('crash while the work is in flight')
          if (op === 'start') ctx.pipe(work, r => ({ done: r }))
          ctx.reply(msg.env.id, got.length)
        }
      })
    }))
    await askAny(h.system, { type: 'worker.do', op: 'start' } as BaseCommand)
    h.ask({ type: 'worker.do', op: 'crash' } as BaseCommand)
    await h.run()
    expect(h.system.status().actors[0]?.state).toBe('running')
    resolveWork('late result')
    await h.run()
    expect(got).toEqual([])
    expect(h.system.deadLetters.byReason['stale-incarnation']).toBe(1)
    expect(h.system.deadLetters.recent().at(-1)).toMatchObject({ reason: 'stale-incarnation', actor: 'worker' })
    await expect(askAny(h.system, { type: 'worker.do', op: 'peek' } as BaseCommand)).resolves.toBe(0)
  })

  it('internal messages queued for the crashed incarnation are dead letters, not silently dropped', async () => {
    const h = simSystem()
    const got: unknown[] = []
    h.system.spawn(defineActor<BaseCommand & { crash?: boolean }, string>({
      name: 'selfish',
      commands: ['selfish.go'],
      supervision: policy,
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') {
            ctx.self('for-the-old-one')
            ctx.self('also-old')
            if (msg.env.command.crash === true) throw new Error('crash with messages queued')
            ctx.reply(msg.env.id, 'ok')
          } else if (msg.kind === 'internal') {
            got.push(msg.msg)
          }
        }
      })
    }))
    const t = h.ask({ type: 'selfish.go', crash: true } as BaseCommand)
    await h.run()
    expect(errName(t.outcome)).toBe('StoppedError')
    expect(got).toEqual([])
    expect(h.system.deadLetters.byReason['stale-incarnation']).toBe(2)
    // the new incarnation works normally
    await expect(askAny(h.system, { type: 'selfish.go' })).resolves.toBe('ok')
  })

  it('backoff doubles per restart within the period, capped at maxBackoffMs', async () => {
    const h = simSystem()
    const startedAt: number[] = []
    h.system.spawn(defineActor<BaseCommand>({
      name: 'crashy',
      commands: ['crashy.go'],
      supervision: { maxRestarts: 10, periodMs: 100_000, backoffMs: 100, maxBackoffMs: 300 },
      start: ctx => {
        startedAt.push(ctx.clock.now())
        return { receive: () => { throw new Error('always') } }
      }
    }))
    const crashedAt: number[] = []
    for (let i = 0; i < 4; i++) {
      h.clock.advance(1000)
      crashedAt.push(h.clock.now())
      h.ask({ type: 'crashy.go' }, { timeoutMs: 10 })
      await h.flush()
      expect(h.system.status().actors[0]?.state).toBe('restarting')
      h.clock.advance(999)
      await h.flush()
    }
    expect(startedAt.length).toBe(5)
    expect(crashedAt.map((t, i) => (startedAt[i + 1] ?? NaN) - t)).toEqual([100, 200, 300, 300])
  })

  it('beyond maxRestarts within periodMs the actor stops for good and its asks fail with StoppedError', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ supervision: policy }, log))
    const asks = []
    for (let i = 0; i < 3; i++) {
      asks.push(h.ask({ type: 'test.echo', text: 'x', crash: true } as BaseCommand))
      // an ask behind the crash, never answered: the next crash (or the final stop) must fail it, not leave it hanging
      asks.push(h.ask({ type: 'test.echo', text: 'y', ignore: true } as BaseCommand, { timeoutMs: 100_000 }))
      await h.flush()
      h.clock.advance(200)
      await h.flush()
    }
    // crashes at 0, 200 and 400: the third is one more than maxRestarts (2) within 1000 ms
    expect(log.starts).toEqual([0, 1, 2])
    const st = h.system.status().actors[0]
    expect(st?.state).toBe('stopped')
    expect(st?.restarts).toBe(2)
    for (const a of asks) expect(errName(await a.promise)).toBe('StoppedError')
    expect(asks.every(a => a.outcome !== undefined && a.outcome.at < 1000)).toBe(true)
    const later = await rejection(askAny(h.system, { type: 'test.echo', text: 'z' } as BaseCommand))
    expect(later.name).toBe('StoppedError')
    expect(h.system.openPorts).toBe(0)
    await h.run()
    expect(log.starts).toEqual([0, 1, 2])
  })

  it('crashes spread out beyond periodMs do not add up', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ supervision: policy }, log))
    for (let i = 0; i < 6; i++) {
      h.ask({ type: 'test.echo', text: 'x', crash: true } as BaseCommand)
      await h.run()
      h.clock.advance(1500)
    }
    expect(h.system.status().actors[0]?.state).toBe('running')
    expect(log.starts).toEqual([0, 1, 2, 3, 4, 5, 6])
    await expect(askAny(h.system, { type: 'test.echo', text: 'still here' } as BaseCommand)).resolves.toMatchObject({ incarnation: 6 })
  })

  it('queued asks whose deadline passes while the actor is restarting time out at their deadline and are not delivered', async () => {
    const log = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ supervision: { ...policy, backoffMs: 1000, maxBackoffMs: 1000 } }, log))
    h.ask({ type: 'test.echo', text: 'x', crash: true } as BaseCommand)
    const waiting = h.ask({ type: 'test.echo', text: 'w' } as BaseCommand, { timeoutMs: 300 })
    await h.run()
    expect(errName(waiting.outcome)).toBe('TimeoutError')
    expect(waiting.outcome?.at).toBe(300)
    expect(log.commands.some(c => c.id === waiting.id)).toBe(false)
  })

  it('a crash cancels the asks the crashed actor had made: the target is told', async () => {
    const echoLog = newEchoLog()
    const h = simSystem()
    h.system.spawn(echoActor({ mode: 'never' }, echoLog))
    h.system.spawn(defineActor<BaseCommand, string>({
      name: 'asker',
      commands: ['asker.go'],
      supervision: policy,
      start: ctx => ({
        receive: msg => {
          if (msg.kind === 'command') {
            ctx.ask({ type: 'test.echo', text: 'x' } as BaseCommand, { timeoutMs: 10_000 }, () => 'reply')
            ctx.after(20, 'crash')
          } else if (msg.kind === 'internal' && msg.msg === 'crash') {
            throw new Error('asker crashed')
          }
        }
      })
    }))
    const t = h.ask({ type: 'asker.go' })
    await h.run()
    expect(errName(t.outcome)).toBe('StoppedError')
    expect(t.outcome?.at).toBe(20)
    expect(echoLog.cancels.map(c => c.reason)).toEqual(['aborted'])
    expect(h.system.openPorts).toBe(0)
  })

  it('a crash in start() is supervised like a crash in receive', async () => {
    const h = simSystem()
    let starts = 0
    h.system.spawn(defineActor<BaseCommand>({
      name: 'flaky',
      commands: ['flaky.go'],
      supervision: policy,
      start: ctx => {
        starts++
        if (ctx.incarnation === 0) throw new Error('first start fails')
        return { receive: msg => { if (msg.kind === 'command') ctx.reply(msg.env.id, ctx.incarnation) } }
      }
    }))
    const t = h.ask({ type: 'flaky.go' })
    await h.run()
    expect(t.outcome).toMatchObject({ ok: true, value: 1, at: 100 })
    expect(starts).toBe(2)
  })
})
