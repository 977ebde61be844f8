/**
 * When the republisher checks next: one timer (ctx.after, on the monotonic
 * clock) at the jittered interval, or sooner when a record comes within the
 * threshold of its EOL — how far that is, is measured on the wall clock,
 * since an EOL is a date — or soon after a start when something is due. The
 * time of the next check is reported as a date (`nextRunAt`).
 */
import type { ActorContext } from '../runtime/actor.js'
import type { Rng } from '../runtime/rng.js'
import type { RepublishSettings } from './republish-options.js'
import type { RepublishMsg } from './republish-run.js'

export class RepublishSchedule {
  /** the date (ms since the epoch) of the next check, or null while none is set */
  nextRunAt: number | null = null
  private gen = 0
  private cancelTimer: (() => void) | undefined

  constructor (
    private readonly ctx: ActorContext<RepublishMsg>,
    private readonly settings: Pick<RepublishSettings, 'intervalMs' | 'jitter' | 'thresholdMs' | 'startDelayMs'>,
    private readonly rng: Rng
  ) {}

  /** the next check: soon (startDelayMs), or the jittered interval, or sooner when one of these EOLs comes due before it */
  schedule (soon: boolean, eols: Iterable<number | undefined>): void {
    const now = this.ctx.clock.now()
    if (soon) {
      this.setTimer(now + this.settings.startDelayMs)
      return
    }
    const { intervalMs, jitter, thresholdMs } = this.settings
    let at = now + Math.round(intervalMs * (1 + jitter * (2 * this.rng.next() - 1)))
    const wall = this.ctx.clock.wall()
    for (const eol of eols) {
      if (eol === undefined) continue
      const dueAt = now + (eol - thresholdMs - wall)
      if (dueAt > now && dueAt < at) at = dueAt
    }
    this.setTimer(at)
  }

  /** no check is scheduled any more (a run starts, the actor stops) */
  clear (): void {
    this.cancelTimer?.()
    this.cancelTimer = undefined
    this.nextRunAt = null
  }

  /** a `tick` arrived: true when it is the current timer's (then the schedule is clear) */
  fired (gen: number): boolean {
    if (gen !== this.gen) return false
    this.cancelTimer = undefined
    this.nextRunAt = null
    return true
  }

  /** the next check at `at` on the monotonic clock; reported as a date */
  private setTimer (at: number): void {
    this.cancelTimer?.()
    const gen = ++this.gen
    const now = this.ctx.clock.now()
    this.nextRunAt = this.ctx.clock.wall() + Math.max(0, at - now)
    this.cancelTimer = this.ctx.after(Math.max(0, at - now), { type: 'tick', gen })
  }
}
