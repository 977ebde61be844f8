/**
 * Incidents: failures the runtime cannot answer anyone with, because nobody
 * is waiting for them — an actor's stop() that rejected, a listener that
 * threw, a completion whose message could not be built. They are not
 * swallowed: each is counted by kind, the most recent kept in a bounded
 * ring, and handed to `node.on('incident')` listeners. They are not trace
 * events: they happen outside the actors' turns (a stop runs after the
 * actor is gone), so a replay, which runs no stop and no listener, could
 * not reproduce them at a fixed point.
 */
import { Ring } from './ring.js'

export type IncidentKind =
  /** an actor's stop() rejected or threw (after a crash or on stop) */
  | 'stop-failed'
  /** a progress or dead-letter listener threw */
  | 'listener-failed'
  /** async work finished but its completion message could not be built (toMsg / onItem / onEnd threw) */
  | 'completion-lost'

export interface Incident {
  kind: IncidentKind
  actor?: string
  /** the error's name and message */
  message: string
  /** monotonic time (ms) it happened */
  at: number
}

export class Incidents {
  total = 0
  readonly byKind: Partial<Record<IncidentKind, number>> = {}
  private readonly ring: Ring<Incident>
  private readonly listeners = new Set<(i: Incident) => void>()

  constructor (readonly keep = 100) {
    this.ring = new Ring<Incident>(keep)
  }

  add (kind: IncidentKind, err: unknown, at: number, actor?: string): void {
    const incident: Incident = { kind, message: describeError(err), at }
    if (actor !== undefined) incident.actor = actor
    this.total++
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1
    if (!this.ring.push(incident)) {
      this.ring.shift()
      this.ring.push(incident)
    }
    for (const l of this.listeners) {
      try {
        l(incident)
      } catch (e) {
        // a listener that throws on an incident is counted, not told again (no loop)
        this.total++
        this.byKind['listener-failed'] = (this.byKind['listener-failed'] ?? 0) + 1
        void e
      }
    }
  }

  /** the most recent incidents, oldest first */
  recent (): Incident[] {
    const all = this.ring.drain()
    for (const i of all) this.ring.push(i)
    return all
  }

  onIncident (fn: (i: Incident) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }
}

function describeError (err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  return text.slice(0, 500)
}
