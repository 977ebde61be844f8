/**
 * One clock timer for all deadlines. Items sit in a binary min-heap ordered by
 * deadline; the sweeper keeps a single timer armed for the earliest one. An
 * item settled before its deadline is not searched for: it is skipped when it
 * reaches the top (`isLive` says so), and the heap is compacted when stale
 * items outnumber live ones, so it never holds more than ~2× the live count.
 * No allocation per item beyond the heap slot: this sits on every ask's path.
 */
import type { Clock, TimerId } from './clock.js'

export interface Deadlined {
  readonly deadline: number
}

export class DeadlineSweeper<T extends Deadlined> {
  private heap: T[] = []
  private liveCount = 0
  private timer: TimerId | undefined
  private timerAt = Infinity

  constructor (
    private readonly clock: Clock,
    private readonly isLive: (item: T) => boolean,
    private readonly onExpire: (item: T) => void
  ) {}

  /** items added and not yet removed or expired */
  get size (): number {
    return this.liveCount
  }

  /** heap slots, stale ones included (bounded by ~2× size) */
  get heapSize (): number {
    return this.heap.length
  }

  add (item: T): void {
    this.liveCount++
    this.push(item)
    if (item.deadline < this.timerAt) this.arm(item.deadline)
  }

  /** Call after an added item stopped being live (isLive(item) is now false). */
  removed (): void {
    this.liveCount--
    if (this.liveCount === 0) {
      // Keep the armed timer: disarming and re-arming per ask would cost a
      // host timer per request; an idle firing finds nothing and disarms.
      this.heap.length = 0
    } else if (this.heap.length > 64 && this.heap.length > 2 * this.liveCount) {
      this.compact()
    }
  }

  /** Stop the timer and forget every deadline. */
  clear (): void {
    this.heap = []
    this.liveCount = 0
    if (this.timer !== undefined) this.clock.clearTimer(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
  }

  private fire (): void {
    this.timer = undefined
    this.timerAt = Infinity
    const now = this.clock.now()
    const expired: T[] = []
    for (;;) {
      const top = this.heap[0]
      if (top === undefined) break
      if (!this.isLive(top)) {
        this.pop()
        continue
      }
      if (top.deadline > now) break
      this.pop()
      expired.push(top)
    }
    const next = this.heap[0]
    if (next !== undefined) this.arm(next.deadline)
    // onExpire settles the item, which calls removed(); keep the heap consistent first
    for (const item of expired) this.onExpire(item)
  }

  private arm (at: number): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer)
    this.timerAt = at
    this.timer = this.clock.setTimer(at, () => { this.fire() })
  }

  private compact (): void {
    const kept = this.heap.filter(this.isLive)
    kept.sort((a, b) => a.deadline - b.deadline)
    this.heap = kept // a sorted array is a valid heap
  }

  private push (e: T): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = h[p] as T
      if (e.deadline >= parent.deadline) break
      h[i] = parent
      i = p
    }
    h[i] = e
  }

  private pop (): T | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (top === undefined || last === undefined || h.length === 0) return top
    let i = 0
    const n = h.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && (h[r] as T).deadline < (h[l] as T).deadline) c = r
      const child = h[c] as T
      if (child.deadline >= last.deadline) break
      h[i] = child
      i = c
    }
    h[i] = last
    return top
  }
}
