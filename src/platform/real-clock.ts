/**
 * The real clock: wall time in fractional milliseconds and host timers.
 * It lives outside src/actors/ because it is the one place allowed to touch
 * ambient time; actors only ever see the Clock interface.
 */
import type { Clock, TimerId } from '../actors/runtime/clock.js'

export class RealClock implements Clock {
  private nextId = 1
  private readonly handles = new Map<TimerId, NodeJS.Timeout>()
  private readonly origin = performance.timeOrigin

  now (): number {
    return this.origin + performance.now()
  }

  setTimer (at: number, fn: () => void): TimerId {
    const id = this.nextId++
    const delay = Math.max(0, at - this.now())
    const handle = setTimeout(() => {
      this.handles.delete(id)
      fn()
    }, Math.ceil(delay))
    // deliberately ref'd: a host awaiting an ask must stay alive until its
    // deadline settles it; system.stop() clears every timer
    this.handles.set(id, handle)
    return id
  }

  clearTimer (id: TimerId): void {
    const handle = this.handles.get(id)
    if (handle !== undefined) {
      clearTimeout(handle)
      this.handles.delete(id)
    }
  }
}
