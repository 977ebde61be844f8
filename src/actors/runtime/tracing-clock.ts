/**
 * Wraps the system's clock while a trace is recorded: every timer firing is an
 * input of the trace (timer id, time, delivery position), so a replay can fire
 * the same timer at the same point. Timer ids are issued here, in call order,
 * and match the ids a SimulatedClock issues for the same calls on replay.
 */
import type { Clock, TimerId } from './clock.js'
import type { TraceSink } from './trace-events.js'

export class TracingClock implements Clock {
  private nextId = 1
  private readonly inner = new Map<TimerId, TimerId>()

  constructor (
    private readonly clock: Clock,
    private readonly trace: TraceSink,
    private readonly deliveries: () => number
  ) {}

  now (): number {
    return this.clock.now()
  }

  setTimer (at: number, fn: () => void): TimerId {
    const id = this.nextId++
    const inner = this.clock.setTimer(at, () => {
      this.inner.delete(id)
      this.trace.input({ type: 'timer', timer: id }, this.clock.now(), this.deliveries())
      fn()
    })
    this.inner.set(id, inner)
    return id
  }

  clearTimer (id: TimerId): void {
    const inner = this.inner.get(id)
    if (inner !== undefined) {
      this.clock.clearTimer(inner)
      this.inner.delete(id)
    }
  }
}
