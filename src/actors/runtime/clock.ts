/**
 * The injected clock. Actor code reads time and sets timers only through this
 * interface, so the same code runs on real time or on a simulated clock (tests,
 * replay). Timer ids are issued in call order, which makes them stable across
 * a recording and its replay.
 *
 * Two notions of time:
 * - `now()` is monotonic: it never jumps, and timers, deadlines and durations
 *   are measured on it. Its origin is arbitrary (the process start, say).
 * - `wall()` is the date: milliseconds since the Unix epoch, following the
 *   host's clock steps (NTP, a user setting the time, a laptop waking from
 *   sleep). Everything that is a date uses it: record validity (EOL), created
 *   and received stamps, cache expiry by TTL against a record's EOL, dates
 *   shown to users.
 */

export type TimerId = number

export interface Clock {
  /** monotonic milliseconds (may be fractional): timers and durations */
  now(): number
  /** wall time: milliseconds since the Unix epoch, following clock steps: dates */
  wall(): number
  /** Call fn once when now() >= at (monotonic). Returns an id for clearTimer. */
  setTimer(at: number, fn: () => void): TimerId
  clearTimer(id: TimerId): void
}

interface SimTimer { id: TimerId, at: number, fn: () => void }

/**
 * A clock that only moves when told. `advance`/`advanceTo` fire due timers in
 * (time, id) order. With `autoFire: false` timers never fire by themselves:
 * the replayer fires each one by id when the trace says it fired.
 */
export class SimulatedClock implements Clock {
  private t: number
  /** wall() - now(): changed by stepWall / sleep, as a host's clock steps */
  private wallOffset: number
  private nextId = 1
  private readonly timers = new Map<TimerId, SimTimer>()

  /** `start`: the monotonic time; `wallStart`: the wall time then (default the same number) */
  constructor (start = 0, wallStart = start) {
    this.t = start
    this.wallOffset = wallStart - start
  }

  now (): number {
    return this.t
  }

  wall (): number {
    return this.t + this.wallOffset
  }

  /** The host's clock is stepped (NTP, a user): wall time jumps by deltaMs (either way), monotonic time does not. */
  stepWall (deltaMs: number): void {
    this.wallOffset += deltaMs
  }

  /**
   * The machine sleeps for ms and wakes: wall time moves on by ms, monotonic
   * time and timers do not (Linux's CLOCK_MONOTONIC, which Node's timers and
   * performance.now() run on, stops during suspend).
   */
  sleep (ms: number): void {
    this.wallOffset += ms
  }

  setTimer (at: number, fn: () => void): TimerId {
    const id = this.nextId++
    this.timers.set(id, { id, at, fn })
    return id
  }

  clearTimer (id: TimerId): void {
    this.timers.delete(id)
  }

  /** number of timers waiting */
  get pendingTimers (): number {
    return this.timers.size
  }

  /** ids of the timers waiting, in the order they were set */
  timerIds (): TimerId[] {
    return [...this.timers.keys()]
  }

  /** the earliest timer's time, or undefined */
  nextTimerAt (): number | undefined {
    let min: number | undefined
    for (const t of this.timers.values()) {
      if (min === undefined || t.at < min) min = t.at
    }
    return min
  }

  /** Set the time without firing anything (replay sets recorded times). */
  set (t: number): void {
    if (t > this.t) this.t = t
  }

  /** Fire one timer by id (replay). Returns false if no such timer is set. */
  fire (id: TimerId): boolean {
    const timer = this.timers.get(id)
    if (timer === undefined) return false
    this.timers.delete(id)
    if (timer.at > this.t) this.t = timer.at
    timer.fn()
    return true
  }

  /** Move time forward by ms, firing due timers in order. Returns how many fired. */
  advance (ms: number): number {
    return this.advanceTo(this.t + ms)
  }

  advanceTo (target: number): number {
    let fired = 0
    for (;;) {
      let due: SimTimer | undefined
      for (const timer of this.timers.values()) {
        if (timer.at <= target && (due === undefined || timer.at < due.at || (timer.at === due.at && timer.id < due.id))) due = timer
      }
      if (due === undefined) break
      this.timers.delete(due.id)
      if (due.at > this.t) this.t = due.at
      due.fn()
      fired++
    }
    if (target > this.t) this.t = target
    return fired
  }
}
