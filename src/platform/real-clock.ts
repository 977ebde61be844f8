/**
 * The real clock: monotonic time (performance.now(): fractional ms since the
 * process started; never steps), wall time (Date.now(): the epoch, follows
 * the host's clock steps) and host timers, which run on monotonic time.
 * It lives outside src/actors/ because it is the one place allowed to touch
 * ambient time; actors only ever see the Clock interface.
 */
import type { Clock, TimerId } from '../actors/runtime/clock.js'

export class RealClock implements Clock {
  private nextId = 1
  private readonly handles = new Map<TimerId, NodeJS.Timeout>()

  now (): number {
    return performance.now()
  }

  wall (): number {
    return Date.now()
  }

  setTimer (at: number, fn: () => void): TimerId {
    const id = this.nextId++
    this.arm(id, at, fn)
    return id
  }

  // Host timers run on the event loop's cached millisecond clock and can fire
  // a fraction of a millisecond before `at` by this clock: re-arm for the
  // remainder so a callback never sees now() < at (replay relies on it).
  private arm (id: TimerId, at: number, fn: () => void): void {
    const delay = Math.max(0, at - this.now())
    // deliberately ref'd: a host awaiting an ask must stay alive until its
    // deadline settles it; system.stop() clears every timer
    const handle = setTimeout(() => {
      if (this.now() < at) {
        this.arm(id, at, fn)
        return
      }
      this.handles.delete(id)
      fn()
    }, Math.ceil(delay))
    this.handles.set(id, handle)
  }

  clearTimer (id: TimerId): void {
    const handle = this.handles.get(id)
    if (handle !== undefined) {
      clearTimeout(handle)
      this.handles.delete(id)
    }
  }
}
