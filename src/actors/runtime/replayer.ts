/**
 * Replays a trace: runs the real actors on a simulated clock in manual mode,
 * feeds them the recorded inputs (host asks and aborts, external completions
 * such as DhtPort results, timer firings) at exactly the recorded delivery
 * positions and times, and compares every output with the recording. The
 * first difference is reported by the recording's sequence number.
 */
import { fromJson, toJson } from '../../messages/codec.js'
import { SimulatedClock } from './clock.js'
import { ActorSystem } from './system.js'
import type { SystemOptions } from './system.js'
import type { TraceEvent, TraceHeader, TraceInput, TraceOutput, TraceSink } from './trace-events.js'
import type { BaseCommand } from '../../messages/commands.js'

export interface ReplayOptions {
  header: TraceHeader
  events: TraceEvent[]
  /** spawn the same actors as the recorded system (with inert stand-ins for the network) */
  build: (system: ActorSystem, header: TraceHeader) => void
  /** system options of the recording (timeouts, buffers) */
  system?: Partial<Omit<SystemOptions, 'clock' | 'seed' | 'manual' | 'trace'>>
}

export interface Divergence {
  /** seq of the recorded event where replay first differs (or of the input that could not be applied) */
  seq: number
  reason: string
  expected?: unknown
  actual?: unknown
}

export interface ReplayReport {
  ok: boolean
  /** the recording was cut short (maxEvents); replay compared up to the cut */
  truncated?: boolean
  inputs: number
  outputs: number
  deliveries: number
  divergence?: Divergence
  /** the replay's system.stop() failed (the replayed actors' stop on their stand-ins) */
  stopError?: string
  /** incidents during the replay (an actor's stop that failed, …) */
  incidents?: string[]
}

type OutputLine = TraceOutput & { t: number }

class Collector implements TraceSink {
  readonly outputs: OutputLine[] = []
  input (): void {}
  output (ev: TraceOutput, t: number): void {
    this.outputs.push({ ...(toJson(ev) as TraceOutput), t })
  }
}

const strip = (e: TraceEvent | OutputLine): string => {
  const { seq: _s, dir: _d, ...rest } = e as TraceEvent
  return JSON.stringify(sortKeys(rest))
}

function sortKeys (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k])
    return out
  }
  return v
}

export async function replayTrace (options: ReplayOptions): Promise<ReplayReport> {
  const { header, events } = options
  const wallAt = header.wallAt ?? header.startedAt
  const clock = new SimulatedClock(header.startedAt, wallAt)
  const collector = new Collector()
  const system = new ActorSystem({ ...options.system, clock, seed: header.seed, manual: true, trace: collector, wallOffset: wallAt - header.startedAt })
  options.build(system, header)

  const inputs = events.filter((e): e is TraceInput & { seq: number, t: number, d: number, dir: 'in' } => e.dir === 'in')
  const truncated = events.some(e => e.dir === 'out' && e.type === 'truncated')
  const recorded = events.filter(e => e.dir === 'out' && e.type !== 'truncated')
  const deliverTimes = recorded.filter(e => e.type === 'deliver').map(e => e.t)
  let divergence: Divergence | undefined

  const stepTo = (target: number, seq: number): boolean => {
    while (system.deliveries < target) {
      const t = deliverTimes[system.deliveries]
      if (t !== undefined) clock.set(t)
      if (!system.step()) {
        divergence = { seq, reason: `the recording made ${target} deliveries before this input; the replay ran out at ${system.deliveries}` }
        return false
      }
    }
    return true
  }

  const actors = new Set(system.actors())
  for (const ev of inputs) {
    if (ev.type === 'ask' && ev.to !== '' && !actors.has(ev.to)) {
      divergence = { seq: ev.seq, reason: `the trace asks actor '${ev.to}', which this replay does not have (spawn it in build / extraActors)` }
      break
    }
    if (!stepTo(ev.d, ev.seq)) break
    clock.set(ev.t)
    if (!apply(system, clock, ev)) {
      // the recorded input beside what the replay had at that point
      divergence = { seq: ev.seq, reason: `input could not be applied: ${describeInput(ev)}`, expected: ev, actual: replayState(system, clock, ev) }
      break
    }
  }
  if (divergence === undefined) {
    stepTo(deliverTimes.length, recorded.at(-1)?.seq ?? 0)
    // anything beyond the recording shows up as an extra output below
    if (!truncated) for (let i = 0; i < 100_000 && system.step(); i++) { /* drain */ }
  }
  // the replayed actors' stop() run on inert stand-ins; a failure there is reported, not ignored
  let stopError: string | undefined
  await system.stop().catch((err: unknown) => { stopError = err instanceof Error ? `${err.name}: ${err.message}` : String(err) })

  const actual = collector.outputs
  if (divergence === undefined) {
    // a truncated recording has nothing after the cut to compare against
    const n = truncated ? recorded.length : Math.max(recorded.length, actual.length)
    for (let i = 0; i < n; i++) {
      const r = recorded[i]
      const a = actual[i]
      if (r === undefined || a === undefined || strip(r) !== strip(a)) {
        divergence = {
          seq: r?.seq ?? (recorded.at(-1)?.seq ?? 0) + 1,
          reason: r === undefined ? 'the replay produced an output the recording does not have' : a === undefined ? 'the replay ended before this output' : 'the output differs',
          expected: r,
          actual: a
        }
        break
      }
    }
  }
  const report: ReplayReport = { ok: divergence === undefined, inputs: inputs.length, outputs: actual.length, deliveries: system.deliveries }
  if (truncated) report.truncated = true
  if (stopError !== undefined) report.stopError = stopError
  if (system.incidents.total > 0) report.incidents = system.incidents.recent().map(i => `${i.kind}${i.actor !== undefined ? ` (${i.actor})` : ''}: ${i.message}`)
  if (divergence !== undefined) report.divergence = divergence
  return report
}

function apply (system: ActorSystem, clock: SimulatedClock, ev: TraceInput): boolean {
  switch (ev.type) {
    case 'ask':
      return system.replayAsk(ev.id, fromJson(ev.command) as BaseCommand, ev.port, ev.deadline, ev.aborted === true)
    case 'abort':
      system.hostCancel(ev.id)
      return true
    case 'external':
      system.injectExternal(ev.actor, ev.incarnation, fromJson(ev.msg), ev.owner)
      return true
    case 'timer':
      return clock.fire(ev.timer)
    case 'wall':
      system.setWallOffset(ev.offset)
      return true
  }
}

function describeInput (ev: TraceInput): string {
  switch (ev.type) {
    case 'ask': return `ask ${ev.id}`
    case 'abort': return `abort ${ev.id}`
    case 'external': return `external message for ${ev.actor}`
    case 'timer': return `timer ${ev.timer} is not set`
    case 'wall': return 'wall clock step'
  }
}

/** What the replay had where a recorded input could not be applied. */
function replayState (system: ActorSystem, clock: SimulatedClock, ev: TraceInput): Record<string, unknown> {
  switch (ev.type) {
    case 'timer': return { timersSet: clock.timerIds().slice(0, 32), deliveries: system.deliveries, t: clock.now() }
    case 'ask': return { note: "the replay's id source issued a different query id", deliveries: system.deliveries }
    default: return { deliveries: system.deliveries }
  }
}
