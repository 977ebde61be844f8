/**
 * How long our GET_VALUE requests take to be answered, over the last
 * `capacity` answers of every lookup, and from that how long a lookup waits
 * for one request before it asks another peer too (the hedge).
 *
 * The hedge is twice the 90th percentile of recent answer times, within
 * [floorMs, ceilingMs]; until `minSamples` answers are in it is `initialMs`.
 * Under load answers queue and the percentile grows with them, so a busy
 * node hedges later and does not add requests to queues that are merely
 * long; a peer that is slow or silent while others answer is worked around
 * at once.
 */
export interface HedgePolicy {
  /** answers kept (a ring) */
  capacity: number
  /** answers needed before the percentile is used */
  minSamples: number
  initialMs: number
  floorMs: number
  ceilingMs: number
}

export const DEFAULT_HEDGE: HedgePolicy = { capacity: 256, minSamples: 16, initialMs: 1_000, floorMs: 100, ceilingMs: 5_000 }

export class AnswerTimes {
  private readonly ring: number[] = []
  private next = 0
  private readonly policy: HedgePolicy

  constructor (policy: Partial<HedgePolicy> = {}) {
    this.policy = { ...DEFAULT_HEDGE, ...policy }
  }

  record (ms: number): void {
    if (!(ms >= 0)) return
    if (this.ring.length < this.policy.capacity) this.ring.push(ms)
    else this.ring[this.next] = ms
    this.next = (this.next + 1) % this.policy.capacity
  }

  /** the wait after which a lookup asks another peer besides a request still unanswered */
  hedgeMs (): number {
    const { minSamples, initialMs, floorMs, ceilingMs } = this.policy
    if (this.ring.length < minSamples) return initialMs
    const sorted = [...this.ring].sort((a, b) => a - b)
    const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] ?? initialMs
    return Math.min(ceilingMs, Math.max(floorMs, 2 * p90))
  }

  get samples (): number {
    return this.ring.length
  }
}
