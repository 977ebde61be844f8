/**
 * A SimulatedClock-driven harness for the actor runtime: a system on virtual
 * time with a recording trace sink, untyped ask/stream helpers (test command
 * types are not added to the global CommandMap), and outcome capture that
 * stamps each settle with the virtual time it happened at.
 */
import { SimulatedClock } from '../../src/actors/runtime/clock.js'
import { ActorSystem } from '../../src/actors/runtime/system.js'
import type { AskOptions } from '../../src/actors/runtime/actor.js'
import type { SystemOptions } from '../../src/actors/runtime/system.js'
import type { TraceInput, TraceOutput, TraceSink } from '../../src/actors/runtime/trace-events.js'
import type { AskCommand, BaseCommand, StreamCommand } from '../../src/messages/commands.js'
import { runUntilQuiet } from '../../src/testing/run-until-quiet.js'

export type Recorded =
  | { dir: 'in', t: number, d: number, ev: TraceInput }
  | { dir: 'out', t: number, ev: TraceOutput }

/** A TraceSink that keeps every event in memory. */
export class RecordingTrace implements TraceSink {
  readonly events: Recorded[] = []

  input (ev: TraceInput, t: number, d: number): void {
    this.events.push({ dir: 'in', t, d, ev })
  }

  output (ev: TraceOutput, t: number): void {
    this.events.push({ dir: 'out', t, ev })
  }

  /** settle events of one query id */
  settles (id: string): Array<{ t: number, ev: Extract<TraceOutput, { type: 'settle' }> }> {
    const out: Array<{ t: number, ev: Extract<TraceOutput, { type: 'settle' }> }> = []
    for (const e of this.events) {
      if (e.dir === 'out' && e.ev.type === 'settle' && e.ev.id === id) out.push({ t: e.t, ev: e.ev })
    }
    return out
  }

  /** settle count per query id */
  settleCounts (): Map<string, number> {
    const m = new Map<string, number>()
    for (const e of this.events) {
      if (e.dir === 'out' && e.ev.type === 'settle') m.set(e.ev.id, (m.get(e.ev.id) ?? 0) + 1)
    }
    return m
  }

  /** deliveries of commands with this query id */
  deliveriesOf (id: string): number {
    let n = 0
    for (const e of this.events) {
      if (e.dir === 'out' && e.ev.type === 'deliver' && e.ev.kind === 'command' && e.ev.id === id) n++
    }
    return n
  }

  /** the id of the most recent host ask or stream */
  lastAskId (): string {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]
      if (e !== undefined && e.dir === 'in' && e.ev.type === 'ask') return e.ev.id
    }
    throw new Error('no ask recorded')
  }
}

/** How an ask ended, stamped with the virtual time the caller saw it. */
export type Outcome =
  | { ok: true, value: unknown, at: number }
  | { ok: false, error: Error, at: number }

export interface Tracked {
  id: string
  promise: Promise<Outcome>
  /** undefined until the caller's promise settled */
  outcome: Outcome | undefined
  /** how many times the caller saw a settle (must end at 1) */
  seen: number
}

export interface TrackedStream {
  id: string
  items: unknown[]
  /** resolves once the iteration ends (normally or with an error) */
  done: Promise<Outcome>
  outcome: Outcome | undefined
}

export interface SimHarness {
  clock: SimulatedClock
  trace: RecordingTrace
  system: ActorSystem
  /** deliver everything and move virtual time through every timer until nothing is left */
  run: (maxRounds?: number) => Promise<number>
  /** deliver everything that needs no time to pass */
  flush: () => Promise<number>
  ask: (command: BaseCommand, options?: AskOptions) => Tracked
  stream: (command: BaseCommand, options?: AskOptions, consume?: { breakAfter?: number }) => TrackedStream
}

export function simSystem (options: Partial<SystemOptions> = {}): SimHarness {
  const clock = options.clock instanceof SimulatedClock ? options.clock : new SimulatedClock()
  const trace = new RecordingTrace()
  const system = new ActorSystem({ trace, ...options, clock })
  return harness(system, clock, trace)
}

/** A harness around a system built elsewhere; it must run on `clock` and write its trace to `trace`. */
export function harness (system: ActorSystem, clock: SimulatedClock, trace: RecordingTrace): SimHarness {
  const run = async (maxRounds?: number): Promise<number> => runUntilQuiet(system, {
    advance: to => { clock.advanceTo(to) },
    nextTimerAt: () => clock.nextTimerAt(),
    ...(maxRounds === undefined ? {} : { maxRounds })
  })
  const flush = async (): Promise<number> => runUntilQuiet(system)
  const ask = (command: BaseCommand, opts: AskOptions = {}): Tracked => {
    const p = askAny(system, command, opts)
    const tracked: Tracked = { id: trace.lastAskId(), promise: undefined as unknown as Promise<Outcome>, outcome: undefined, seen: 0 }
    tracked.promise = p.then(
      value => { tracked.seen++; tracked.outcome = { ok: true, value, at: clock.now() }; return tracked.outcome },
      (error: unknown) => { tracked.seen++; tracked.outcome = { ok: false, error: error as Error, at: clock.now() }; return tracked.outcome }
    )
    return tracked
  }
  const stream = (command: BaseCommand, opts: AskOptions = {}, consume: { breakAfter?: number } = {}): TrackedStream => {
    const it = streamAny(system, command, opts)
    const ts: TrackedStream = { id: trace.lastAskId(), items: [], done: undefined as unknown as Promise<Outcome>, outcome: undefined }
    ts.done = (async (): Promise<Outcome> => {
      try {
        for await (const item of it) {
          ts.items.push(item)
          if (consume.breakAfter !== undefined && ts.items.length >= consume.breakAfter) break
        }
        ts.outcome = { ok: true, value: ts.items.length, at: clock.now() }
      } catch (error) {
        ts.outcome = { ok: false, error: error as Error, at: clock.now() }
      }
      return ts.outcome
    })()
    return ts
  }
  return { clock, trace, system, run, flush, ask, stream }
}

/** ask with a command type the global CommandMap does not know (test actors) */
export async function askAny (system: ActorSystem, command: BaseCommand, options: AskOptions = {}): Promise<unknown> {
  return system.ask(command as unknown as AskCommand, options)
}

/** stream with a command type the global StreamMap does not know (test actors) */
export function streamAny (system: ActorSystem, command: BaseCommand, options: AskOptions = {}): AsyncIterable<unknown> {
  return system.stream(command as unknown as StreamCommand, options)
}

/** The rejection of a promise that must reject (fails the test if it resolves). */
export async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection, got a value')
}

/** The error of an outcome that must be a failure (throws, failing the test, if it is missing or ok). */
export function errorOf (o: Outcome | undefined): Error {
  if (o === undefined) throw new Error('expected a failure, but the query has not settled')
  if (o.ok) throw new Error(`expected a failure, got the value ${JSON.stringify(o.value)}`)
  return o.error
}

/** Let pending promise callbacks run (no time passes). */
export async function ticks (n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve()
}
