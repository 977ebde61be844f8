/**
 * One notion of time: the system's monotonic clock runs timers and deadlines,
 * its wall clock gives dates, and a step of the host's clock (forward,
 * backward, or a sleep of hours) moves dates but never a deadline. A step is
 * an input of the trace, so a recording with steps replays identically.
 */
import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import { expired, expiryIn, sooner } from '../../../src/actors/runtime/expiry.js'
import { replayTrace } from '../../../src/actors/runtime/replayer.js'
import { ActorSystem, WALL_TOLERANCE_MS } from '../../../src/actors/runtime/system.js'
import { parseTrace, TraceRecorder } from '../../../src/actors/runtime/trace-recorder.js'
import { askAny, errorOf, harness, RecordingTrace } from '../../helpers/sim.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const MONO0 = 5_000
const WALL0 = Date.UTC(2026, 11, 3, 12, 0, 0)
const HOUR = 3_600_000
const wait = (ms: number): BaseCommand => ({ type: 'clock.wait', ms }) as BaseCommand

interface ClockCmd extends BaseCommand { type: 'clock.read' | 'clock.wait', ms?: number }

/** answers with the dates and times it reads; `clock.wait` answers after ms on the monotonic clock */
function clockActor () {
  return defineActor<ClockCmd, { type: 'waited', id: string }>({
    name: 'clock',
    commands: ['clock.read', 'clock.wait'],
    start: ctx => ({
      receive: msg => {
        if (msg.kind === 'internal') {
          ctx.reply(msg.msg.id, { now: ctx.clock.now(), wall: ctx.clock.wall() })
          return
        }
        if (msg.kind !== 'command') return
        const { id, command } = msg.env
        if (command.type === 'clock.read') ctx.reply(id, { now: ctx.clock.now(), wall: ctx.clock.wall(), deadline: msg.env.deadline })
        else ctx.after(command.ms ?? 0, { type: 'waited', id })
      }
    })
  })
}

function build (trace = new RecordingTrace()) {
  const clock = new SimulatedClock(MONO0, WALL0)
  const system = new ActorSystem({ clock, trace })
  system.spawn(clockActor())
  return { clock, system, h: harness(system, clock, trace) }
}

describe('the wall clock beside the monotonic one', () => {
  it('actors read dates from wall() and times from now(); a step moves only the dates', async () => {
    const { clock, system, h } = build()
    const a = h.ask({ type: 'clock.read' })
    await h.flush()
    expect(a.outcome).toMatchObject({ ok: true, value: { now: MONO0, wall: WALL0 } })
    clock.stepWall(2 * HOUR)
    const b = h.ask({ type: 'clock.read' })
    await h.flush()
    expect(b.outcome).toMatchObject({ ok: true, value: { now: MONO0, wall: WALL0 + 2 * HOUR } })
    clock.stepWall(-3 * HOUR)
    const c = h.ask({ type: 'clock.read' })
    await h.flush()
    expect(c.outcome).toMatchObject({ ok: true, value: { now: MONO0, wall: WALL0 - HOUR } })
    expect(system.wall()).toBe(WALL0 - HOUR)
  })

  it('a drift within the tolerance is not a step; beyond it, it is taken and recorded', async () => {
    const trace = new RecordingTrace()
    const { clock, h } = build(trace)
    clock.stepWall(WALL_TOLERANCE_MS / 2)
    const a = h.ask({ type: 'clock.read' })
    await h.flush()
    expect((a.outcome as { value: { wall: number } }).value.wall).toBe(WALL0)
    expect(trace.events.filter(e => e.dir === 'in' && e.ev.type === 'wall')).toHaveLength(0)
    clock.stepWall(WALL_TOLERANCE_MS)
    const b = h.ask({ type: 'clock.read' })
    await h.flush()
    expect((b.outcome as { value: { wall: number } }).value.wall).toBe(WALL0 + 1.5 * WALL_TOLERANCE_MS)
    expect(trace.events.filter(e => e.dir === 'in' && e.ev.type === 'wall')).toHaveLength(1)
  })

  it('a host deadline is a date, taken onto the monotonic clock once: steps and sleeps after the ask do not move it', async () => {
    const { clock, h } = build()
    // the deadline is 10 s after the wall clock's now
    const forward = h.ask(wait(60_000), { deadline: WALL0 + 10_000 })
    const backward = h.ask(wait(60_000), { deadline: WALL0 + 10_000 })
    await h.flush()
    clock.sleep(5 * HOUR) // the laptop sleeps: wall time jumps, timers do not
    const afterSleep = h.ask({ type: 'clock.read' })
    await h.flush()
    expect(forward.outcome).toBeUndefined()
    expect(afterSleep.outcome).toMatchObject({ ok: true, value: { wall: WALL0 + 5 * HOUR } })
    clock.stepWall(-8 * HOUR)
    await h.run()
    // both timed out exactly 10 s of monotonic time after the ask, whatever the wall clock did
    expect(errorOf(forward.outcome).name).toBe('TimeoutError')
    expect(forward.outcome?.at).toBe(MONO0 + 10_000)
    expect(errorOf(backward.outcome).name).toBe('TimeoutError')
    expect(backward.outcome?.at).toBe(MONO0 + 10_000)
  })

  it('a host deadline given after a step is read against the stepped wall clock', async () => {
    const { clock, h } = build()
    clock.stepWall(-2 * HOUR)
    const wallNow = WALL0 - 2 * HOUR
    const read = h.ask({ type: 'clock.read' }, { deadline: wallNow + 3_000 })
    await h.flush()
    // the envelope's deadline is monotonic: 3 s from now, not 2 h + 3 s
    expect(read.outcome).toMatchObject({ ok: true, value: { deadline: MONO0 + 3_000 } })
    const late = h.ask({ type: 'clock.read' }, { deadline: WALL0 }) // a date 2 h from now by this clock: clamped to 10 min
    await h.flush()
    expect(late.outcome).toMatchObject({ ok: true, value: { deadline: MONO0 + 600_000 } })
    const past = h.ask({ type: 'clock.read' }, { deadline: wallNow - 1 })
    await h.flush()
    expect(errorOf(past.outcome).name).toBe('TimeoutError')
  })

  it('a recording with steps forward, backward and a sleep replays identically', async () => {
    const clock = new SimulatedClock(MONO0, WALL0)
    const recorder = new TraceRecorder({ seed: 1, startedAt: clock.now(), wallAt: clock.wall() })
    const system = new ActorSystem({ clock, trace: recorder, seed: 1 })
    system.spawn(clockActor())
    const h = harness(system, clock, new RecordingTrace())
    const asks: Array<Promise<unknown>> = []
    const settle = async (p: Promise<unknown>): Promise<void> => { asks.push(p.catch(() => {})) }
    void settle(askAny(system, wait(1_000)))
    await h.flush()
    clock.stepWall(HOUR)
    void settle(askAny(system, { type: 'clock.read' }))
    clock.advance(500)
    clock.sleep(6 * HOUR)
    void settle(askAny(system, wait(2_000)))
    await h.flush()
    clock.stepWall(-9 * HOUR)
    void settle(askAny(system, { type: 'clock.read' }, { deadline: system.wall() + 50 }))
    await h.run()
    await Promise.all(asks)
    await system.stop()
    const wallInputs = recorder.events.filter(e => e.dir === 'in' && e.type === 'wall')
    expect(wallInputs.length).toBe(3)
    const report = await replayTrace({ header: recorder.header, events: recorder.events, build: s => { s.spawn(clockActor()) } })
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
    // and a replay that ignored the steps would read other dates: drop one and it diverges
    const without = recorder.events.filter(e => e !== wallInputs[1])
    const broken = await replayTrace({ header: recorder.header, events: without, build: s => { s.spawn(clockActor()) } })
    expect(broken.ok).toBe(false)
  })
})

describe('traces of version 1 (one clock for dates and timers)', () => {
  it('still replay: their wall clock is their one clock', async () => {
    // a version 1 recording: one clock, epoch-like, so wall() read the same as now()
    const clock = new SimulatedClock(WALL0, WALL0)
    const recorder = new TraceRecorder({ seed: 3, startedAt: clock.now(), wallAt: clock.wall() })
    const system = new ActorSystem({ clock, trace: recorder, seed: 3 })
    system.spawn(clockActor())
    const h = harness(system, clock, new RecordingTrace())
    const read = askAny(system, { type: 'clock.read' })
    const waited = askAny(system, wait(250))
    await h.run()
    await expect(read).resolves.toEqual({ now: WALL0, wall: WALL0, deadline: WALL0 + 30_000 })
    await waited
    await system.stop()
    const v1 = recorder.toJsonl().split('\n').map((line, i) => {
      if (i !== 0) return line
      const header = JSON.parse(line) as Record<string, unknown>
      delete header.wallAt
      return JSON.stringify({ ...header, version: 1 })
    }).join('\n')
    const { header, events } = parseTrace(v1)
    expect(header.version).toBe(1)
    const report = await replayTrace({ header, events, build: s => { s.spawn(clockActor()) } })
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
  })
})

describe('expiry: stale as soon as either clock says so', () => {
  it('a TTL counts elapsed time whatever the wall clock does; an EOL is a date', () => {
    const clock = new SimulatedClock(MONO0, WALL0)
    const ttl = expiryIn(clock, 60_000)
    const eol = expiryIn(clock, HOUR, WALL0 + 30_000)
    expect(expired(clock, ttl)).toBe(false)
    // backward: the wall clock says fresh for another hour, elapsed time says 60 s are up
    clock.stepWall(-HOUR)
    clock.advance(59_999)
    expect(expired(clock, ttl)).toBe(false)
    clock.advance(1)
    expect(expired(clock, ttl)).toBe(true)
    // forward past the EOL: stale at once, though little time elapsed
    const clock2 = new SimulatedClock(MONO0, WALL0)
    const eol2 = expiryIn(clock2, HOUR, WALL0 + 30_000)
    clock2.sleep(3 * HOUR)
    expect(expired(clock2, eol2)).toBe(true)
    expect(sooner(ttl, eol)).toEqual({ wall: WALL0 + 30_000, mono: MONO0 + 30_000 })
  })
})
