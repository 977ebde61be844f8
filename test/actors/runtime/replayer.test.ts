import { describe, expect, it } from 'vitest'
import { setTimeout as sleep } from 'node:timers/promises'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { replayTrace } from '../../../src/actors/runtime/replayer.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { parseTrace, TraceRecorder } from '../../../src/actors/runtime/trace-recorder.js'
import { RealClock } from '../../../src/platform/real-clock.js'
import type { ActorDefinition } from '../../../src/actors/runtime/actor.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

interface Job { type: 'job.run', n: number, slow?: boolean }
type JobMsg =
  | { type: 'worked', id: string, value: number }
  | { type: 'tick', id: string }
  | { type: 'asked', id: string, ok: boolean }

/**
 * A worker that touches every kind of input: external async work (a real
 * timer outside the actors, so its timing is genuinely nondeterministic), a
 * clock timer, an ask to another actor, and streams.
 */
function worker (variant = 0): ActorDefinition<BaseCommand, JobMsg> {
  return defineActor<Job, JobMsg>({
    name: 'worker',
    commands: ['job.run'],
    validate: c => typeof c.n === 'number' ? undefined : { kind: 'invalid', message: 'n must be a number', field: 'n' },
    start: ctx => {
      const results = new Map<string, number>()
      return {
        receive: msg => {
          if (msg.kind === 'command') {
            const { id, command } = msg.env
            const delay = command.slow === true ? 1_000 : 1 + (command.n % 7)
            ctx.pipe(sleep(delay).then(() => command.n * 2), r => ({ type: 'worked', id, value: r.ok ? r.value : -1 }), id)
          } else if (msg.kind === 'internal') {
            const m = msg.msg
            if (m.type === 'worked') {
              results.set(m.id, m.value)
              ctx.after(3, { type: 'tick', id: m.id })
            } else if (m.type === 'tick') {
              ctx.ask({ type: 'system.ping' }, { timeoutMs: 1_000 }, r => ({ type: 'asked', id: m.id, ok: r.ok }))
            } else {
              ctx.reply(m.id, { value: (results.get(m.id) ?? 0) + variant, pinged: m.ok })
              results.delete(m.id)
            }
          } else {
            results.delete(msg.id)
          }
        }
      }
    }
  }) as unknown as ActorDefinition<BaseCommand, JobMsg>
}

const pinger = defineActor<{ type: 'system.ping' }>({
  name: 'system',
  commands: ['system.ping'],
  start: ctx => ({ receive: msg => { if (msg.kind === 'command') ctx.reply(msg.env.id, {}) } })
}) as unknown as ActorDefinition<BaseCommand, unknown>

type Ask = (c: BaseCommand & Record<string, unknown>, o?: { timeoutMs?: number, signal?: AbortSignal }) => Promise<unknown>

async function record (): Promise<string> {
  const clock = new RealClock()
  const recorder = new TraceRecorder({ seed: 9, startedAt: clock.now(), keep: true })
  const system = new ActorSystem({ clock, seed: 9, trace: recorder, yieldToHost: fn => { setImmediate(fn) } })
  system.spawn(pinger)
  system.spawn(worker())
  const ask = system.ask.bind(system) as unknown as Ask
  const aborter = new AbortController()
  void sleep(15).then(() => { aborter.abort() })
  const outcomes = await Promise.allSettled([
    ...Array.from({ length: 12 }, async (_, i) => await ask({ type: 'job.run', n: i })),
    ask({ type: 'job.run', n: 1, slow: true }, { timeoutMs: 30 }), // times out
    ask({ type: 'job.run', n: 2, slow: true }, { signal: aborter.signal }), // aborted
    ask({ type: 'job.run', n: 'x' }), // invalid
    ask({ type: 'nope.nothing' }) // unknown
  ])
  await Promise.allSettled([ask({ type: 'job.run', n: 3, slow: true }, { signal: aborter.signal })])
  await sleep(60)
  expect(outcomes.filter(o => o.status === 'fulfilled')).toHaveLength(12)
  expect(outcomes.slice(12).map(o => o.status === 'rejected' ? (o.reason as Error).name : 'fulfilled'))
    .toEqual(['TimeoutError', 'AbortError', 'InvalidCommandError', 'InvalidCommandError'])
  await system.stop()
  return recorder.toJsonl()
}

describe('trace recorder and replayer', () => {
  it('replays a recording made on the real clock identically', async () => {
    const text = await record()
    const { header, events } = parseTrace(text)
    expect(events.some(e => e.dir === 'in' && e.type === 'external')).toBe(true)
    expect(events.some(e => e.dir === 'in' && e.type === 'timer')).toBe(true)
    expect(events.some(e => e.dir === 'in' && e.type === 'abort')).toBe(true)
    const report = await replayTrace({ header, events, build: s => { s.spawn(pinger); s.spawn(worker()) } })
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.outputs).toBe(events.filter(e => e.dir === 'out').length)
  })

  it('reports the first divergence by sequence number when the code changed', async () => {
    // (a change in what the outside world returned would not count: replay feeds the recorded results)
    const { header, events } = parseTrace(await record())
    const report = await replayTrace({ header, events, build: s => { s.spawn(pinger); s.spawn(worker(1)) } })
    expect(report.ok).toBe(false)
    // the first reply value differs: that settle is where replay diverges
    const firstReply = events.find(e => e.dir === 'out' && e.type === 'settle' && e.ok && typeof e.value === 'object' && e.value !== null && 'pinged' in e.value)
    expect(report.divergence?.seq).toBe(firstReply?.seq)
    expect(report.divergence?.reason).toBe('the output differs')
  })

  it('reports a tampered recording at the tampered event', async () => {
    const { header, events } = parseTrace(await record())
    const victim = events.filter(e => e.dir === 'out' && e.type === 'settle' && e.ok)[3]
    expect(victim).toBeDefined()
    const tampered = events.map(e => e === victim ? { ...e, value: { value: 12345 } } : e)
    const report = await replayTrace({ header, events: tampered, build: s => { s.spawn(pinger); s.spawn(worker()) } })
    expect(report.ok).toBe(false)
    expect(report.divergence?.seq).toBe(victim?.seq)
  })

  it('reports an input that cannot be applied (a timer that was never set)', async () => {
    const { header, events } = parseTrace(await record())
    const firstTimer = events.find(e => e.dir === 'in' && e.type === 'timer')
    const broken = events.map(e => e === firstTimer ? { ...e, timer: 99_999 } : e)
    const report = await replayTrace({ header, events: broken, build: s => { s.spawn(pinger); s.spawn(worker()) } })
    expect(report.ok).toBe(false)
    expect(report.divergence?.seq).toBe(firstTimer?.seq)
    expect(report.divergence?.reason).toMatch(/timer 99999 is not set/)
  })

  it('rejects unreadable traces with the line number', () => {
    expect(() => parseTrace('')).toThrow(/empty/)
    expect(() => parseTrace('{"type":"header","version":1,"seed":1,"startedAt":0,"config":{}}\n{nope')).toThrow(/line 2/)
    expect(() => parseTrace('{"type":"header","version":99,"seed":1,"startedAt":0,"config":{}}')).toThrow(/version 99/)
    expect(() => parseTrace('{"seq":1}')).toThrow(/header/)
  })
})

describe('replay edge cases', () => {
  it('compares a truncated recording up to the cut and says it was truncated', async () => {
    const clock = new RealClock()
    const recorder = new TraceRecorder({ seed: 3, startedAt: clock.now(), keep: true, maxEvents: 40 })
    const system = new ActorSystem({ clock, seed: 3, trace: recorder })
    system.spawn(pinger)
    for (let i = 0; i < 30; i++) await system.ask({ type: 'system.ping' })
    await system.stop()
    expect(recorder.truncated).toBe(true)
    const { header, events } = parseTrace(recorder.toJsonl())
    expect(events.at(-1)).toMatchObject({ type: 'truncated', maxEvents: 40 })
    const report = await replayTrace({ header, events, build: s => { s.spawn(pinger) } })
    expect(report).toMatchObject({ ok: true, truncated: true })
  })

  it('names an actor the trace asks but the replay lacks', async () => {
    const { header, events } = parseTrace(await record())
    const report = await replayTrace({ header, events, build: s => { s.spawn(pinger) } })
    expect(report.ok).toBe(false)
    expect(report.divergence?.reason).toMatch(/asks actor 'worker'/)
  })
})
