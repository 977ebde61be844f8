/**
 * The lifecycle of one IPNS publish or resolve as the CLI and the demo show
 * it, built from the node's ipns:publish:* / ipns:resolve:* progress events.
 *
 * The IPNS actor emits one event per machine snapshot: one per event the
 * machine handled, named after the state it is in afterwards, with the event
 * in `detail.event`. Eventless (`always`) transitions happen inside one step,
 * so states the machine only passes through (resolve's lookup, selecting,
 * hopResolved) never show: what shows is where the machine waited.
 */
import { fmtMs } from './format.js'
import type { ProgressEvent } from '../index.js'

export type Machine = 'publish' | 'resolve'

/** one progress event with the time it arrived (ms, performance.now()) */
export interface Seen {
  type: string
  id: string | undefined
  event: string
  at: number
}

/** a stretch of the lifecycle spent in one state */
export interface LifecycleState {
  state: string
  /** ms after the first event of the flight */
  atMs: number
  /** ms spent in this state (absent for the final one) */
  ms?: number
  /** the events the machine handled while in this state, by type, in order of first arrival */
  events: Record<string, number>
}

/**
 * Collects ipns:<machine>:* progress events from a node. `stop()` detaches.
 * Events of every flight are kept; `lifecycle()` picks one.
 */
export class LifecycleRecorder {
  readonly seen: Seen[] = []
  private readonly off: () => void
  private readonly prefix: string

  constructor (node: { on: (event: 'progress', fn: (e: ProgressEvent) => void) => () => void }, machine: Machine, onEvent?: (s: Seen) => void) {
    this.prefix = `ipns:${machine}:`
    this.off = node.on('progress', e => {
      // machine snapshots carry the event they handled; other ipns:<machine>:* events (ipns:resolve:router,
      // ipns:publish:routers, ipns:resolve:improved) are reports, not states
      if (!e.type.startsWith(this.prefix) || typeof e.detail?.event !== 'string' || this.seen.length >= 10_000) return
      const s: Seen = { type: e.type, id: e.id, event: e.detail.event, at: performance.now() }
      this.seen.push(s)
      onEvent?.(s)
    })
  }

  /** The state a progress type names: `ipns:publish:preparing.key` → `preparing.key`. */
  stateOf (type: string): string {
    return type.startsWith(this.prefix) ? type.slice(this.prefix.length) : type
  }

  /** The lifecycle of one flight: the first one seen, unless an id is given. */
  lifecycle (id?: string): LifecycleState[] {
    const flight = id ?? this.seen[0]?.id
    const events = this.seen.filter(s => s.id === flight)
    return lifecycleOf(events.map(s => ({ state: this.stateOf(s.type), event: s.event, at: s.at })))
  }

  stop (): void {
    this.off()
  }
}

/** Runs of equal states, each with the events handled in it (the one that left it included). */
export function lifecycleOf (snapshots: Array<{ state: string, event: string, at: number }>): LifecycleState[] {
  const out: LifecycleState[] = []
  const t0 = snapshots[0]?.at ?? 0
  for (const s of snapshots) {
    const last = out.at(-1)
    if (last !== undefined) last.events[s.event] = (last.events[s.event] ?? 0) + 1
    if (last === undefined || last.state !== s.state) {
      if (last !== undefined) last.ms = s.at - t0 - last.atMs
      out.push({ state: s.state, atMs: s.at - t0, events: {} })
    }
  }
  return out
}

/**
 * One line: `preparing.key 0.21 ms → preparing.seen 0.40 ms (SEEN×2) → … → done`.
 * Events are listed only for a state that handled more than one.
 */
export function compactLifecycle (states: LifecycleState[], timings = true): string {
  return states.map(s => {
    const parts = [s.state]
    if (timings && s.ms !== undefined) parts.push(`${fmtMs(s.ms)} ms`)
    const handled = Object.entries(s.events)
    if (handled.reduce((n, [, k]) => n + k, 0) > 1) parts.push(`(${handled.map(([e, k]) => k > 1 ? `${e}×${k}` : e).join(', ')})`)
    return parts.join(' ')
  }).join(' → ')
}
