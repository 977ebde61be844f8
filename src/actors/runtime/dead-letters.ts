/**
 * Dead letters: messages and settles that had nowhere to go — a reply to a
 * port that already settled, an item on a closed stream, a message to a
 * stopped actor, a completion from an older incarnation. Counted by reason,
 * the most recent kept in a bounded ring, all observable.
 */
import { Ring } from './ring.js'

export type DeadLetterReason =
  | 'late-settle'
  | 'late-item'
  | 'actor-stopped'
  | 'stale-incarnation'
  | 'system-lane-full'
  | 'progress-dropped'

export interface DeadLetter {
  reason: DeadLetterReason
  actor?: string
  id?: string
  detail?: string
  at: number
}

export class DeadLetters {
  total = 0
  readonly byReason: Partial<Record<DeadLetterReason, number>> = {}
  private recentRing: Ring<DeadLetter>
  private readonly listeners = new Set<(d: DeadLetter) => void>()

  /** `onListenerError`: a listener threw (the system counts it as an incident) */
  constructor (readonly keep = 100, private readonly onListenerError: (err: unknown) => void = () => {}) {
    this.recentRing = new Ring<DeadLetter>(keep)
  }

  add (d: DeadLetter): void {
    this.total++
    this.byReason[d.reason] = (this.byReason[d.reason] ?? 0) + 1
    if (!this.recentRing.push(d)) {
      this.recentRing.shift()
      this.recentRing.push(d)
    }
    for (const l of this.listeners) {
      try {
        l(d)
      } catch (err) {
        // a listener's failure is its own: it must not crash the actor whose settle dead-lettered
        this.onListenerError(err)
      }
    }
  }

  /** the most recent dead letters, oldest first */
  recent (): DeadLetter[] {
    const all = this.recentRing.drain()
    for (const d of all) this.recentRing.push(d)
    return all
  }

  onDeadLetter (fn: (d: DeadLetter) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }
}
